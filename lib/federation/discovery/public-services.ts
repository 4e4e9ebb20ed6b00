import { isRecord } from '../../util/guards';
import type { Protocol } from '../wire/protocol';
import { meshIdentities, podsByNamespace, type PodSnapshot } from './pod-identities';
import { ALLOWED_TRUST_DOMAINS_ANNOTATION, compareStrings, toPublicService } from './public-service-value';

export { POD_JQ_FILTER, parsePodSnapshot } from './pod-identities';
export { ALLOWED_TRUST_DOMAINS_ANNOTATION, compareStrings, generatedPortName } from './public-service-value';

/**
 * Local public-service discovery: Services labelled `PUBLIC_SERVICE_LABEL` become the
 * `istio.internal.federation.publicServices` values that the metadata exporter publishes.
 */

export const PUBLIC_SERVICE_LABEL = 'federation.istio.deckhouse.io/public-service';

/**
 * The reference selects `federation.istio.deckhouse.io/public-service=` (empty value only).
 * We watch the label with any value, so that a Service labelled `=true` is reported as
 * ignored instead of silently missing, and export only those with the empty value.
 */
const PUBLIC_SERVICE_LABEL_VALUE = '';

/** What the jqFilter keeps of a Service: nothing else may re-run the hook. */
export const PUBLIC_SERVICE_JQ_FILTER = `{
  name: .metadata.name,
  namespace: .metadata.namespace,
  publicLabel: (.metadata.labels // {})["${PUBLIC_SERVICE_LABEL}"],
  ports: [(.spec.ports // [])[] | {name, port, protocol, appProtocol}],
  allowedTrustDomains: (.metadata.annotations // {})["${ALLOWED_TRUST_DOMAINS_ANNOTATION}"],
  selector: .spec.selector
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
