/**
 * When to fetch a federation, decided from its status and the clock alone, so the hook
 * keeps no state between runs and needs no status write to remember a successful fetch:
 *  - new federations, spec changes (generation != observedGeneration) and federations
 *    that were refused before are fetched at once, on any trigger;
 *  - failing federations wait for `status.fetchRetry.notBefore` (exponential backoff
 *    with jitter, written together with the failure);
 *  - healthy federations are fetched on the one schedule tick per refresh interval that
 *    falls into their slot: a phase derived from the name spreads peers over the interval.
 *
 * Default: every tick, every 2 s. The fetches are conditional (If-None-Match), so an
 * unchanged peer costs two 304s and no status write, and a change reaches the status
 * within a tick (tools/bench/fetch-tick.ts has the cost at 100 peers; README, Performance).
 */

export interface RefreshPolicy {
  /** Interval of the schedule binding ("fast tick"). */
  tickSeconds: number;
  /** How often a healthy federation is re-fetched. */
  refreshSeconds: number;
  backoffBaseSeconds: number;
  /**
   * Base after a refused token: at first contact the peer usually does not know us yet and
   * its admin (or its hooks) add us seconds later, so the retries start sooner. Measured in
   * the e2e: one 10 s round was most of the time to converge (README, Performance).
   */
  tokenRejectedBackoffBaseSeconds: number;
  /**
   * Cap after a refused token: the peer may add us any time (a deleted and recreated
   * IstioMulticluster, measured: up to 52 s of backoff before the fetch noticed), and asking
   * costs one small request.
   */
  tokenRejectedBackoffMaxSeconds: number;
  backoffMaxSeconds: number;
}

export const DEFAULT_REFRESH_POLICY: RefreshPolicy = {
  tickSeconds: 2,
  refreshSeconds: 2,
  backoffBaseSeconds: 10,
  tokenRejectedBackoffBaseSeconds: 2,
  tokenRejectedBackoffMaxSeconds: 30,
  backoffMaxSeconds: 300,
};

/**
 * `*LastFetchTimestamp` moves when the data changes or when it is this old (status/record.ts);
 * a fetch at that age is sent without If-None-Match so that it can (fetch/peer.ts).
 */
export const TIMESTAMP_HEARTBEAT_SECONDS = 600;

/** Environment variable (of addon-operator, inherited by hooks) that sets refreshSeconds. */
export const REFRESH_SECONDS_ENV = 'ISTIO_FEDERATION_REFRESH_SECONDS';

/**
 * The refresh policy, with `refreshSeconds` taken from the environment when it holds a whole
 * number of ticks between one tick and one hour; anything else keeps the default (a typo
 * must not turn the fetcher into a tight loop or a silent stop).
 */
export function refreshPolicyFromEnv(env: Record<string, string | undefined>): RefreshPolicy {
  const raw = env[REFRESH_SECONDS_ENV];
  if (raw === undefined || !/^\d+$/.test(raw)) return DEFAULT_REFRESH_POLICY;
  const seconds = Number(raw);
  const { tickSeconds } = DEFAULT_REFRESH_POLICY;
  if (seconds < tickSeconds || seconds > 3600 || seconds % tickSeconds !== 0) return DEFAULT_REFRESH_POLICY;
  return { ...DEFAULT_REFRESH_POLICY, refreshSeconds: seconds };
}

/** FNV-1a, 32 bit: a stable, well-spread hash for slots and jitter (no crypto needed). */
function fnv1a32(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

/** A deterministic number in [0, 1) seeded by `seed`: the same failure gets the same delay on every replay. */
export function seededUnit(seed: string): number {
  return fnv1a32(seed) / 2 ** 32;
}

/**
 * Backoff after the `failures`-th consecutive failure: base * 2^(n-1), capped, then "equal
 * jitter" into [d/2, d]. The base is the policy's, or its token-refusal base when the peer
 * refused our token.
 */
export function backoffSeconds(
  failures: number,
  policy: RefreshPolicy,
  random: number,
  tokenRejected = false,
): number {
  const exponent = Math.min(Math.max(failures, 1) - 1, 30);
  const base = tokenRejected ? policy.tokenRejectedBackoffBaseSeconds : policy.backoffBaseSeconds;
  const max = tokenRejected ? policy.tokenRejectedBackoffMaxSeconds : policy.backoffMaxSeconds;
  const ceiling = Math.min(max, base * 2 ** exponent);
  return Math.max(1, Math.round(ceiling / 2 + (ceiling / 2) * random));
}

/** Whether `now` is the tick of `name`'s slot within the refresh interval. */
export function inRefreshSlot(name: string, now: Date, policy: RefreshPolicy): boolean {
  const phase = fnv1a32(name) % policy.refreshSeconds;
  const seconds = Math.floor(now.getTime() / 1000);
  const offset =
    (((seconds - phase) % policy.refreshSeconds) + policy.refreshSeconds) % policy.refreshSeconds;
  return offset < policy.tickSeconds;
}

export type DueReason = 'new' | 'specChanged' | 'retry' | 'refresh';

export interface RefreshState {
  name: string;
  generation: number | undefined;
  observedGeneration: number | undefined;
  /** No MetadataFetched condition yet, or the federation was refused last time. */
  needsFirstFetch: boolean;
  /** Set while failing: the earliest time of the next attempt. */
  retryNotBefore: string | undefined;
}

/** Why the federation must be fetched in this run, or undefined when it is not due. */
export function fetchDueReason(
  state: RefreshState,
  now: Date,
  scheduled: boolean,
  policy: RefreshPolicy = DEFAULT_REFRESH_POLICY,
): DueReason | undefined {
  if (state.observedGeneration === undefined || state.needsFirstFetch) return 'new';
  if (state.generation !== undefined && state.generation !== state.observedGeneration) return 'specChanged';
  if (state.retryNotBefore !== undefined) {
    const notBefore = Date.parse(state.retryNotBefore);
    // An unreadable time (edited status) must not block retries forever.
    return !Number.isFinite(notBefore) || notBefore <= now.getTime() ? 'retry' : undefined;
  }
  return scheduled && inRefreshSlot(state.name, now, policy) ? 'refresh' : undefined;
}
