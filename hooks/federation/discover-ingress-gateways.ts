import { defineHook, kubernetesBinding } from '../../lib/hook-sdk';
import {
  GATEWAY_APP_LABEL,
  GATEWAY_NAMESPACE,
  GATEWAY_NODE_JQ_FILTER,
  GATEWAY_POD_JQ_FILTER,
  GATEWAY_SERVICE_JQ_FILTER,
  discoverIngressGateways,
  parseGatewayPod,
  parseGatewayService,
  parseNode,
  type Inlet,
} from '../../lib/federation/discovery/gateways';

// Runs in every mode, not only with federation: federation.json and multicluster.json
// publish the same gateways (templates/federation/metadata-exporter/documents.yaml).
const VALUES_PATH = 'istio.internal.federation.ingressGateways';
const inGatewayNamespace = { nameSelector: { matchNames: [GATEWAY_NAMESPACE] } };
const defined = <T>(v: T | undefined): v is T => v !== undefined;

export default defineHook({
  name: 'federation/discover-ingress-gateways',
  beforeHelm: 20,
  kubernetes: {
    gatewayServices: kubernetesBinding({
      apiVersion: 'v1',
      kind: 'Service',
      namespace: inGatewayNamespace,
      labelSelector: { matchLabels: GATEWAY_APP_LABEL },
      jqFilter: GATEWAY_SERVICE_JQ_FILTER,
      parse: parseGatewayService,
    }),
    gatewayPods: kubernetesBinding({
      apiVersion: 'v1',
      kind: 'Pod',
      namespace: inGatewayNamespace,
      labelSelector: { matchLabels: GATEWAY_APP_LABEL },
      jqFilter: GATEWAY_POD_JQ_FILTER,
      parse: parseGatewayPod,
    }),
    nodes: kubernetesBinding({
      apiVersion: 'v1',
      kind: 'Node',
      jqFilter: GATEWAY_NODE_JQ_FILTER,
      parse: parseNode,
    }),
  },
  run({ snapshots, values, log }) {
    const inlet = values.get<Inlet>('istio.alliance.ingressGateway.inlet') ?? 'LoadBalancer';
    const advertise = values.get<{ address: string; port: number }[]>(
      'istio.alliance.ingressGateway.advertise',
    );
    const { gateways, source, invalid } = discoverIngressGateways({
      inlet,
      advertise,
      services: snapshots.gatewayServices.filter(defined),
      pods: snapshots.gatewayPods,
      nodes: snapshots.nodes.filter(defined),
    });
    if (invalid.length) log.warn('ignored invalid gateway addresses', { source, invalid });
    if (gateways.length === 0)
      log.warn('no ingress gateway address found; peers cannot reach this cluster', { source });
    values.set(VALUES_PATH, gateways);
  },
});
