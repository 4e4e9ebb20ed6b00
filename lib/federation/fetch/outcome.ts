import type { PublicDocument } from '../wire/documents';
import type { FetchFailureReason } from './transport';

/**
 * What one fetch of one peer produced: for each document, the validated document or why
 * not. The fetcher (peer.ts) makes it; status/record.ts turns it into status.
 */

/** `AllItemsRejected`: refused items would have emptied the import (the last good data stays). */
export type FailureReason = FetchFailureReason | 'LocalIdentityMissing' | 'AllItemsRejected';

export interface FetchFailure {
  reason: FailureReason;
  message: string;
  /** The URL that failed. */
  endpoint: string;
}

/**
 * `etag`: the peer's validator of a document received in full. `notModified`: the peer
 * answered 304 to our If-None-Match, and `document` is the one we held.
 */
export type DocumentResult<T> =
  { ok: true; document: T; etag?: string; notModified?: boolean } | { ok: false; failure: FetchFailure };

/** `P`: the private document of the peer kind, as cached. */
export interface FetchOutcome<P> {
  public: DocumentResult<PublicDocument>;
  /** Absent when the public document failed (the private one needs its clusterUUID). */
  private?: DocumentResult<P> & { rejected?: string[] };
}

export interface TimedOutcome<P> {
  outcome: FetchOutcome<P>;
  durationMs: number;
}

/** The failure of an outcome, if any: the public document's first. */
export function outcomeFailure<P>(outcome: FetchOutcome<P>): FetchFailure | undefined {
  if (!outcome.public.ok) return outcome.public.failure;
  return outcome.private && !outcome.private.ok ? outcome.private.failure : undefined;
}
