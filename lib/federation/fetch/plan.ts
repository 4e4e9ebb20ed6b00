import { findCondition } from '../status/conditions';
import type { PeerTls } from './transport';
import { fetchDueReason, type DueReason, type RefreshPolicy } from './refresh';
import { REFUSAL_REASONS, type FederationStatus, type Refusal } from '../status/project';
import { CLUSTER_LOCAL } from '../wire/validate';

/** One IstioFederation as the fetch hook sees it (its jqFilter result, validated). */
export interface FederationSnapshot {
  name: string;
  generation: number | undefined;
  trustDomain: string;
  metadataEndpoint: string;
  tls: PeerTls;
  status: FederationStatus;
}

export type PlannedAction =
  { action: 'refuse'; refusal: Refusal } | { action: 'fetch'; why: DueReason } | { action: 'wait' };

export type PlanEntry = PlannedAction & { federation: FederationSnapshot };

/** Istio's default trust domain: a peer using it cannot be told apart from any other cluster. */

export interface PlanOptions {
  ownTrustDomain: string;
  now: Date;
  /** The run was triggered by the schedule (healthy federations are refreshed only then). */
  scheduled: boolean;
  policy?: RefreshPolicy;
  /**
   * Our own identity (clusterUUID, key pair) is not in values yet: a transient state at
   * module start. Due federations then wait instead of being fetched and recorded as
   * failures that would flap Ready; refusals do not depend on it and still apply.
   */
  holdFetches?: boolean;
}

/** Why a federation must not be fetched at all, or undefined. `firstByDomain` maps trust domain -> first federation name. */
export function refusalFor(
  federation: FederationSnapshot,
  ownTrustDomain: string,
  firstByDomain: ReadonlyMap<string, string>,
): Refusal | undefined {
  const domain = federation.trustDomain.toLowerCase();
  if (domain === ownTrustDomain.toLowerCase()) {
    return {
      reason: 'OwnTrustDomain',
      message: `trust domain ${federation.trustDomain} is this cluster's own domain; a cluster does not federate with itself`,
    };
  }
  if (domain === CLUSTER_LOCAL) {
    return {
      reason: 'ReservedTrustDomain',
      message: `trust domain ${CLUSTER_LOCAL} is Istio's default and cannot identify a peer; the peer needs a unique cluster domain`,
    };
  }
  const first = firstByDomain.get(domain);
  if (first !== undefined && first !== federation.name) {
    return {
      reason: 'DuplicateTrustDomain',
      message: `trust domain ${federation.trustDomain} is already federated by IstioFederation ${first}; this one is ignored`,
    };
  }
  return undefined;
}

/** Decides, for every federation, whether to refuse it, fetch it now or leave it until later. */
export function planFetches(federations: readonly FederationSnapshot[], options: PlanOptions): PlanEntry[] {
  const sorted = [...federations].sort((a, b) => a.name.localeCompare(b.name));
  const firstByDomain = new Map<string, string>();
  for (const f of sorted) {
    const domain = f.trustDomain.toLowerCase();
    if (!firstByDomain.has(domain)) firstByDomain.set(domain, f.name);
  }
  return sorted.map((federation): PlanEntry => {
    const refusal = refusalFor(federation, options.ownTrustDomain, firstByDomain);
    if (refusal) return { federation, action: 'refuse', refusal };
    const fetched = findCondition(federation.status.conditions, 'MetadataFetched');
    const why = fetchDueReason(
      {
        name: federation.name,
        generation: federation.generation,
        observedGeneration: federation.status.observedGeneration,
        needsFirstFetch: !fetched || REFUSAL_REASONS.includes(fetched.reason),
        retryNotBefore: federation.status.fetchRetry?.notBefore,
      },
      options.now,
      options.scheduled,
      options.policy,
    );
    return why && !options.holdFetches
      ? { federation, action: 'fetch', why }
      : { federation, action: 'wait' };
  });
}
