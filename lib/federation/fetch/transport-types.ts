import { MAX_DOCUMENT_BYTES } from '../wire/documents';

/** The bounds of one fetch (transport.ts) and what it produced. */

export interface FetchLimits {
  /** TCP connect. */
  connectTimeoutMs: number;
  /** TLS handshake, after the TCP connection is up. */
  tlsHandshakeTimeoutMs: number;
  /** Whole request: connect, handshake, headers and body. */
  requestTimeoutMs: number;
  maxBytes: number;
}

export const DEFAULT_FETCH_LIMITS: FetchLimits = {
  connectTimeoutMs: 5_000,
  tlsHandshakeTimeoutMs: 5_000,
  requestTimeoutMs: 10_000,
  maxBytes: MAX_DOCUMENT_BYTES,
};

export type FetchFailureReason =
  'Unreachable' | 'TLSError' | 'HTTPError' | 'Timeout' | 'TooLarge' | 'Redirect' | 'InvalidDocument';

/**
 * `etag`: the peer's validator for this body, when it sent a usable one. `notModified`: the
 * peer answered 304 to our If-None-Match, so the document we hold is current (body empty).
 */
export type FetchResult =
  | { ok: true; body: Buffer; etag?: string; notModified?: boolean }
  | {
      ok: false;
      reason: FetchFailureReason;
      message: string;
      /** HTTPError: the peer's status, and the start of its error body (printable, bounded). */
      status?: number;
      bodyExcerpt?: string;
    };
