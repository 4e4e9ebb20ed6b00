import {
  applyConditions,
  findCondition,
  rfc3339,
  truncateMessage,
  type Condition,
  type ConditionInput,
} from './conditions';
import type { PublicDocument } from '../wire/documents';
import type { FetchFailureReason } from '../fetch/transport';
import { backoffSeconds, DEFAULT_REFRESH_POLICY, seededUnit, type RefreshPolicy } from '../fetch/refresh';
import type { CachedPrivateDocument } from '../wire/validate';
import { jsonEqual } from '../../util/deep-equal';

/**
 * IstioFederation status as the fetch hook owns it, and the pure functions that compute
 * the next one from (previous status, what happened, now).
 *
 * Write policy (no no-op writes): the status is patched only when it differs from the
 * previous one. A successful fetch that brings the same data changes nothing, except that
 * `*LastFetchTimestamp` is refreshed when the data changed or when the stored time is
 * older than `timestampHeartbeatSeconds` (10 min): the timestamps mean "last successful
 * fetch, exact when the data changed, otherwise at most 10 minutes old". Freshness while
 * failing is told by the MetadataFetched condition: False since its lastTransitionTime
 * (the first failed attempt), with the age of the data kept in force in its message.
 */

export interface MetadataCache {
  public?: PublicDocument;
  publicLastFetchTimestamp?: string;
  private?: CachedPrivateDocument;
  privateLastFetchTimestamp?: string;
}

/** Backoff state while a federation fails; absent when the last attempt succeeded. */
export interface FetchRetry {
  /** Consecutive failed attempts. */
  failures: number;
  /** RFC 3339: no attempt before this time (except on spec changes). */
  notBefore: string;
  /** The URL whose fetch failed last (the metric's `endpoint` label). */
  failedEndpoint: string;
}

export interface FederationStatus {
  observedGeneration?: number;
  metadataCache?: MetadataCache;
  conditions?: Condition[];
  importedServices?: number;
  lastError?: string;
  rejectedItems?: string[];
  fetchRetry?: FetchRetry;
}

/** The status keys this hook writes; anything else in status is left alone. */
export const OWNED_STATUS_KEYS = [
  'observedGeneration',
  'metadataCache',
  'conditions',
  'importedServices',
  'lastError',
  'rejectedItems',
  'fetchRetry',
] as const satisfies readonly (keyof FederationStatus)[];

export type FailureReason = FetchFailureReason | 'LocalIdentityMissing';

export interface FetchFailure {
  reason: FailureReason;
  message: string;
  /** The URL that failed. */
  endpoint: string;
}

export type DocumentResult<T> = { ok: true; document: T } | { ok: false; failure: FetchFailure };

export interface FetchOutcome {
  public: DocumentResult<PublicDocument>;
  /** Absent when the public document failed (the private one needs its clusterUUID). */
  private?: DocumentResult<CachedPrivateDocument> & { rejected?: string[] };
}

export type RefusalReason = 'OwnTrustDomain' | 'ReservedTrustDomain' | 'DuplicateTrustDomain';

export interface Refusal {
  reason: RefusalReason;
  message: string;
}

export const REFUSAL_REASONS: readonly string[] = [
  'OwnTrustDomain',
  'ReservedTrustDomain',
  'DuplicateTrustDomain',
] satisfies RefusalReason[];

export interface StatusContext {
  generation: number | undefined;
  now: Date;
  /** Seeds the backoff jitter (the federation name). */
  seed: string;
  /** `spec.metadataEndpoint`, for messages. */
  endpoint: string;
  policy?: RefreshPolicy;
  timestampHeartbeatSeconds?: number;
}

export const DEFAULT_TIMESTAMP_HEARTBEAT_SECONDS = 600;

export interface FetchStatusResult {
  status: FederationStatus;
  /** Set when the peer's clusterUUID differs from the cached one (accepted, but worth a log line). */
  clusterUUIDChange?: { from: string; to: string };
}

function refreshedTimestamp(
  previous: string | undefined,
  dataChanged: boolean,
  now: Date,
  heartbeatSeconds: number,
): string {
  if (!previous || dataChanged) return rfc3339(now);
  const at = Date.parse(previous);
  if (!Number.isFinite(at) || now.getTime() - at >= heartbeatSeconds * 1000) return rfc3339(now);
  return previous;
}

export function statusAfterFetch(
  previous: FederationStatus,
  outcome: FetchOutcome,
  context: StatusContext,
): FetchStatusResult {
  const { now } = context;
  const heartbeat = context.timestampHeartbeatSeconds ?? DEFAULT_TIMESTAMP_HEARTBEAT_SECONDS;
  const cache: MetadataCache = { ...previous.metadataCache };
  let clusterUUIDChange: FetchStatusResult['clusterUUIDChange'];
  if (outcome.public.ok) {
    const before = cache.public;
    if (before && before.clusterUUID !== outcome.public.document.clusterUUID) {
      clusterUUIDChange = { from: before.clusterUUID, to: outcome.public.document.clusterUUID };
    }
    cache.public = outcome.public.document;
    cache.publicLastFetchTimestamp = refreshedTimestamp(
      cache.publicLastFetchTimestamp,
      !jsonEqual(before, outcome.public.document),
      now,
      heartbeat,
    );
  }
  let rejectedItems = previous.rejectedItems;
  if (outcome.private?.ok) {
    const before = cache.private;
    cache.private = outcome.private.document;
    cache.privateLastFetchTimestamp = refreshedTimestamp(
      cache.privateLastFetchTimestamp,
      !jsonEqual(before, outcome.private.document),
      now,
      heartbeat,
    );
    rejectedItems = outcome.private.rejected ?? [];
  }

  const failure = !outcome.public.ok
    ? outcome.public.failure
    : outcome.private && !outcome.private.ok
      ? outcome.private.failure
      : undefined;
  const fetched = fetchedCondition(previous, cache, failure, context);
  const trust = trustCondition(cache, clusterUUIDChange);
  const services = servicesCondition(cache, rejectedItems ?? []);
  const status: FederationStatus = {
    ...(context.generation !== undefined ? { observedGeneration: context.generation } : {}),
    metadataCache: cache,
    conditions: applyConditions(
      previous.conditions,
      [fetched, trust, services, readyCondition([fetched, trust, services])],
      now,
      context.generation,
    ),
    importedServices: importedServiceCount(cache),
    ...(failure ? { lastError: truncateMessage(failure.message) } : {}),
    ...(rejectedItems?.length ? { rejectedItems } : {}),
    ...(failure ? { fetchRetry: nextRetry(retryBefore(previous, context), failure, context) } : {}),
  };
  return { status: dropEmptyCache(status), ...(clusterUUIDChange ? { clusterUUIDChange } : {}) };
}

/** A refused federation is not fetched and its cache is dropped, so nothing of it is imported. */
export function statusAfterRefusal(
  previous: FederationStatus,
  refusal: Refusal,
  context: Pick<StatusContext, 'generation' | 'now'>,
): FederationStatus {
  const conditions = (['MetadataFetched', 'TrustEstablished', 'ServicesImported', 'Ready'] as const).map(
    (type): ConditionInput => ({ type, status: 'False', reason: refusal.reason, message: refusal.message }),
  );
  return {
    ...(context.generation !== undefined ? { observedGeneration: context.generation } : {}),
    conditions: applyConditions(previous.conditions, conditions, context.now, context.generation),
    importedServices: 0,
    lastError: refusal.message,
  };
}

/** A spec change (new endpoint, CA...) deserves a fresh backoff. */
function retryBefore(previous: FederationStatus, context: StatusContext): FetchRetry | undefined {
  return previous.observedGeneration === context.generation ? previous.fetchRetry : undefined;
}

function nextRetry(
  previous: FetchRetry | undefined,
  failure: FetchFailure,
  context: StatusContext,
): FetchRetry {
  const failures = (previous?.failures ?? 0) + 1;
  const policy = context.policy ?? DEFAULT_REFRESH_POLICY;
  const delay = backoffSeconds(failures, policy, seededUnit(`${context.seed}/${failures}`));
  return {
    failures,
    notBefore: rfc3339(new Date(context.now.getTime() + delay * 1000)),
    failedEndpoint: failure.endpoint,
  };
}

function fetchedCondition(
  previous: FederationStatus,
  cache: MetadataCache,
  failure: FetchFailure | undefined,
  context: StatusContext,
): ConditionInput {
  if (!failure) {
    return {
      type: 'MetadataFetched',
      status: 'True',
      reason: 'Fetched',
      message: `public and private metadata fetched from ${context.endpoint}`,
    };
  }
  const before = findCondition(previous.conditions, 'MetadataFetched');
  const staleSince =
    before?.status === 'False' && !REFUSAL_REASONS.includes(before.reason)
      ? before.lastTransitionTime
      : rfc3339(context.now);
  const kept = cache.private
    ? `the metadata fetched at ${cache.privateLastFetchTimestamp ?? 'an unknown time'} stays in force (stale since ${staleSince})`
    : cache.public
      ? `only public metadata is cached (failing since ${staleSince})`
      : `no metadata cached yet (failing since ${staleSince})`;
  return {
    type: 'MetadataFetched',
    status: 'False',
    reason: failure.reason,
    message: `${failure.message}; ${kept}`,
  };
}

function trustCondition(
  cache: MetadataCache,
  change: FetchStatusResult['clusterUUIDChange'],
): ConditionInput {
  if (!cache.public) {
    return {
      type: 'TrustEstablished',
      status: 'False',
      reason: 'NoPublicMetadata',
      message: 'the peer public document (root CA, authn key) has not been fetched yet',
    };
  }
  if (change) {
    return {
      type: 'TrustEstablished',
      status: 'True',
      reason: 'ClusterUUIDChanged',
      message: `peer clusterUUID changed from ${change.from} to ${change.to} (a rebuilt cluster?); its new root CA and authn key are trusted`,
    };
  }
  return {
    type: 'TrustEstablished',
    status: 'True',
    reason: 'PeerTrusted',
    message: `root CA and authn key of cluster ${cache.public.clusterUUID} are trusted`,
  };
}

/** A port of this federation that the merge does not import because another federation defines it differently. */
export interface ImportConflictNote {
  hostname: string;
  port: number;
  message: string;
}

const MAX_CONFLICTS_IN_MESSAGE = 5;

/**
 * Re-derives ServicesImported and Ready with the import conflicts found across all
 * federations (merge.ts). `importedServices`, when given, is the merge's count for this
 * federation, so that the printer column and `d8_istio_federation_imported_services`
 * agree. Derived from the cache every time: the same data and conflicts always give the
 * same status (no write).
 */
export function withImportConflicts(
  status: FederationStatus,
  conflicts: readonly ImportConflictNote[],
  context: Pick<StatusContext, 'generation' | 'now'>,
  importedServices?: number,
  trustRefusal?: TrustRefusalNote,
): FederationStatus {
  const fetched = findCondition(status.conditions, 'MetadataFetched');
  const trust = findCondition(status.conditions, 'TrustEstablished');
  if (!fetched || !trust || REFUSAL_REASONS.includes(fetched.reason)) return status;
  // The merge decides who is trusted (merge.ts selectTrustedPeers); status says the same.
  const trustNow: ConditionInput = trustRefusal
    ? { type: 'TrustEstablished', status: 'False', ...trustRefusal }
    : trust;
  const services: ConditionInput = trustRefusal
    ? {
        type: 'ServicesImported',
        status: 'False',
        reason: 'PeerNotTrusted',
        message: 'services of a peer that is not trusted are not imported',
      }
    : servicesCondition(status.metadataCache ?? {}, status.rejectedItems ?? [], conflicts);
  const ready = readyCondition([fetched, trustNow, services]);
  return {
    ...status,
    conditions: applyConditions(
      status.conditions,
      [...(trustRefusal ? [trustNow] : []), services, ready],
      context.now,
      context.generation,
    ),
    ...(importedServices !== undefined ? { importedServices } : {}),
  };
}

/** Why the merge does not trust a peer whose own documents are fine (seen across federations). */
export interface TrustRefusalNote {
  reason: string;
  message: string;
}

/** Refusal reasons that only the cross-federation merge can see. */
export const MERGE_TRUST_REFUSALS: readonly string[] = [
  'DuplicateClusterUUID',
  'LocalClusterUUID',
  'InvalidPublicMetadata',
];

/**
 * For runs that do not recompute the merge (no cache changed, no federation event): the
 * previous ServicesImported (with its conflict note) and importedServices stay; Ready is
 * re-derived, since this run's fetch may have failed or recovered.
 */
export function withPreviousImportView(
  status: FederationStatus,
  previous: FederationStatus,
  context: Pick<StatusContext, 'generation' | 'now'>,
): FederationStatus {
  const fetched = findCondition(status.conditions, 'MetadataFetched');
  const trust = findCondition(status.conditions, 'TrustEstablished');
  const before = findCondition(previous.conditions, 'ServicesImported');
  if (!fetched || !trust || REFUSAL_REASONS.includes(fetched.reason)) return status;
  if (!before || REFUSAL_REASONS.includes(before.reason)) return status;
  const services: ConditionInput = {
    type: 'ServicesImported',
    status: before.status,
    reason: before.reason,
    message: before.message,
  };
  // A refusal the merge made stays until the merge runs again.
  const trustBefore = findCondition(previous.conditions, 'TrustEstablished');
  const trustNow: ConditionInput =
    trustBefore && MERGE_TRUST_REFUSALS.includes(trustBefore.reason)
      ? {
          type: 'TrustEstablished',
          status: trustBefore.status,
          reason: trustBefore.reason,
          message: trustBefore.message,
        }
      : trust;
  return {
    ...status,
    conditions: applyConditions(
      status.conditions,
      [trustNow, services, readyCondition([fetched, trustNow, services])],
      context.now,
      context.generation,
    ),
    ...(previous.importedServices !== undefined ? { importedServices: previous.importedServices } : {}),
  };
}

/** Whether the merge's view of this federation may differ between `previous` and `next`. */
export function importInputsChanged(previous: FederationStatus, next: FederationStatus): boolean {
  return (
    !jsonEqual(previous.metadataCache?.public, next.metadataCache?.public) ||
    !jsonEqual(previous.metadataCache?.private, next.metadataCache?.private) ||
    !jsonEqual(previous.rejectedItems ?? [], next.rejectedItems ?? [])
  );
}

function conflictNote(conflicts: readonly ImportConflictNote[]): string {
  if (!conflicts.length) return '';
  const shown = conflicts
    .slice(0, MAX_CONFLICTS_IN_MESSAGE)
    .map((c) => `${c.hostname}:${c.port} (${c.message})`)
    .join(', ');
  const more =
    conflicts.length > MAX_CONFLICTS_IN_MESSAGE
      ? ` and ${conflicts.length - MAX_CONFLICTS_IN_MESSAGE} more`
      : '';
  return `; ${conflicts.length} port(s) not imported because other federations define them differently: ${shown}${more}`;
}

function servicesCondition(
  cache: MetadataCache,
  rejected: readonly string[],
  conflicts: readonly ImportConflictNote[] = [],
): ConditionInput {
  const doc = cache.private;
  if (!doc) {
    return {
      type: 'ServicesImported',
      status: 'False',
      reason: 'NoPrivateMetadata',
      message: 'the peer private document (services, gateways) has not been fetched yet',
    };
  }
  const rejectedNote = rejected.length
    ? `; ${rejected.length} item(s) rejected, see status.rejectedItems`
    : '';
  if (doc.publicServices.length > 0 && doc.ingressGateways.length === 0) {
    return {
      type: 'ServicesImported',
      status: 'False',
      reason: 'NoGateways',
      message: `the peer publishes ${doc.publicServices.length} service(s) but no ingress gateway${rejectedNote}`,
    };
  }
  return {
    type: 'ServicesImported',
    status: 'True',
    reason: conflicts.length
      ? 'ImportConflicts'
      : doc.publicServices.length
        ? 'Imported'
        : 'NoPublicServices',
    message: `${doc.publicServices.length} service(s) via ${doc.ingressGateways.length} gateway(s)${rejectedNote}${conflictNote(conflicts)}`,
  };
}

function readyCondition(parts: readonly ConditionInput[]): ConditionInput {
  const blocking = parts.find((c) => c.status !== 'True');
  if (blocking) {
    return {
      type: 'Ready',
      status: 'False',
      reason: blocking.reason,
      message: `${blocking.type}: ${blocking.message}`,
    };
  }
  return {
    type: 'Ready',
    status: 'True',
    reason: 'Ready',
    message: 'metadata is current, trust and services are in place',
  };
}

function importedServiceCount(cache: MetadataCache): number {
  const doc = cache.private;
  return doc && doc.ingressGateways.length > 0 ? doc.publicServices.length : 0;
}

function dropEmptyCache(status: FederationStatus): FederationStatus {
  if (status.metadataCache && Object.keys(status.metadataCache).length === 0) {
    const { metadataCache: _empty, ...rest } = status;
    return rest;
  }
  return status;
}

/**
 * The JSON merge patch (RFC 7386) that turns the owned part of `previous` into `next`,
 * or undefined when nothing would change. Objects are diffed key by key (null deletes);
 * arrays and scalars are replaced whole.
 */
export function statusMergePatch(
  previous: FederationStatus,
  next: FederationStatus,
): Record<string, unknown> | undefined {
  const patch: Record<string, unknown> = {};
  for (const key of OWNED_STATUS_KEYS) {
    const diff = mergeDiff(previous[key], next[key]);
    if (diff !== NO_CHANGE) patch[key] = diff;
  }
  return Object.keys(patch).length ? patch : undefined;
}

const NO_CHANGE = Symbol('no change');

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function mergeDiff(before: unknown, after: unknown): unknown {
  if (jsonEqual(before, after)) return NO_CHANGE;
  if (after === undefined) return null;
  if (!isPlainObject(before) || !isPlainObject(after)) return after;
  const diff: Record<string, unknown> = {};
  for (const key of new Set([...Object.keys(before), ...Object.keys(after)])) {
    const d = mergeDiff(before[key], after[key]);
    if (d !== NO_CHANGE) diff[key] = d;
  }
  return diff;
}
