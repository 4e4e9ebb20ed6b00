/**
 * The requests a peer has in flight (long watches above all), so that revoking the peer
 * reaches them too: a token is verified once, when its request starts, and a watch may
 * stream for up to --max-request-duration. A request is ended when, at a reload of the
 * peers file, its peer is gone (`peer-removed`) or has another key than the one that verified
 * the token (`key-changed`: the signature would no longer verify), and when its token expires
 * while it streams (`token-expired`, at `exp` plus the verification's leeway: the instant
 * from which a new request with that token is refused).
 */
import type { VerifiedApiToken } from './auth';

export const REVOCATION_REASONS = ['peer-removed', 'key-changed', 'token-expired'] as const;
export type RevocationReason = (typeof REVOCATION_REASONS)[number];

/** setTimeout's longest delay (2^31-1 ms, ~24.8 days): longer expiries are re-armed. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export interface InFlightOptions {
  /** The accepted key of a peer now (the peers store), undefined when it is not a peer. */
  publicKey(clusterUUID: string): string | undefined;
  /** Seconds past `exp` a token stays valid (the verification's clock leeway). */
  expiryLeewaySeconds: number;
  /** Called once per peer and reason with the number of requests just ended. */
  onEnded(clusterUUID: string, reason: RevocationReason, requests: number): void;
  now?(): number;
}

interface Entry {
  token: VerifiedApiToken;
  end(reason: RevocationReason): void;
  timer?: NodeJS.Timeout;
}

export class InFlightRequests {
  private readonly entries = new Set<Entry>();
  private readonly now: () => number;

  constructor(private readonly options: InFlightOptions) {
    this.now = options.now ?? Date.now;
  }

  get size(): number {
    return this.entries.size;
  }

  /** Requests of `clusterUUID` in flight now. */
  countFor(clusterUUID: string): number {
    let count = 0;
    for (const entry of this.entries) if (entry.token.clusterUUID === clusterUUID) count++;
    return count;
  }

  /** Why a token verified earlier is no longer accepted now, if it is not. */
  verdict(token: VerifiedApiToken): RevocationReason | undefined {
    const key = this.options.publicKey(token.clusterUUID);
    if (key === undefined) return 'peer-removed';
    if (key.trim() !== token.authnKeyPub.trim()) return 'key-changed';
    if (this.now() >= this.deadline(token)) return 'token-expired';
    return undefined;
  }

  /**
   * Tracks a request until the returned function is called (when it ends, however it ends);
   * `end` is called at most once, after the request was untracked, to end it.
   */
  track(token: VerifiedApiToken, end: (reason: RevocationReason) => void): () => void {
    const entry: Entry = { token, end };
    this.entries.add(entry);
    this.armExpiry(entry);
    return () => this.untrack(entry);
  }

  /** After a reload of the peers: ends every request whose peer or key is no longer accepted. */
  revokeUnaccepted(): { clusterUUID: string; reason: RevocationReason; requests: number }[] {
    const ended = new Map<string, { clusterUUID: string; reason: RevocationReason; requests: number }>();
    for (const entry of [...this.entries]) {
      const reason = this.verdict(entry.token);
      if (reason === undefined || reason === 'token-expired') continue; // expiry has its own timer
      const key = `${entry.token.clusterUUID}\n${reason}`;
      const group = ended.get(key) ?? { clusterUUID: entry.token.clusterUUID, reason, requests: 0 };
      group.requests++;
      ended.set(key, group);
      this.endEntry(entry, reason);
    }
    for (const group of ended.values()) this.options.onEnded(group.clusterUUID, group.reason, group.requests);
    return [...ended.values()];
  }

  private deadline(token: VerifiedApiToken): number {
    return (token.exp + this.options.expiryLeewaySeconds) * 1000;
  }

  /** Never ends the request synchronously: `track` returns before any `end`. */
  private armExpiry(entry: Entry): void {
    const remaining = Math.max(0, this.deadline(entry.token) - this.now());
    entry.timer = setTimeout(
      () => {
        if (this.now() < this.deadline(entry.token)) return this.armExpiry(entry);
        if (this.endEntry(entry, 'token-expired'))
          this.options.onEnded(entry.token.clusterUUID, 'token-expired', 1);
      },
      Math.min(remaining, MAX_TIMER_MS),
    );
    entry.timer.unref?.();
  }

  private untrack(entry: Entry): boolean {
    clearTimeout(entry.timer);
    return this.entries.delete(entry);
  }

  private endEntry(entry: Entry, reason: RevocationReason): boolean {
    if (!this.untrack(entry)) return false;
    entry.end(reason);
    return true;
  }
}
