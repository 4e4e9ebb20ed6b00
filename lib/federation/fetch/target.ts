import type { PeerStatus } from '../status/types';
import type { PublicDocument } from '../wire/documents';
import { TIMESTAMP_HEARTBEAT_SECONDS } from './refresh';
import type { PeerTls } from './tls';

/** One peer as the fetch sees it, and the validators (ETags) we hold for its documents. */

export interface PeerTarget<P = unknown> {
  name: string;
  trustDomain: string;
  metadataEndpoint: string;
  tls: PeerTls;
  /** With the status read: the cached documents and their ETags make the requests conditional. */
  generation?: number | undefined;
  status?: Pick<PeerStatus<P>, 'observedGeneration' | 'metadataCache'>;
}

/**
 * The ETags to send as If-None-Match, each only with the document it validates, fetched
 * under the current spec (a spec change may point at another server), and not older than
 * the timestamp heartbeat: that fetch goes unconditional, so `*LastFetchTimestamp` (and the
 * last-success metric) still move every TIMESTAMP_HEARTBEAT_SECONDS, as without ETags.
 */
export function heldValidators<P>(
  target: PeerTarget<P>,
  now: Date,
): { public?: { etag: string; document: PublicDocument }; private?: { etag: string; document: P } } {
  const status = target.status;
  const cache = status?.metadataCache;
  if (!cache || target.generation === undefined || status?.observedGeneration !== target.generation)
    return {};
  const fresh = (at: string | undefined): boolean => {
    const time = Date.parse(at ?? '');
    return (
      Number.isFinite(time) &&
      time <= now.getTime() &&
      now.getTime() - time < TIMESTAMP_HEARTBEAT_SECONDS * 1000
    );
  };
  return {
    ...(cache.public && cache.publicETag && fresh(cache.publicLastFetchTimestamp)
      ? { public: { etag: cache.publicETag, document: cache.public } }
      : {}),
    ...(cache.private !== undefined && cache.privateETag && fresh(cache.privateLastFetchTimestamp)
      ? { private: { etag: cache.privateETag, document: cache.private } }
      : {}),
  };
}
