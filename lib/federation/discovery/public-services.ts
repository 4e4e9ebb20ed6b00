import { DNS_NAME_PATTERN, isValidTrustDomain, PORT_NAME_PATTERN } from '../wire/documents';
import { detectProtocol, type Protocol } from '../wire/protocol';

/**
 * Local public-service discovery: Services labelled `PUBLIC_SERVICE_LABEL` become the
 * `istio.internal.federation.publicServices` values that the metadata exporter publishes.
 */

export const PUBLIC_SERVICE_LABEL = 'federation.istio.deckhouse.io/public-service';
export const ALLOWED_TRUST_DOMAINS_ANNOTATION = 'federation.istio.deckhouse.io/allowed-trust-domains';

/**
 * The reference selects `federation.istio.deckhouse.io/public-service=` (empty value only).
 * We watch the label with any value, so that a Service labelled `=true` is reported as
 * ignored instead of silently missing, and export only those with the empty value.
 */
export const PUBLIC_SERVICE_LABEL_VALUE = '';

/** What the jqFilter keeps of a Service: nothing else may re-run the hook. */
export const PUBLIC_SERVICE_JQ_FILTER = `{
  name: .metadata.name,
  namespace: .metadata.namespace,
  publicLabel: (.metadata.labels // {})["${PUBLIC_SERVICE_LABEL}"],
  ports: [(.spec.ports // [])[] | {name, port, protocol, appProtocol}],
  allowedTrustDomains: (.metadata.annotations // {})["${ALLOWED_TRUST_DOMAINS_ANNOTATION}"]
}`;

export interface ServicePortSnapshot {
  name?: string;
  port?: unknown;
  /** The Kubernetes transport protocol (TCP, UDP, SCTP). */
  transport?: string;
  appProtocol?: string;
}

export interface ServiceSnapshot {
  name: string;
  namespace: string;
  ports: ServicePortSnapshot[];
  /** The raw annotation value; undefined when the annotation is absent. */
  allowedTrustDomains?: string;
  /**
   * The public-service label's value. Only '' exports the Service; undefined means the
   * caller selected with the exact selector already.
   */
  publicLabel?: string;
}

/** A labelled Service that is not exported, and why (the metric's `reason`). */
export interface IgnoredService {
  service: string;
  reason: 'LabelValueNotEmpty';
}

export interface PublicServicePortValue {
  name: string;
  port: number;
  protocol: Protocol;
}

export interface PublicServiceValue {
  hostname: string;
  ports: PublicServicePortValue[];
  allowedTrustDomains?: string[];
}

export interface DiscoveryWarning {
  /** `<namespace>/<name>` of the Service. */
  service: string;
  message: string;
}

const optionalString = (v: unknown): string | undefined =>
  typeof v === 'string' && v !== '' ? v : undefined;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Boundary check of one filter result; never throws, an unusable item becomes undefined. */
export function parseServiceSnapshot(raw: unknown): ServiceSnapshot | undefined {
  if (!isRecord(raw)) return undefined;
  const name = optionalString(raw.name);
  const namespace = optionalString(raw.namespace);
  if (!name || !namespace) return undefined;
  const ports = (Array.isArray(raw.ports) ? raw.ports : [])
    .filter(isRecord)
    .map((p): ServicePortSnapshot => ({
      name: optionalString(p.name),
      port: p.port,
      transport: optionalString(p.protocol),
      appProtocol: optionalString(p.appProtocol),
    }));
  const allowed = typeof raw.allowedTrustDomains === 'string' ? raw.allowedTrustDomains : undefined;
  return {
    name,
    namespace,
    ports,
    ...(allowed !== undefined ? { allowedTrustDomains: allowed } : {}),
    ...(typeof raw.publicLabel === 'string' ? { publicLabel: raw.publicLabel } : {}),
  };
}

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

/** All exported Services, sorted by hostname; warnings name the Service they concern. */
export function buildPublicServices(
  services: readonly (ServiceSnapshot | undefined)[],
  clusterDomain: string,
): { publicServices: PublicServiceValue[]; warnings: DiscoveryWarning[]; ignored: IgnoredService[] } {
  const warnings: DiscoveryWarning[] = [];
  const ignored: IgnoredService[] = [];
  const byHostname = new Map<string, PublicServiceValue>();
  for (const service of services) {
    if (!service) continue;
    const ref = `${service.namespace}/${service.name}`;
    if (service.publicLabel !== undefined && service.publicLabel !== PUBLIC_SERVICE_LABEL_VALUE) {
      ignored.push({ service: ref, reason: 'LabelValueNotEmpty' });
      warnings.push({
        service: ref,
        message: `label ${PUBLIC_SERVICE_LABEL}=${JSON.stringify(service.publicLabel).slice(0, 70)} has a value; the Service is ignored (only the empty value, \`${PUBLIC_SERVICE_LABEL}=\`, makes a Service public, as in Deckhouse)`,
      });
      continue;
    }
    const value = toPublicService(service, clusterDomain, (message) =>
      warnings.push({ service: ref, message }),
    );
    if (value && !byHostname.has(value.hostname)) byHostname.set(value.hostname, value);
  }
  const publicServices = [...byHostname.values()].sort((a, b) => compareStrings(a.hostname, b.hostname));
  return { publicServices, warnings, ignored };
}
