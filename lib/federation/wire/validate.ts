import { checkGatewayAddress } from '../../net/address';
import { filterCaCertificates } from '../../pki/ca-certificates';
import { parseAuthnPublicKey } from '../identity/authn-keys';
import {
  validateIngressGateway,
  validatePrivateDocumentShape,
  validatePublicDocument,
  type IngressGateway,
  type Validation,
  type PublicDocument,
  type PublicService,
} from './documents';
import { checkPublicService } from './validate-service';

/**
 * Everything a remote cluster sends is checked here, when fetched and again when read back
 * from status (cached/read.ts; anyone may edit a status): shapes via the schemas of
 * documents.ts, then meaning: keys and certificates must parse (only re-encoded CA
 * certificates reach trust), gateway addresses are canonicalised and must be routable
 * (lib/net/address.ts), a peer may publish only hostnames inside its own trust domain. Bad items are
 * dropped one by one and named, so one mistake on the peer does not take its other
 * services down. One service's own checks: validate-service.ts.
 */

/** The private document as cached in status: lists always present, ports carry `protocol`. */
export interface CachedPrivateDocument {
  ingressGateways: IngressGateway[];
  publicServices: PublicService[];
}

export interface ValidatedPrivateDocument<D = CachedPrivateDocument> {
  document: D;
  /** Short, human-readable descriptions of refused items. */
  rejected: string[];
  /**
   * Set when refused items emptied a list the peer sent non-empty (every service, or every
   * gateway while services are published): such a document must not replace the last good
   * one (issue 10 item 5). A well-formed empty list is not "emptied".
   */
  emptied?: string;
}

/**
 * The error never quotes the body: parser messages (Bun's and V8's) copy its first token,
 * and a `file://` endpoint may point at a secret (a service-account token) whose text would
 * then land in `status.lastError`. Only the size and, when the parser gives one, the offset.
 */
export function parseJsonBody(body: Buffer): Validation<unknown> {
  try {
    return { ok: true, value: JSON.parse(body.toString('utf8')) as unknown };
  } catch (error) {
    const position = /\bposition (\d+)/.exec((error as Error).message)?.[1];
    const where = position !== undefined ? ` (syntax error at character ${position})` : '';
    return { ok: false, error: `not JSON: the ${body.length}-byte body does not parse${where}` };
  }
}

/**
 * The public document, its rootCA reduced to the CA certificates it holds, re-encoded
 * (lib/pki/ca-certificates.ts); `rejected` names the refused PEM blocks. Refused only
 * when no usable CA certificate is left.
 */
export function checkPublicDocument(
  raw: unknown,
  now: Date,
): { ok: true; value: PublicDocument; rejected?: string[] } | { ok: false; error: string } {
  const shape = validatePublicDocument(raw);
  if (!shape.ok) return shape;
  const { clusterUUID, authnKeyPub, rootCA } = shape.value;
  try {
    parseAuthnPublicKey(authnKeyPub);
  } catch (error) {
    return { ok: false, error: `public document authnKeyPub is unusable: ${(error as Error).message}` };
  }
  const ca = filterCaCertificates(rootCA, { now });
  const refused = capList(ca.refused.map((r) => `rootCA${r.startsWith('block') ? ' ' : ': '}${r}`));
  if (ca.pem === '')
    return {
      ok: false,
      error: `public document rootCA holds no usable CA certificate: ${refused.join('; ')}`,
    };
  // Only the known keys: anything else the peer adds does not travel into our status.
  return {
    ok: true,
    value: { clusterUUID, authnKeyPub, rootCA: ca.pem },
    ...(refused.length ? { rejected: refused } : {}),
  };
}

export interface HostnameScope {
  /** The peer's trust domain (`spec.trustDomain` of the federation). */
  peerTrustDomain: string;
  /** Ours (`global.discovery.clusterDomain`). */
  ownTrustDomain: string;
}

/** The domain no peer may publish into, whatever its trust domain: the default one. */
export const CLUSTER_LOCAL = 'cluster.local';

/**
 * The one owner of hostname scoping: a peer may only publish `<svc>.<ns>.svc.<its trust
 * domain>`, never a name inside our own domain or cluster.local (that would hijack local
 * traffic). Suffixes are computed once per peer, since the check runs per imported hostname.
 * The fetcher applies it at the boundary; the merge applies it again to whatever is in status.
 */
export function hostnameScopeChecker(scope: HostnameScope): (hostname: string) => string | undefined {
  const forbidden = [scope.ownTrustDomain.toLowerCase(), CLUSTER_LOCAL].filter((d) => d !== '');
  const forbiddenSuffixes = forbidden.map((d) => `.${d}`);
  const suffix = `.svc.${scope.peerTrustDomain.toLowerCase()}`;
  return (hostname) => {
    const lower = hostname.toLowerCase();
    for (let i = 0; i < forbidden.length; i++) {
      if (lower === forbidden[i] || lower.endsWith(forbiddenSuffixes[i]!))
        return `inside our own domain ${forbidden[i]}`;
    }
    if (!lower.endsWith(suffix)) return `outside *${suffix}`;
    const labels = lower.slice(0, -suffix.length).split('.');
    if (labels.length !== 2 || labels.some((l) => l.length === 0))
      return `not <service>.<namespace>${suffix}`;
    return undefined;
  };
}

const MAX_REJECTED_ITEMS = 50;

export function checkPrivateDocument(
  raw: unknown,
  scope: HostnameScope,
): Validation<ValidatedPrivateDocument> {
  const shape = validatePrivateDocumentShape(raw);
  if (!shape.ok) return shape;
  const rejected: string[] = [];
  const outOfScope = hostnameScopeChecker(scope);
  const ingressGateways = checkIngressGateways(shape.value.ingressGateways ?? [], scope, rejected);
  const publicServices: PublicService[] = [];
  const seenHostnames = new Set<string>();
  for (const [i, item] of (shape.value.publicServices ?? []).entries()) {
    const checked = checkPublicService(item, outOfScope, scope.peerTrustDomain);
    const label = `publicServices[${i}]${checked.hostname ? ` ${checked.hostname}` : ''}`;
    if (!checked.ok) {
      rejected.push(`${label}: ${checked.error}`);
      continue;
    }
    if (seenHostnames.has(checked.value.hostname)) {
      rejected.push(`${label}: duplicate hostname`);
      continue;
    }
    seenHostnames.add(checked.value.hostname);
    publicServices.push(checked.value);
  }
  // Canonical order (by hostname): the same services always make the same status.
  publicServices.sort((a, b) => (a.hostname < b.hostname ? -1 : a.hostname > b.hostname ? 1 : 0));
  const sentServices = shape.value.publicServices?.length ?? 0;
  const sentGateways = shape.value.ingressGateways?.length ?? 0;
  const emptied =
    sentServices > 0 && publicServices.length === 0
      ? `every one of the ${sentServices} published service(s) was refused`
      : sentGateways > 0 && ingressGateways.length === 0 && publicServices.length > 0
        ? `every one of the ${sentGateways} published ingress gateway(s) was refused`
        : undefined;
  return {
    ok: true,
    value: {
      document: { ingressGateways, publicServices },
      rejected: capList(rejected),
      ...(emptied ? { emptied } : {}),
    },
  };
}

/**
 * A peer's ingress gateways, item by item: shape, then the address policy of lib/net/address.ts
 * (canonicalised; loopback, metadata, our own names refused). Duplicates are dropped
 * silently, refused items named in `rejected`. Every peer kind's document uses it.
 */
export function checkIngressGateways(
  items: readonly unknown[],
  scope: Pick<HostnameScope, 'ownTrustDomain'>,
  rejected: string[],
): IngressGateway[] {
  const ingressGateways: IngressGateway[] = [];
  const seenGateways = new Set<string>();
  for (const [i, item] of items.entries()) {
    const gateway = validateIngressGateway(item);
    if (!gateway.ok) {
      rejected.push(`ingressGateways[${i}]: ${gateway.error}`);
      continue;
    }
    // Parsed and canonicalised: other spellings of loopback, metadata or our own names are refused.
    const address = checkGatewayAddress(gateway.value.address, { localClusterDomain: scope.ownTrustDomain });
    if (!address.ok) {
      rejected.push(`ingressGateways[${i}]: address ${address.reason}`);
      continue;
    }
    const key = `${address.address}:${gateway.value.port}`;
    if (seenGateways.has(key)) continue;
    seenGateways.add(key);
    ingressGateways.push({ address: address.address, port: gateway.value.port });
  }
  return ingressGateways;
}

export function capList(items: string[]): string[] {
  if (items.length <= MAX_REJECTED_ITEMS) return items;
  return [...items.slice(0, MAX_REJECTED_ITEMS), `... and ${items.length - MAX_REJECTED_ITEMS} more`];
}
