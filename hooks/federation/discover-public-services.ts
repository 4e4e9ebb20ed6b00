import { defineHook, kubernetesBinding } from '../../lib/hook-sdk';
import {
  PUBLIC_SERVICE_JQ_FILTER,
  PUBLIC_SERVICE_LABEL,
  buildPublicServices,
  parseServiceSnapshot,
} from '../../lib/federation/discovery/public-services';

const VALUES_PATH = 'istio.internal.federation.publicServices';

export default defineHook({
  name: 'federation/discover-public-services',
  beforeHelm: 20,
  kubernetes: {
    publicServices: kubernetesBinding({
      apiVersion: 'v1',
      kind: 'Service',
      labelSelector: { matchExpressions: [{ key: PUBLIC_SERVICE_LABEL, operator: 'Exists' }] },
      jqFilter: PUBLIC_SERVICE_JQ_FILTER,
      parse: parseServiceSnapshot,
    }),
  },
  run({ snapshots, values, log }) {
    const clusterDomain = values.get<string>('global.discovery.clusterDomain') ?? 'cluster.local';
    const { publicServices, warnings } = buildPublicServices(snapshots.publicServices, clusterDomain);
    for (const w of warnings) log.warn(w.message, { service: w.service });
    values.set(VALUES_PATH, publicServices);
  },
});
