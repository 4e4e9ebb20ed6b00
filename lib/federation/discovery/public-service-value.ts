import { DNS_NAME_PATTERN, isValidTrustDomain, PORT_NAME_PATTERN } from '../wire/documents';
import { detectProtocol, type Protocol } from '../wire/protocol';
import type { PublicServicePortValue, PublicServiceValue, ServiceSnapshot } from './public-services';

/** One labelled Service to the value the exporter publishes: hostname, ports, trust domains. */

export const ALLOWED_TRUST_DOMAINS_ANNOTATION = 'federation.istio.deckhouse.io/allowed-trust-domains';

const PORT_NAME = new RegExp(PORT_NAME_PATTERN);
const HOSTNAME = new RegExp(DNS_NAME_PATTERN);

/**
 * The annotation is a comma-separated list. An annotation that is present but lists no
 * valid domain yields `[]` (nobody may import): failing open would publish a service
 * its owner meant to restrict.
 */
export function parseAllowedTrustDomains(annotation: string): { domains: string[]; invalid: string[] } {
  const entries = annotation
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const valid = entries.filter((s) => isValidTrustDomain(s));
  return {
    domains: [...new Set(valid)].sort(compareStrings),
    invalid: entries.filter((s) => !isValidTrustDomain(s)),
  };
}

/**
 * A name for a port without one, derived from its protocol so that peers running the
 * reference implementation (which reads the protocol from the name prefix) agree with us;
 * the port number keeps it stable, a counter keeps it unique within the Service.
 */
export function generatedPortName(protocol: Protocol, port: number, taken: ReadonlySet<string>): string {
  const base = `${protocol.toLowerCase()}-${port}`;
  if (!taken.has(base)) return base;
  for (let i = 2; i <= taken.size + 2; i++) {
    const candidate = `${base}-${i}`;
    if (!taken.has(candidate)) return candidate;
  }
  // Unreachable: among taken.size + 1 candidates at least one is free.
  throw new Error(`no free port name for ${base}`);
}

export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function isValidPort(port: unknown): port is number {
  return typeof port === 'number' && Number.isInteger(port) && port >= 1 && port <= 65535;
}

/** One Service to its exported form, or undefined (with a warning) when nothing is exportable. */
export function toPublicService(
  service: ServiceSnapshot,
  clusterDomain: string,
  warn: (message: string) => void,
): PublicServiceValue | undefined {
  const hostname = `${service.name}.${service.namespace}.svc.${clusterDomain}`.toLowerCase();
  if (hostname.length > 253 || !HOSTNAME.test(hostname)) {
    warn(`hostname ${JSON.stringify(hostname)} is not a valid DNS name; the Service is not exported`);
    return undefined;
  }
  const seenPorts = new Set<number>();
  const accepted: { name?: string; port: number; protocol: Protocol }[] = [];
  for (const p of service.ports) {
    if (!isValidPort(p.port)) {
      warn(`port ${JSON.stringify(p.port)} is out of range; skipped`);
      continue;
    }
    if (p.transport && p.transport !== 'TCP') {
      warn(`port ${p.port} uses ${p.transport}; only TCP crosses the federation gateway; skipped`);
      continue;
    }
    if (seenPorts.has(p.port)) {
      warn(`port ${p.port} is listed twice; the first entry is exported`);
      continue;
    }
    seenPorts.add(p.port);
    let name = p.name;
    if (name !== undefined && !PORT_NAME.test(name)) {
      warn(`port name ${JSON.stringify(name)} is not a valid port name; a generated name is used`);
      name = undefined;
    }
    accepted.push({ name, port: p.port, protocol: detectProtocol({ name, appProtocol: p.appProtocol }) });
  }
  if (accepted.length === 0) {
    warn('the Service has no exportable port; it is not exported');
    return undefined;
  }
  const taken = new Set(accepted.flatMap((p) => (p.name ? [p.name] : [])));
  const ports = accepted.map((p): PublicServicePortValue => {
    if (p.name) return { name: p.name, port: p.port, protocol: p.protocol };
    const name = generatedPortName(p.protocol, p.port, taken);
    taken.add(name);
    warn(`port ${p.port} has no name; exported as ${name} (name the port to choose its protocol)`);
    return { name, port: p.port, protocol: p.protocol };
  });
  ports.sort((a, b) => a.port - b.port);

  let allowedTrustDomains: string[] | undefined;
  if (service.allowedTrustDomains !== undefined) {
    const parsed = parseAllowedTrustDomains(service.allowedTrustDomains);
    if (parsed.invalid.length) {
      warn(
        `annotation ${ALLOWED_TRUST_DOMAINS_ANNOTATION} has invalid trust domains ${JSON.stringify(parsed.invalid)}; ignored`,
      );
    }
    if (parsed.domains.length === 0) {
      warn(
        `annotation ${ALLOWED_TRUST_DOMAINS_ANNOTATION} lists no valid trust domain; no peer may import it`,
      );
    }
    allowedTrustDomains = parsed.domains;
  }
  return { hostname, ports, ...(allowedTrustDomains ? { allowedTrustDomains } : {}) };
}
