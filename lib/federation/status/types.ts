import type { PublicDocument } from '../wire/documents';
import type { Condition } from './conditions';

/**
 * A peer's status as the fetch hook owns it (IstioFederation today; a second peer kind
 * has the same shape with its own private document `P`).
 */

export interface MetadataCache<P> {
  public?: PublicDocument;
  publicLastFetchTimestamp?: string;
  /** The peer's ETag of `public`, sent back as If-None-Match; absent for peers that send none. */
  publicETag?: string;
  private?: P;
  privateLastFetchTimestamp?: string;
  /** The peer's ETag of `private` as the peer sent it. */
  privateETag?: string;
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

/**
 * The identity (clusterUUID and authn key) this peer established, recorded when it was first
 * trusted: a later federation claiming the same clusterUUID is refused (trust/select.ts).
 * A peer that changes identity is accepted; `since` moves and `previous` says what it was.
 */
export interface TrustedIdentity {
  clusterUUID: string;
  /** SHA-256 (hex) of the authnKeyPub PEM. */
  authnKeySha256: string;
  /** RFC 3339: when this identity was first trusted. */
  since: string;
  previous?: { clusterUUID: string; authnKeySha256: string };
}

export interface PeerStatus<P> {
  observedGeneration?: number;
  metadataCache?: MetadataCache<P>;
  conditions?: Condition[];
  importedServices?: number;
  /** The Services printer column: `importedServices`, and what the import limit dropped. */
  services?: string;
  lastError?: string;
  rejectedItems?: string[];
  fetchRetry?: FetchRetry;
  trustedIdentity?: TrustedIdentity;
}

/** The status keys the fetch hook writes; anything else in status is left alone. */
export const OWNED_STATUS_KEYS = [
  'observedGeneration',
  'metadataCache',
  'conditions',
  'importedServices',
  'services',
  'lastError',
  'rejectedItems',
  'fetchRetry',
  'trustedIdentity',
] as const satisfies readonly (keyof PeerStatus<unknown>)[];
