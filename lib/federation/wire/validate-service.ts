import {
  validatePublicService,
  type PublicService,
  type PublicServicePort,
  SERVICE_ACCOUNT_PATTERN,
  spiffeIdentity,
  type Validation,
} from './documents';
import { protocolFromPortName } from './protocol';

/**
 * One service of a peer's private document (validate.ts, checkPrivateDocument): its shape,
 * its hostname in the peer's scope, its ports (unique numbers and names, a protocol each)
 * and its SPIFFE identities.
 */

const SERVICE_ACCOUNT = new RegExp(SERVICE_ACCOUNT_PATTERN);
/** What values (subjectAltNames) accept as a SPIFFE trust domain. */
const SPIFFE_TRUST_DOMAIN = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

/**
 * A service's identities: each must be `spiffe://<the peer's trust domain>/ns/<the
 * hostname's namespace>/sa/<service account>` (a peer may pin its hosts only to its own
 * workloads of that namespace). One bad identity refuses the service: importing it pinned
 * to the rest would refuse the pods that run as the bad one, unpinned would drop what the
 * peer asked for. Sorted and deduplicated; absent or empty: undefined (unpinned).
 */
function checkIdentities(
  raw: readonly string[] | null | undefined,
  hostname: string,
  peerTrustDomain: string,
): { ok: true; value: string[] | undefined } | { ok: false; error: string } {
  if (!raw || raw.length === 0) return { ok: true, value: undefined };
  if (!SPIFFE_TRUST_DOMAIN.test(peerTrustDomain.toLowerCase()))
    return { ok: false, error: `trust domain ${peerTrustDomain} is not usable in a SPIFFE identity` };
  const namespace = hostname.split('.')[1] ?? '';
  const prefix = spiffeIdentity(peerTrustDomain, namespace, '');
  for (const identity of raw) {
    const sa = identity.startsWith(prefix) ? identity.slice(prefix.length) : undefined;
    if (sa === undefined || !SERVICE_ACCOUNT.test(sa))
      return {
        ok: false,
        error: `identity ${JSON.stringify(identity.slice(0, 120))} is not ${prefix}<service account>`,
      };
  }
  return { ok: true, value: [...new Set(raw)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)) };
}
export function checkPublicService(
  raw: unknown,
  outOfScope: (hostname: string) => string | undefined,
  peerTrustDomain: string,
): Validation<PublicService> & { hostname?: string } {
  const hostname =
    typeof raw === 'object' && raw !== null && typeof (raw as { hostname?: unknown }).hostname === 'string'
      ? (raw as { hostname: string }).hostname.slice(0, 253)
      : undefined;
  const named = hostname ? { hostname } : {};
  const shape = validatePublicService(raw);
  if (!shape.ok) return { ...shape, ...named };
  const problem = outOfScope(shape.value.hostname);
  if (problem) return { ok: false, error: `hostname ${problem}`, ...named };
  const ports: PublicServicePort[] = [];
  const seenPorts = new Set<number>();
  const seenNames = new Set<string>();
  const rawPorts = shape.value.ports ?? [];
  for (const port of rawPorts) {
    if (seenPorts.has(port.port)) return { ok: false, error: `duplicate port ${port.port}`, ...named };
    seenPorts.add(port.port);
    // The name stays as the peer sent it ('' when unnamed): names for unnamed ports are
    // generated only where Istio needs them (import/ports.ts). A protocol the peer states
    // (schema-checked enum) wins; otherwise the reference's port-name rule decides.
    const name = port.name ?? '';
    // ServiceEntry port names must be unique within the host.
    if (name && seenNames.has(name)) return { ok: false, error: `duplicate port name ${name}`, ...named };
    seenNames.add(name);
    ports.push({ name, port: port.port, protocol: port.protocol ?? protocolFromPortName(name) });
  }
  if (ports.length === 0) return { ok: false, error: 'no ports', ...named };
  const identities = checkIdentities(shape.value.identities, shape.value.hostname, peerTrustDomain);
  if (!identities.ok) return { ...identities, ...named };
  return {
    ok: true,
    value: {
      hostname: shape.value.hostname,
      ports,
      ...(identities.value ? { identities: identities.value } : {}),
    },
    ...named,
  };
}
