import { isRecord } from '../../util/guards';
import { MAX_IDENTITIES_PER_SERVICE, SERVICE_ACCOUNT_PATTERN, spiffeIdentity } from '../wire/documents';
import type { ServiceSnapshot } from './public-services';
import { compareStrings } from './public-service-value';

/**
 * The pods behind a public Service: which of them are in the mesh (sidecar-injected) and
 * the SPIFFE identities they run as (public-services.ts exports only in-mesh Services).
 */

/** The label Istio's injector puts on a sidecar-injected pod; the gateway routes only to those. */
export const SIDECAR_LABEL = 'security.istio.io/tlsMode';
const SIDECAR_LABEL_VALUE = 'istio';

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

const optionalString = (v: unknown): string | undefined =>
  typeof v === 'string' && v !== '' ? v : undefined;

const SERVICE_ACCOUNT = new RegExp(SERVICE_ACCOUNT_PATTERN);

/** Pods by namespace, so that each Service scans only its own namespace. */
export function podsByNamespace(pods: readonly (PodSnapshot | undefined)[]): Map<string, PodSnapshot[]> {
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
