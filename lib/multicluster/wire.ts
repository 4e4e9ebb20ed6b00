import { isIP } from 'node:net';
import type { PrivateCodec } from '../federation/cached/read';
import { METADATA_PATHS, type IngressGateway, type Validation } from '../federation/wire/documents';
import { capList, checkIngressGateways, type HostnameScope } from '../federation/wire/validate';
import { isRecord, isString } from '../util/guards';

/**
 * The private multicluster document (Deckhouse's wire format, MULTICLUSTER.md §3):
 * `GET <metadataEndpoint>/private/multicluster.json` with a `private-multicluster` token,
 * `{"ingressGateways": [{address, port}], "apiHost": "<host[:port]>", "networkName": "..."}`.
 * Status form = wire form (status.metadataCache.private holds exactly these three keys).
 * Checked item by item, when fetched and again when read back from status: a bad gateway is
 * dropped and named; a MISSING apiHost or networkName is left empty (the peer is then not
 * usable yet: lib/multicluster/verdict.ts), a REFUSED one is named and, like every gateway
 * refused, keeps the last good document in force (`emptied`: one bad document from the remote
 * must not drop it from istiod); unknown keys (`clusterID`, `ambientGateways` of
 * newer Deckhouse peers) are tolerated and not kept.
 */

export const MULTICLUSTER_SCOPES = {
  /** The private document's token (60 s, fetch/peer.ts). */
  private: 'private-multicluster',
  /** The remote api-proxy's token (the probe's: 60 s; istiod's: lib/multicluster/token.ts). */
  api: 'api',
} as const;

export interface MulticlusterPrivateDocument {
  /** Canonicalised, routable (lib/net/address.ts), without duplicates; `[]` when none. */
  ingressGateways: IngressGateway[];
  /** `host` or `host:port` of the remote api-proxy; '' when missing (or refused in a cached status). */
  apiHost: string;
  /** The remote's Istio network (a label value); '' when missing (or refused in a cached status). */
  networkName: string;
}

/** A Kubernetes label value: at most 63 characters, alphanumeric at both ends. */
const LABEL_VALUE = /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const DNS_NAME = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*$/;

/**
 * Why `apiHost` is not a bare `host[:port]` (DNS name, IPv4 or `[IPv6]`, port 1-65535), or
 * undefined. No scheme, path, query, user info or whitespace: we build `https://<apiHost>`
 * from it. The address is NOT held to the gateway policy: a peer's api-proxy may well sit
 * on a private or (in tests) loopback address; only its syntax is ours to check.
 */
export function apiHostProblem(apiHost: string): string | undefined {
  if (apiHost.length > 261) return 'is longer than 261 characters';
  const match = /^(\[[0-9A-Fa-f:.]+\]|[^:[\]]+)(?::(\d{1,5}))?$/.exec(apiHost);
  if (!match) return 'is not host or host:port';
  const [, host, port] = match;
  if (port !== undefined && (Number(port) < 1 || Number(port) > 65535 || port.startsWith('0')))
    return `has an invalid port ${port}`;
  if (host!.startsWith('['))
    return isIP(host!.slice(1, -1)) === 6 ? undefined : 'has an invalid IPv6 address';
  const lower = host!.toLowerCase();
  if (isIP(lower) === 4 || (lower.length <= 253 && DNS_NAME.test(lower))) return undefined;
  return 'is neither a DNS name nor an IP address (no scheme, path or user info)';
}

export function networkNameProblem(networkName: string): string | undefined {
  return LABEL_VALUE.test(networkName)
    ? undefined
    : 'is not a label value (1-63 characters: alphanumerics, -, _, .)';
}

/** The most gateways one peer may publish, as for federation. */
const MAX_GATEWAYS = 64;

function checkText(
  raw: unknown,
  key: 'apiHost' | 'networkName',
  problemOf: (value: string) => string | undefined,
  rejected: string[],
): string {
  if (raw === undefined || raw === null || raw === '') return '';
  if (!isString(raw)) {
    rejected.push(`${key}: not a string`);
    return '';
  }
  const problem = problemOf(raw);
  if (!problem) return key === 'apiHost' ? raw.toLowerCase() : raw;
  rejected.push(`${key} ${JSON.stringify(raw.slice(0, 80))} ${problem}`);
  return '';
}

/**
 * The document, or why it is refused as a whole: not an object, or `ingressGateways` not a
 * list (a Deckhouse exporter sends null or omits it when its gateway discovery fails; the
 * last good document then stays). `emptied`: every gateway the peer sent was refused, or the
 * apiHost or networkName it sent was: the fetch keeps the last good document (AllItemsRejected).
 */
export function checkMulticlusterDocument(
  raw: unknown,
  scope: Pick<HostnameScope, 'ownTrustDomain'>,
): Validation<{ document: MulticlusterPrivateDocument; rejected: string[]; emptied?: string }> {
  if (!isRecord(raw)) return { ok: false, error: 'private document is not a JSON object' };
  const sent = raw.ingressGateways;
  if (!Array.isArray(sent))
    return { ok: false, error: 'private document ingressGateways must be a list (the peer sent none)' };
  if (sent.length > MAX_GATEWAYS)
    return { ok: false, error: `private document ingressGateways has more than ${MAX_GATEWAYS} items` };
  const rejected: string[] = [];
  const ingressGateways = checkIngressGateways(sent, scope, rejected);
  const apiHost = checkText(raw.apiHost, 'apiHost', apiHostProblem, rejected);
  const networkName = checkText(raw.networkName, 'networkName', networkNameProblem, rejected);
  const refusedText = [
    raw.apiHost !== undefined && raw.apiHost !== null && raw.apiHost !== '' && apiHost === ''
      ? 'apiHost'
      : '',
    raw.networkName !== undefined && raw.networkName !== null && raw.networkName !== '' && networkName === ''
      ? 'networkName'
      : '',
  ].filter(Boolean);
  const emptied =
    sent.length > 0 && ingressGateways.length === 0
      ? `every one of the ${sent.length} published ingress gateway(s) was refused`
      : refusedText.length
        ? `the published ${refusedText.join(' and ')} ${refusedText.length > 1 ? 'were' : 'was'} refused`
        : undefined;
  return {
    ok: true,
    value: {
      document: { ingressGateways, apiHost, networkName },
      rejected: capList(rejected),
      ...(emptied ? { emptied } : {}),
    },
  };
}

/** What the remote's admin must create so that it accepts our tokens (private document, api-proxy). */
export function multiclusterTokenRejectedMessage(
  message: string,
  local: { clusterUUID?: string | undefined; metadataEndpoint?: string | undefined },
): string {
  return (
    `${message}: the peer rejected our token; its admin must create an IstioMulticluster with ` +
    `spec.metadataEndpoint: ${local.metadataEndpoint ?? 'https://istio-metadata.<our public domain>/metadata/'} ` +
    `(our clusterUUID: ${local.clusterUUID ?? 'not set yet'}), and its fetch of our public document must succeed ` +
    `(a federation with us is not enough)`
  );
}

export const MULTICLUSTER_CODEC: PrivateCodec<MulticlusterPrivateDocument> = {
  path: METADATA_PATHS.privateMulticluster,
  scope: MULTICLUSTER_SCOPES.private,
  tokenRejectedMessage: multiclusterTokenRejectedMessage,
  validate: checkMulticlusterDocument,
  toStatus: (document) => document,
  fromStatus: (raw) => raw,
};
