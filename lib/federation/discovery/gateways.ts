import { isRecord } from '../../util/guards';
import { compareStrings } from './public-services';
import { isIpOrDnsName, type IngressGateway } from '../wire/documents';

/**
 * Where other clusters reach this cluster's federation ingress gateway, as in the
 * reference: an explicit advertise list, else the LoadBalancer ingress points, else the
 * `tls` nodePort on the nodes that run gateway pods.
 */

export const GATEWAY_NAMESPACE = 'd8-istio';
export const GATEWAY_APP_LABEL = { app: 'ingressgateway' };
export const GATEWAY_TLS_PORT_NAME = 'tls';

export type Inlet = 'LoadBalancer' | 'NodePort';

export const GATEWAY_SERVICE_JQ_FILTER = `{
  name: .metadata.name,
  loadBalancerIngress: [(.status.loadBalancer.ingress // [])[] | {ip, hostname}],
  ports: [(.spec.ports // [])[] | {name, port, nodePort}]
}`;

export const GATEWAY_POD_JQ_FILTER = `{
  nodeName: .spec.nodeName,
  phase: .status.phase,
  ready: ([(.status.conditions // [])[] | select(.type == "Ready") | .status == "True"] | any)
}`;

/** Only what decides eligibility and address: heartbeats and other status churn are left out. */
export const GATEWAY_NODE_JQ_FILTER = `{
  name: .metadata.name,
  ready: ([(.status.conditions // [])[] | select(.type == "Ready") | .status == "True"] | any),
  unschedulable: (.spec.unschedulable // false),
  addresses: [(.status.addresses // [])[] | select(.type == "ExternalIP" or .type == "InternalIP") | {type, address}]
}`;

export interface GatewayServiceSnapshot {
  name: string;
  loadBalancerIngress: { ip?: string; hostname?: string }[];
  ports: { name?: string; port?: number; nodePort?: number }[];
}

export interface GatewayPodSnapshot {
  nodeName?: string;
  phase?: string;
  ready: boolean;
}

export interface NodeSnapshot {
  name: string;
  ready: boolean;
  unschedulable: boolean;
  addresses: { type: 'ExternalIP' | 'InternalIP'; address: string }[];
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
const int = (v: unknown): number | undefined =>
  typeof v === 'number' && Number.isInteger(v) ? v : undefined;
const records = (v: unknown): Record<string, unknown>[] => (Array.isArray(v) ? v.filter(isRecord) : []);

export function parseGatewayService(raw: unknown): GatewayServiceSnapshot | undefined {
  if (!isRecord(raw) || !str(raw.name)) return undefined;
  return {
    name: str(raw.name)!,
    loadBalancerIngress: records(raw.loadBalancerIngress).map((i) => ({
      ip: str(i.ip),
      hostname: str(i.hostname),
    })),
    ports: records(raw.ports).map((p) => ({
      name: str(p.name),
      port: int(p.port),
      nodePort: int(p.nodePort),
    })),
  };
}

export function parseGatewayPod(raw: unknown): GatewayPodSnapshot {
  const r = isRecord(raw) ? raw : {};
  return { nodeName: str(r.nodeName), phase: str(r.phase), ready: r.ready === true };
}

export function parseNode(raw: unknown): NodeSnapshot | undefined {
  if (!isRecord(raw) || !str(raw.name)) return undefined;
  return {
    name: str(raw.name)!,
    ready: raw.ready === true,
    unschedulable: raw.unschedulable === true,
    addresses: records(raw.addresses).flatMap((a) => {
      const address = str(a.address);
      return address && (a.type === 'ExternalIP' || a.type === 'InternalIP')
        ? [{ type: a.type, address }]
        : [];
    }),
  };
}

function isValidGateway(g: { address?: string; port?: number }): g is IngressGateway {
  return (
    typeof g.address === 'string' &&
    isIpOrDnsName(g.address) &&
    typeof g.port === 'number' &&
    Number.isInteger(g.port) &&
    g.port >= 1 &&
    g.port <= 65535
  );
}

/** Sorted by address, then port; duplicates removed. */
export function sortGateways(gateways: readonly IngressGateway[]): IngressGateway[] {
  const unique = new Map(gateways.map((g) => [`${g.address}\u0000${g.port}`, g]));
  return [...unique.values()]
    .map((g) => ({ address: g.address, port: g.port }))
    .sort((a, b) => compareStrings(a.address, b.address) || a.port - b.port);
}

/**
 * Every ingress point of every gateway Service (IP preferred over hostname within one
 * point). The reference takes only the first; all of them give peers every path in.
 */
export function loadBalancerGateways(services: readonly GatewayServiceSnapshot[]): IngressGateway[] {
  return services.flatMap((svc) => {
    const tls = svc.ports.find((p) => p.name === GATEWAY_TLS_PORT_NAME);
    if (tls?.port === undefined) return [];
    return svc.loadBalancerIngress.flatMap((i) => {
      const address = i.ip ?? i.hostname;
      return address ? [{ address, port: tls.port! }] : [];
    });
  });
}

/** A node's address for peers: its first ExternalIP, else its first InternalIP. */
export function nodeAddress(node: NodeSnapshot): string | undefined {
  return (
    node.addresses.find((a) => a.type === 'ExternalIP')?.address ??
    node.addresses.find((a) => a.type === 'InternalIP')?.address
  );
}

/**
 * Nodes that carry gateway traffic (externalTrafficPolicy Local): nodes with a Ready,
 * Running gateway pod; when no pod is Ready (a rollout), nodes with a Running one, so that
 * the published list does not flap to empty. Unschedulable and not-Ready nodes are skipped.
 */
export function gatewayNodes(
  pods: readonly GatewayPodSnapshot[],
  nodes: readonly NodeSnapshot[],
): NodeSnapshot[] {
  const running = pods.filter((p) => p.nodeName && p.phase === 'Running');
  const ready = running.filter((p) => p.ready);
  const names = new Set((ready.length ? ready : running).map((p) => p.nodeName));
  return nodes.filter((n) => names.has(n.name) && n.ready && !n.unschedulable);
}

export function nodePortGateways(
  services: readonly GatewayServiceSnapshot[],
  pods: readonly GatewayPodSnapshot[],
  nodes: readonly NodeSnapshot[],
): IngressGateway[] {
  const ports = services.flatMap((svc) => {
    const nodePort = svc.ports.find((p) => p.name === GATEWAY_TLS_PORT_NAME)?.nodePort;
    return nodePort === undefined ? [] : [nodePort];
  });
  const addresses = gatewayNodes(pods, nodes).flatMap((n) => {
    const a = nodeAddress(n);
    return a ? [a] : [];
  });
  return addresses.flatMap((address) => ports.map((port) => ({ address, port })));
}

export interface GatewayDiscoveryInput {
  inlet: Inlet;
  advertise?: readonly { address: string; port: number }[] | undefined;
  services: readonly GatewayServiceSnapshot[];
  pods: readonly GatewayPodSnapshot[];
  nodes: readonly NodeSnapshot[];
}

export function discoverIngressGateways(input: GatewayDiscoveryInput): {
  gateways: IngressGateway[];
  source: 'advertise' | Inlet;
  invalid: { address?: string; port?: number }[];
} {
  const [candidates, source]: [{ address?: string; port?: number }[], 'advertise' | Inlet] = input.advertise
    ?.length
    ? [[...input.advertise], 'advertise']
    : input.inlet === 'NodePort'
      ? [nodePortGateways(input.services, input.pods, input.nodes), 'NodePort']
      : [loadBalancerGateways(input.services), 'LoadBalancer'];
  const valid = candidates.filter(isValidGateway);
  return {
    gateways: sortGateways(valid),
    source,
    invalid: candidates.filter((g) => !isValidGateway(g)),
  };
}
