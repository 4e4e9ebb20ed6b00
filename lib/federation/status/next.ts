import type { CachedPeer, PrivateCodec } from '../cached/read';
import type { TimedOutcome } from '../fetch/outcome';
import type { PlanEntry } from '../fetch/plan';
import type { RefreshPolicy } from '../fetch/refresh';
import type { ImportLimits } from '../import/verdict';
import type { PeerKind } from '../kind';
import type { LocalCluster } from '../trust/select';
import { mergePatchOf } from '../../util/merge-patch';
import { recordFetch, type RecordedFetch } from './record';
import { OWNED_STATUS_KEYS, type PeerStatus } from './types';

/**
 * The fetch hook's decision after its fetches, in one direction: record each outcome
 * (status/record.ts), decide the verdict over all peers with their new caches (the kind's
 * import step, the same the merge hook runs), project it onto every status
 * (status/project.ts) and diff against the status read (the patch to write).
 */

export interface NextStatus<P> {
  entry: PlanEntry<P>;
  next: PeerStatus<P>;
  /** The status merge patch, undefined when nothing changes. */
  patch: Record<string, unknown> | undefined;
  /** This run's fetch, if the peer was fetched. */
  fetch?: { timed: TimedOutcome<P>; recorded: RecordedFetch<P> };
}

export interface NextStatusOptions {
  local: LocalCluster;
  policy?: RefreshPolicy;
  limits?: ImportLimits | undefined;
  /** `istio.federation.enabled` is false (import/verdict.ts). */
  disabled?: boolean;
}

export function nextStatuses<P, V extends { federations: ReadonlyMap<string, PV> }, PV>(
  kind: PeerKind<P, V, PV>,
  plan: readonly PlanEntry<P>[],
  outcomes: ReadonlyMap<string, TimedOutcome<P>>,
  options: NextStatusOptions,
): { statuses: NextStatus<P>[]; verdict: V } {
  const { now } = options.local;
  const recorded = plan.map((entry) => {
    const { peer } = entry;
    const timed = outcomes.get(peer.name);
    if (entry.action !== 'fetch' || !timed) return { entry, status: peer.status };
    const result = recordFetch(peer.status, timed.outcome, {
      generation: peer.generation,
      now,
      seed: peer.name,
      endpoint: peer.metadataEndpoint,
      ...(options.policy ? { policy: options.policy } : {}),
    });
    return { entry, status: result.status, fetch: { timed, recorded: result } };
  });
  const peers: CachedPeer<P>[] = recorded.map(({ entry, status }) => ({ ...entry.peer, status }));
  const verdict = kind.decide(peers, options.local, { limits: options.limits, disabled: options.disabled });
  const statuses = recorded.map(({ entry, status, fetch }): NextStatus<P> => {
    const peerVerdict = verdict.federations.get(entry.peer.name);
    const next = peerVerdict
      ? kind.project(status, peerVerdict, {
          generation: entry.peer.generation,
          now,
          fetched: fetch?.timed.outcome.public.ok === true,
        })
      : status;
    return { entry, next, patch: statusPatch(kind, entry.peer, next), ...(fetch ? { fetch } : {}) };
  });
  return { statuses, verdict };
}

/** The merge patch from the peer's stored status to `next` (undefined: nothing to write). */
export function statusPatch<P>(
  kind: { codec: PrivateCodec<P> },
  peer: CachedPeer<P>,
  next: PeerStatus<P>,
): Record<string, unknown> | undefined {
  return mergePatchOf(
    // Against what is stored when reading dropped items from it, so they go (read.ts).
    (peer.storedStatus as PeerStatus<unknown> | undefined) ?? statusForm(kind, peer, peer.status),
    statusForm(kind, peer, next),
    OWNED_STATUS_KEYS,
  );
}

/** The status as written: the private document in the kind's status form. */
function statusForm<P>(
  kind: { codec: PrivateCodec<P> },
  peer: CachedPeer<P>,
  status: PeerStatus<P>,
): PeerStatus<unknown> {
  const cache = status.metadataCache;
  if (!cache?.private) return status;
  return {
    ...status,
    metadataCache: { ...cache, private: kind.codec.toStatus(cache.private, peer.trustDomain) },
  };
}
