import { jsonEqual } from '../../util/deep-equal';
import { outcomeFailure, type FetchFailure, type FetchOutcome } from '../fetch/outcome';
import {
  backoffSeconds,
  DEFAULT_REFRESH_POLICY,
  seededUnit,
  TIMESTAMP_HEARTBEAT_SECONDS,
  type RefreshPolicy,
} from '../fetch/refresh';
import { isTrustDomainRefusal } from '../trust/refusals';
import { applyConditions, findCondition, rfc3339, truncateMessage, type ConditionInput } from './conditions';
import type { FetchRetry, MetadataCache, PeerStatus } from './types';

/**
 * Records one fetch outcome in a peer's status: the cache, its timestamps, rejected items,
 * the error and backoff, and the MetadataFetched condition. Everything the verdict decides
 * (trust, imports, Ready) is projected afterwards (status/project.ts).
 *
 * Write policy (no no-op writes): a successful fetch that brings the same data changes
 * nothing, except that `*LastFetchTimestamp` is refreshed when the data changed or when the
 * stored time is older than `timestampHeartbeatSeconds` (10 min). Freshness while failing is
 * told by MetadataFetched: False since its lastTransitionTime (the first failed attempt),
 * with the age of the data kept in force in its message.
 */

export interface FetchContext {
  generation: number | undefined;
  now: Date;
  /** Seeds the backoff jitter (the peer name). */
  seed: string;
  /** `spec.metadataEndpoint`, for messages. */
  endpoint: string;
  policy?: RefreshPolicy;
  timestampHeartbeatSeconds?: number;
}

export interface RecordedFetch<P> {
  status: PeerStatus<P>;
}

export function recordFetch<P>(
  previous: PeerStatus<P>,
  outcome: FetchOutcome<P>,
  context: FetchContext,
): RecordedFetch<P> {
  const { now } = context;
  const heartbeat = context.timestampHeartbeatSeconds ?? TIMESTAMP_HEARTBEAT_SECONDS;
  const cache: MetadataCache<P> = { ...previous.metadataCache };
  // ETags validate what one endpoint served: a spec change (maybe another server) drops them.
  if (previous.observedGeneration !== context.generation) {
    delete cache.publicETag;
    delete cache.privateETag;
  }
  // Not modified (304): the held document, its timestamp and ETag stay as they are.
  if (outcome.public.ok && !outcome.public.notModified) {
    const before = cache.public;
    cache.public = outcome.public.document;
    cache.publicLastFetchTimestamp = timestamp(
      cache.publicLastFetchTimestamp,
      !jsonEqual(before, cache.public),
      now,
      heartbeat,
    );
    setETag(cache, 'publicETag', outcome.public.etag);
  }
  let rejectedItems = previous.rejectedItems;
  if (outcome.private?.ok && !outcome.private.notModified) {
    const before = cache.private;
    cache.private = outcome.private.document;
    cache.privateLastFetchTimestamp = timestamp(
      cache.privateLastFetchTimestamp,
      !jsonEqual(before, cache.private),
      now,
      heartbeat,
    );
    setETag(cache, 'privateETag', outcome.private.etag);
  }
  // What the peer's last private document had refused, also when that emptied it (a 304
  // is asked only when the public side did not change either: the list stays exact).
  if ((outcome.private?.ok && !outcome.private.notModified) || outcome.private?.rejected) {
    rejectedItems = outcome.private.rejected ?? [];
  }
  const failure = outcomeFailure(outcome);
  const { lastError: _lastError, fetchRetry: _fetchRetry, rejectedItems: _rejected, ...kept } = previous;
  const status: PeerStatus<P> = {
    ...kept,
    ...(context.generation !== undefined ? { observedGeneration: context.generation } : {}),
    ...(Object.keys(cache).length ? { metadataCache: cache } : {}),
    conditions: applyConditions(
      previous.conditions,
      [fetchedCondition(previous, cache, failure, context)],
      now,
      context.generation,
    ),
    ...(failure ? { lastError: truncateMessage(failure.message) } : {}),
    ...(rejectedItems?.length ? { rejectedItems } : {}),
    ...(failure ? { fetchRetry: nextRetry(retryBefore(previous, context), failure, context) } : {}),
  };
  return { status };
}

function setETag<P>(
  cache: MetadataCache<P>,
  key: 'publicETag' | 'privateETag',
  etag: string | undefined,
): void {
  if (etag) cache[key] = etag;
  else delete cache[key];
}

function timestamp(
  previous: string | undefined,
  changed: boolean,
  now: Date,
  heartbeatSeconds: number,
): string {
  if (!previous || changed) return rfc3339(now);
  const at = Date.parse(previous);
  if (!Number.isFinite(at) || now.getTime() - at >= heartbeatSeconds * 1000) return rfc3339(now);
  return previous;
}

/** A spec change (new endpoint, CA...) deserves a fresh backoff. */
function retryBefore<P>(previous: PeerStatus<P>, context: FetchContext): FetchRetry | undefined {
  return previous.observedGeneration === context.generation ? previous.fetchRetry : undefined;
}

function nextRetry(
  previous: FetchRetry | undefined,
  failure: FetchFailure,
  context: FetchContext,
): FetchRetry {
  const failures = (previous?.failures ?? 0) + 1;
  const policy = context.policy ?? DEFAULT_REFRESH_POLICY;
  const delay = backoffSeconds(
    failures,
    policy,
    seededUnit(`${context.seed}/${failures}`),
    failure.reason === 'TokenRejected',
  );
  return {
    failures,
    notBefore: rfc3339(new Date(context.now.getTime() + delay * 1000)),
    failedEndpoint: failure.endpoint,
  };
}

function fetchedCondition<P>(
  previous: PeerStatus<P>,
  cache: MetadataCache<P>,
  failure: FetchFailure | undefined,
  context: FetchContext,
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
    before?.status === 'False' && !isTrustDomainRefusal(before.reason)
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
