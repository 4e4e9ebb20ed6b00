import type { CachedPeer } from '../cached/read';
import { findCondition } from '../status/conditions';
import {
  isTrustDomainRefusal,
  trustDomainRefusals,
  type Refusal,
  type TrustDomainPolicy,
} from '../trust/refusals';
import { fetchDueReason, type DueReason, type RefreshPolicy } from './refresh';

export type PlannedAction =
  { action: 'refuse'; refusal: Refusal } | { action: 'fetch'; why: DueReason } | { action: 'wait' };

export type PlanEntry<P> = PlannedAction & { peer: CachedPeer<P> };

export interface PlanOptions {
  ownTrustDomain: string;
  /** The peer kind's (kind.ts): federation's by default. */
  trustDomains?: TrustDomainPolicy;
  now: Date;
  /** The run was triggered by the schedule (healthy peers are refreshed only then). */
  scheduled: boolean;
  policy?: RefreshPolicy;
  /**
   * Our own identity (clusterUUID, key pair) is not in values yet: a transient state at
   * module start. Due peers then wait instead of being fetched and recorded as failures
   * that would flap Ready; refusals do not depend on it and still apply.
   */
  holdFetches?: boolean;
}

/**
 * Decides, for every peer, whether to refuse it (trust/refusals.ts: its trust domain can
 * never be federated), fetch it now or leave it until later (fetch/refresh.ts). In name
 * order; every due peer is fetched at once (fetch/peer.ts), so order does not delay anyone.
 */
export function planFetches<P>(peers: readonly CachedPeer<P>[], options: PlanOptions): PlanEntry<P>[] {
  const refusals = (options.trustDomains ?? trustDomainRefusals)(peers, options.ownTrustDomain);
  const sorted = [...peers].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return sorted.map((peer): PlanEntry<P> => {
    const refusal = refusals.get(peer.name);
    if (refusal) return { peer, action: 'refuse', refusal };
    const fetched = findCondition(peer.status.conditions, 'MetadataFetched');
    const why = fetchDueReason(
      {
        name: peer.name,
        generation: peer.generation,
        observedGeneration: peer.status.observedGeneration,
        needsFirstFetch: !fetched || isTrustDomainRefusal(fetched.reason),
        retryNotBefore: peer.status.fetchRetry?.notBefore,
      },
      options.now,
      options.scheduled,
      options.policy,
    );
    return why && !options.holdFetches ? { peer, action: 'fetch', why } : { peer, action: 'wait' };
  });
}
