import type { PublicDocument } from '../wire/documents';
import type { FetchFailureReason } from './transport';

/**
 * What one fetch of one peer produced: for each document, the validated document or why
 * not. The fetcher (peer.ts) makes it; status/record.ts turns it into status.
 */

/**
 * `AllItemsRejected`: refused items would have emptied the import (the last good data stays).
 * `TokenRejected`: the peer answered 401 or 403 to our token on its private document.
 */
export type FailureReason =
  FetchFailureReason | 'LocalIdentityMissing' | 'AllItemsRejected' | 'TokenRejected';

export interface FetchFailure {
  reason: FailureReason;
  message: string;
  /** The URL that failed. */
  endpoint: string;
  /** The peer's HTTP status, when it answered with one other than 200 (HTTPError, TokenRejected). */
  status?: number;
}

/**
 * The HTTP status of a transport failure. The transport reports only a message
 * (`GET <url>: HTTP <status>`), so the status is read back from its end.
 */
export function httpStatusOfMessage(message: string): number | undefined {
  const match = /: HTTP (\d{3})$/.exec(message);
  return match ? Number(match[1]) : undefined;
}

/** What the peer's admin must create so that the peer accepts our token. */
export function tokenRejectedMessage(
  message: string,
  local: { trustDomain: string; clusterUUID?: string | undefined; metadataEndpoint?: string | undefined },
): string {
  return (
    `${message}: the peer rejected our token; its admin must create an IstioFederation with ` +
    `spec.trustDomain: ${local.trustDomain} and spec.metadataEndpoint: ` +
    `${local.metadataEndpoint ?? 'https://istio-metadata.<our public domain>/metadata/'} ` +
    `(our clusterUUID: ${local.clusterUUID ?? 'not set yet'}), and its fetch of our public document must succeed`
  );
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
