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

/**
 * IstioMulticluster only: the network this peer joined with (lib/multicluster/network-pin.ts).
 * Another IstioMulticluster that later claims it is refused (DuplicateNetwork) and this one
 * stays joined, whatever the creation order. A peer that changes its own network (no
 * conflict) is accepted: the pin moves, `since` moves, `previous` says what it was.
 */
export interface JoinedNetwork {
  networkName: string;
  /** RFC 3339: when this peer joined with this network. */
  since: string;
  /** The network it joined with before. */
  previous?: string;
}

/**
 * The gateway probe's last result (hooks/federation/probe-gateways.ts writes it; the fetch
 * hook only reads it, for GatewayReachable). Not an owned key: the fetch hook never patches it.
 */
export interface GatewayProbeStatus {
  /** Gateways (address, port) that answered. */
  reachable: number;
  /** Gateways dialled (documentation addresses are not). */
  total: number;
  /** The first failing gateways, with where and why the dial ended. */
  failing: { address: string; port: number; error: string }[];
  /** RFC 3339: when this result (counts and failing list) began. */
  since: string;
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
  /** IstioMulticluster's network pin (absent on IstioFederation). */
  joinedNetwork?: JoinedNetwork;
  /** Written by the probe hook, read-only here. */
  gatewayProbe?: GatewayProbeStatus;
}

/**
 * The status keys the fetch hook writes; anything else in status (`gatewayProbe`, the probe
 * hook's) is left alone: the status patch diffs these keys only.
 */
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
  'joinedNetwork',
] as const satisfies readonly (keyof PeerStatus<unknown>)[];
