import type { tokenRejectedMessage } from '../fetch/outcome';
import type { PeerTls } from '../fetch/tls';
import { entityTagOf } from '../fetch/transport';
import type { Condition, ConditionStatus } from '../status/conditions';
import { readGatewayProbe } from '../status/gateway';
import type { FetchRetry, MetadataCache, PeerStatus, TrustedIdentity } from '../status/types';
import { validatePublicDocument } from '../wire/documents';
import type { HostnameScope, ValidatedPrivateDocument } from '../wire/validate';
import type { METADATA_PATHS, Validation } from '../wire/documents';
import { isCount, isRecord, isString, type JsonRecord } from '../../util/guards';

/**
 * Reading a cached peer: the ONE function both hooks use to turn a peer object's spec and
 * status (their jqFilter result) into a typed value. The status is ours, but anyone with
 * write access can edit it: every cached item goes through the same per-item validation as
 * a fetched one (the peer kind's private-document validator); a bad item is dropped and
 * named in `rejected`, never trusted and never a hook failure. The rest stays usable.
 */

export interface CachedPeer<P> {
  name: string;
  generation: number | undefined;
  /** `.metadata.creationTimestamp` (orders first claims of an identity), '' when missing. */
  created: string;
  /** `.metadata.uid` when the jqFilter carries it (the fetch hook's: Events name their object by it). */
  uid?: string;
  /** '' when missing: refused as an invalid trust domain (trust/refusals.ts). */
  trustDomain: string;
  /** '' when missing (the merge hook's filter leaves it out). */
  metadataEndpoint: string;
  tls: PeerTls;
  status: PeerStatus<P>;
  /** What was dropped while reading the cached documents, with why. */
  rejected: string[];
  /**
   * The status as stored, when reading dropped something from it: the next status patch is
   * computed against it, so the dropped items are removed from the object, not kept forever.
   */
  storedStatus?: JsonRecord;
}

/** Validates a private document of the peer kind (fetched or cached) item by item. */
export type PrivateDocumentValidator<P> = (
  raw: unknown,
  scope: HostnameScope,
) => Validation<ValidatedPrivateDocument<P>>;

/**
 * How a kind's private document is fetched, validated and stored: `path` under
 * spec.metadataEndpoint, asked with a token of `scope`; `toStatus` gives the form written
 * to status.metadataCache.private, `fromStatus` turns that form back into the wire shape
 * that `validate` reads.
 */
export interface PrivateCodec<P> {
  path: (typeof METADATA_PATHS)[keyof typeof METADATA_PATHS];
  scope: string;
  /** What the peer's admin must do when it refuses our token (default: federation's advice). */
  tokenRejectedMessage?: typeof tokenRejectedMessage;
  validate: PrivateDocumentValidator<P>;
  toStatus(document: P, peerTrustDomain: string): unknown;
  fromStatus(raw: unknown, peerTrustDomain: string): unknown;
}

/** Our cluster as far as reading needs it. */
export interface ReadContext {
  ownTrustDomain: string;
}

/** Reads one jqFilter result; never throws. Undefined only when there is no usable name. */
export function readCachedPeer<P>(
  raw: unknown,
  codec: PrivateCodec<P>,
  context: ReadContext,
): CachedPeer<P> | undefined {
  if (!isRecord(raw) || !isString(raw.name) || raw.name === '') return undefined;
  const spec = isRecord(raw.spec) ? raw.spec : {};
  const trustDomain = isString(spec.trustDomain) ? spec.trustDomain : '';
  const metadata = isRecord(spec.metadata) ? spec.metadata : {};
  const rejected: string[] = [];
  const scope = { peerTrustDomain: trustDomain, ownTrustDomain: context.ownTrustDomain };
  const status = readStatus(raw.status, (cache) => readCache(cache, codec, scope, rejected));
  return {
    name: raw.name,
    generation: isCount(raw.generation) ? raw.generation : undefined,
    created: isString(raw.created) ? raw.created : '',
    ...(isString(raw.uid) && raw.uid !== '' ? { uid: raw.uid } : {}),
    trustDomain,
    metadataEndpoint: isString(spec.metadataEndpoint) ? spec.metadataEndpoint : '',
    tls: {
      ...(isString(metadata.ca) ? { ca: metadata.ca } : {}),
      ...(metadata.insecureSkipVerify === true ? { insecureSkipVerify: true } : {}),
    },
    status,
    rejected,
    ...(rejected.length && isRecord(raw.status) ? { storedStatus: raw.status } : {}),
  };
}

function readStatus<P>(
  raw: unknown,
  readCacheOf: (raw: JsonRecord) => MetadataCache<P> | undefined,
): PeerStatus<P> {
  if (!isRecord(raw)) return {};
  const status: PeerStatus<P> = {};
  if (isCount(raw.observedGeneration)) status.observedGeneration = raw.observedGeneration;
  const cache = isRecord(raw.metadataCache) ? readCacheOf(raw.metadataCache) : undefined;
  if (cache) status.metadataCache = cache;
  if (Array.isArray(raw.conditions)) {
    const conditions = raw.conditions.map(readCondition).filter((c): c is Condition => c !== undefined);
    if (conditions.length) status.conditions = conditions;
  }
  if (isCount(raw.importedServices)) status.importedServices = raw.importedServices;
  if (isString(raw.services)) status.services = raw.services;
  if (isString(raw.lastError)) status.lastError = raw.lastError;
  if (Array.isArray(raw.rejectedItems) && raw.rejectedItems.every(isString)) {
    status.rejectedItems = raw.rejectedItems;
  }
  const retry = readRetry(raw.fetchRetry);
  if (retry) status.fetchRetry = retry;
  const identity = readIdentity(raw.trustedIdentity);
  if (identity) status.trustedIdentity = identity;
  const probe = readGatewayProbe(raw.gatewayProbe);
  if (probe) status.gatewayProbe = probe;
  return status;
}

function readCache<P>(
  raw: JsonRecord,
  codec: PrivateCodec<P>,
  scope: HostnameScope,
  rejected: string[],
): MetadataCache<P> | undefined {
  const cache: MetadataCache<P> = {};
  if (raw.public !== undefined && raw.public !== null) {
    const pub = validatePublicDocument(raw.public);
    if (pub.ok) {
      const { clusterUUID, authnKeyPub, rootCA } = pub.value;
      cache.public = { clusterUUID, authnKeyPub, rootCA };
    } else rejected.push(`metadataCache.public: ${pub.error}`);
  }
  if (isString(raw.publicLastFetchTimestamp)) cache.publicLastFetchTimestamp = raw.publicLastFetchTimestamp;
  // An ETag is kept only beside its document, and only if it could be sent back as is.
  const publicETag = cache.public ? entityTagOf(raw.publicETag) : undefined;
  if (publicETag) cache.publicETag = publicETag;
  if (raw.private !== undefined && raw.private !== null) {
    const priv = codec.validate(codec.fromStatus(raw.private, scope.peerTrustDomain), scope);
    if (priv.ok) {
      cache.private = priv.value.document;
      rejected.push(...priv.value.rejected.map((r) => `metadataCache.private.${r}`));
    } else rejected.push(`metadataCache.private: ${priv.error}`);
  }
  if (isString(raw.privateLastFetchTimestamp))
    cache.privateLastFetchTimestamp = raw.privateLastFetchTimestamp;
  const privateETag = cache.private !== undefined ? entityTagOf(raw.privateETag) : undefined;
  if (privateETag) cache.privateETag = privateETag;
  return Object.keys(cache).length ? cache : undefined;
}

const CONDITION_STATUSES: readonly string[] = ['True', 'False', 'Unknown'];

function readCondition(raw: unknown): Condition | undefined {
  if (!isRecord(raw)) return undefined;
  const { type, status, reason, message, lastTransitionTime, observedGeneration } = raw;
  if (!isString(type) || !isString(status) || !CONDITION_STATUSES.includes(status)) return undefined;
  if (!isString(reason) || !isString(lastTransitionTime)) return undefined;
  return {
    type,
    status: status as ConditionStatus,
    reason,
    message: isString(message) ? message : '',
    lastTransitionTime,
    ...(isCount(observedGeneration) ? { observedGeneration } : {}),
  };
}

function readRetry(raw: unknown): FetchRetry | undefined {
  if (!isRecord(raw)) return undefined;
  const { failures, notBefore, failedEndpoint } = raw;
  if (!isCount(failures) || !isString(notBefore)) return undefined;
  return { failures, notBefore, failedEndpoint: isString(failedEndpoint) ? failedEndpoint : '' };
}

function readIdentity(raw: unknown): TrustedIdentity | undefined {
  if (!isRecord(raw)) return undefined;
  const { clusterUUID, authnKeySha256, since, previous } = raw;
  if (!isString(clusterUUID) || !isString(authnKeySha256) || !isString(since)) return undefined;
  const before =
    isRecord(previous) && isString(previous.clusterUUID) && isString(previous.authnKeySha256)
      ? { previous: { clusterUUID: previous.clusterUUID, authnKeySha256: previous.authnKeySha256 } }
      : {};
  return { clusterUUID, authnKeySha256, since, ...before };
}
