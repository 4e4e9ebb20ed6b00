import type { BatchApp } from '../lib/hook-sdk';
import ensureCrds from './crds/ensure-crds';
import authnKeypair from './federation/authn-keypair';
import discoverIngressGateways from './federation/discover-ingress-gateways';
import discoverPublicServices from './federation/discover-public-services';
import discoverRootCA from './federation/discover-root-ca';
import fetchMetadata from './federation/fetch-metadata';
import mergeFederations from './federation/merge-federations';
import probeGateways from './federation/probe-gateways';
import mergeMulticlusters from './multicluster/merge-multiclusters';
import multiclusterFetchMetadata from './multicluster/fetch-metadata';

/** Every hook of the module; a hook's index here is its id in `hook run <index>`. */
export const app: BatchApp = {
  valuesKey: 'istio',
  hooks: [
    authnKeypair,
    discoverPublicServices,
    discoverIngressGateways,
    discoverRootCA,
    mergeFederations,
    fetchMetadata,
    ensureCrds,
    probeGateways,
    mergeMulticlusters,
    multiclusterFetchMetadata,
  ],
};
