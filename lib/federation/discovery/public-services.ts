import {
  DNS_NAME_PATTERN,
  isValidTrustDomain,
  MAX_IDENTITIES_PER_SERVICE,
  PORT_NAME_PATTERN,
  SERVICE_ACCOUNT_PATTERN,
  spiffeIdentity,
} from '../wire/documents';
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
  allowedTrustDomains: (.metadata.annotations // {})["${ALLOWED_TRUST_DOMAINS_ANNOTATION}"],
  selector: .spec.selector
}`;

/** The label Istio's injector puts on a sidecar-injected pod; the gateway routes only to those. */
export const SIDECAR_LABEL = 'security.istio.io/tlsMode';
export const SIDECAR_LABEL_VALUE = 'istio';

/**
 * What the Pod jqFilter keeps: what selects a pod (namespace, labels), its identity
 * (service account) and whether it finished (Succeeded/Failed). Other status changes, IPs
 * and the rest never re-run the hook.
 */
export const POD_JQ_FILTER = `{
  namespace: .metadata.namespace,
  labels: (.metadata.labels // {}),
  serviceAccount: .spec.serviceAccountName,
  finished: ((.status.phase // "") | IN("Succeeded", "Failed"))
}`;

export interface PodSnapshot {
  namespace: string;
  labels: Record<string, string>;
  /** `spec.serviceAccountName`; Kubernetes defaults it to `default`. */
  serviceAccount: string;
  /** Succeeded or Failed: it will never serve again, so it does not count. */
  finished?: boolean;
}

/** Boundary check of one Pod filter result; never throws. */
export function parsePodSnapshot(raw: unknown): PodSnapshot | undefined {
  if (!isRecord(raw)) return undefined;
  const namespace = optionalString(raw.namespace);
  if (!namespace) return undefined;
  const labels: Record<string, string> = {};
  if (isRecord(raw.labels))
    for (const [k, v] of Object.entries(raw.labels)) if (typeof v === 'string') labels[k] = v;
  return {
    namespace,
    labels,
    serviceAccount: optionalString(raw.serviceAccount) ?? 'default',
    ...(raw.finished === true ? { finished: true } : {}),
  };
}

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
  /** `spec.selector`; undefined or empty: the Service selects no pod (manual endpoints). */
  selector?: Record<string, string>;
}

/**
 * Why a labelled Service is not exported (the metric's `reason`): a label value other than
 * empty; no selected pod is sidecar-injected (or the Service has no selector), so the
 * federation gateway has no endpoint for it; or it selects no pod at all yet.
 */
export type IgnoredReason = 'LabelValueNotEmpty' | 'NotInMesh' | 'NoPods';
export const IGNORED_REASONS: readonly IgnoredReason[] = ['LabelValueNotEmpty', 'NotInMesh', 'NoPods'];

/** A labelled Service that is not exported, and why. */
export interface IgnoredService {
  service: string;
  reason: IgnoredReason;
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
  /** SPIFFE identities of the injected pods it selects (sorted); absent when over the bound. */
  identities?: string[];
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
  const selector: Record<string, string> = {};
  if (isRecord(raw.selector))
    for (const [k, v] of Object.entries(raw.selector)) if (typeof v === 'string') selector[k] = v;
  return {
    name,
    namespace,
    ports,
    ...(Object.keys(selector).length ? { selector } : {}),
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

const SERVICE_ACCOUNT = new RegExp(SERVICE_ACCOUNT_PATTERN);

/** Pods by namespace, so that each Service scans only its own namespace. */
function podsByNamespace(pods: readonly (PodSnapshot | undefined)[]): Map<string, PodSnapshot[]> {
  const index = new Map<string, PodSnapshot[]>();
  for (const pod of pods) {
    if (!pod) continue;
    const list = index.get(pod.namespace);
    if (list) list.push(pod);
    else index.set(pod.namespace, [pod]);
  }
  return index;
}

/**
 * Where a Service stands in the mesh: the identities of the sidecar-injected pods it
 * selects (the only pods the federation gateway routes to), or why it is unreachable.
 */
export function meshIdentities(
  service: ServiceSnapshot,
  pods: readonly PodSnapshot[],
  trustDomain: string,
):
  | { ok: true; identities: string[] | undefined; note?: string }
  | { ok: false; reason: 'NotInMesh' | 'NoPods'; message: string } {
  const selector = Object.entries(service.selector ?? {});
  if (selector.length === 0)
    return {
      ok: false,
      reason: 'NotInMesh',
      message:
        'the Service has no selector: its endpoints are no sidecar-injected pods, so the federation gateway cannot reach it; not exported',
    };
  const selected = pods.filter((p) => !p.finished && selector.every(([k, v]) => p.labels[k] === v));
  if (selected.length === 0)
    return {
      ok: false,
      reason: 'NoPods',
      message:
        'the Service selects no pod (yet); not exported until a sidecar-injected pod runs (it would be unreachable and unpinned)',
    };
  const injected = selected.filter((p) => p.labels[SIDECAR_LABEL] === SIDECAR_LABEL_VALUE);
  if (injected.length === 0)
    return {
      ok: false,
      reason: 'NotInMesh',
      message: `none of the ${selected.length} pod(s) it selects is sidecar-injected (label ${SIDECAR_LABEL}=${SIDECAR_LABEL_VALUE}): the federation gateway cannot reach it; not exported`,
    };
  const accounts = [...new Set(injected.map((p) => p.serviceAccount))].filter((sa) =>
    SERVICE_ACCOUNT.test(sa),
  );
  const identities = accounts
    .map((sa) => spiffeIdentity(trustDomain, service.namespace, sa))
    .sort(compareStrings);
  if (identities.length > MAX_IDENTITIES_PER_SERVICE)
    return {
      ok: true,
      identities: undefined,
      note: `its pods run as ${identities.length} service accounts, over ${MAX_IDENTITIES_PER_SERVICE}: exported without identities (peers import it unpinned)`,
    };
  return { ok: true, identities };
}

/** All exported Services, sorted by hostname; warnings name the Service they concern. */
export function buildPublicServices(
  services: readonly (ServiceSnapshot | undefined)[],
  clusterDomain: string,
  pods: readonly (PodSnapshot | undefined)[],
): { publicServices: PublicServiceValue[]; warnings: DiscoveryWarning[]; ignored: IgnoredService[] } {
  const warnings: DiscoveryWarning[] = [];
  const ignored: IgnoredService[] = [];
  const byHostname = new Map<string, PublicServiceValue>();
  const podIndex = podsByNamespace(pods);
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
    const mesh = meshIdentities(service, podIndex.get(service.namespace) ?? [], clusterDomain);
    if (!mesh.ok) {
      ignored.push({ service: ref, reason: mesh.reason });
      warnings.push({ service: ref, message: mesh.message });
      continue;
    }
    if (mesh.note) warnings.push({ service: ref, message: mesh.note });
    const value = toPublicService(service, clusterDomain, (message) =>
      warnings.push({ service: ref, message }),
    );
    if (value && mesh.identities?.length) value.identities = mesh.identities;
    if (value && !byHostname.has(value.hostname)) byHostname.set(value.hostname, value);
  }
  const publicServices = [...byHostname.values()].sort((a, b) => compareStrings(a.hostname, b.hostname));
  return { publicServices, warnings, ignored };
}
