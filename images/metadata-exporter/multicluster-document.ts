// The private multicluster document as this cluster publishes it (Deckhouse's wire shape,
// ../shared/MULTICLUSTER.md §3), validated when the exporter loads it from the chart's Secret.
import {
  validateIngressGateway,
  type IngressGateway,
  type Validation,
} from '../../lib/federation/wire/documents';
import { isRecord } from '../../lib/util/guards';

/** `GET /metadata/private/multicluster.json`, scope `private-multicluster`. */
export interface MulticlusterDocument {
  /** Always a list (`[]` when none): a Deckhouse peer rejects a missing or null list. */
  ingressGateways: IngressGateway[];
  /** Where peers reach our api-proxy: a host or host:port, no scheme, no path. */
  apiHost: string;
  /** Our network (`network-<cluster id>`), the label our pods and gateway carry. */
  networkName: string;
}

/**
 * A host name, an IPv4 address or a bracketed IPv6 address, with an optional port (1-65535).
 * The setting `multicluster.apiHost` (openapi/config-values.yaml) uses the same pattern.
 */
export const API_HOST_PATTERN =
  /^(\[[0-9a-fA-F:.]+\]|[a-zA-Z0-9]([-a-zA-Z0-9]{0,61}[a-zA-Z0-9])?(\.[a-zA-Z0-9]([-a-zA-Z0-9]{0,61}[a-zA-Z0-9])?)*)(:([1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5]))?$/;

/** A Kubernetes label value (what `topology.istio.io/network` holds). */
const NETWORK_NAME_PATTERN = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

/** Our own document: every field must be there and well-formed, else the whole set is refused. */
export function parseMulticlusterDocument(raw: unknown): Validation<MulticlusterDocument> {
  if (!isRecord(raw)) return { ok: false, error: 'must be an object' };
  const { ingressGateways, apiHost, networkName } = raw;
  if (!Array.isArray(ingressGateways)) return { ok: false, error: 'ingressGateways must be a list' };
  const gateways: IngressGateway[] = [];
  for (const [index, item] of ingressGateways.entries()) {
    const gateway = validateIngressGateway(item);
    if (!gateway.ok) return { ok: false, error: `ingressGateways[${index}]: ${gateway.error}` };
    gateways.push({ address: gateway.value.address, port: gateway.value.port });
  }
  if (typeof apiHost !== 'string' || apiHost.length > 260 || !API_HOST_PATTERN.test(apiHost))
    return { ok: false, error: 'apiHost must be a host or host:port' };
  if (typeof networkName !== 'string' || networkName.length > 253 || !NETWORK_NAME_PATTERN.test(networkName))
    return { ok: false, error: 'networkName must be a label value' };
  return { ok: true, value: { ingressGateways: gateways, apiHost, networkName } };
}
