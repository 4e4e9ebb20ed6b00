import { METADATA_PATHS, metadataUrl } from '../wire/documents';
import {
  DEFAULT_FETCH_LIMITS,
  fetchDocument,
  peerConnection,
  type FetchLimits,
  type PeerConnection,
} from './transport';

export type { FetchLimits } from './transport';
import { prepareTls, type PeerTls, type PreparedTls } from './tls';
import { signPeerToken } from '../identity/jwt';
import { missingLocalIdentity, type LocalIdentity } from '../identity/local';
import type { PrivateCodec } from '../cached/read';
import { checkPublicDocument } from '../wire/validate';
import type { DocumentResult, FetchOutcome, TimedOutcome } from './outcome';
import type { PublicDocument } from '../wire/documents';
import { heldValidators, type PeerTarget } from './target';
import { invalid, parsedBody, tokenRejected } from './responses';

export type { PeerTarget } from './target';

/**
 * Fetches one peer's metadata (public document, then the private one with a fresh JWT)
 * and validates it with the peer kind's private-document validator; never throws for
 * anything the peer does. Each fetch is bounded by its own timeouts, so one slow peer
 * costs at most one request timeout and never delays the others.
 */

/**
 * Cap on the private document as cached in status (in the kind's status form, compact for
 * IstioFederation: cached/compact.ts). A status over the API server's request limit (3 MiB)
 * or etcd's (1.5 MiB) would fail its patch on every run. Over the cap, the fetch fails like
 * any other (TooLarge): the last good data stays.
 */
export const MAX_CACHED_PRIVATE_DOCUMENT_CHARS = 512 * 1024;

export interface FetchEnvironment {
  local: LocalIdentity;
  now: Date;
  limits?: FetchLimits;
  /**
   * TLS settings by CA bundle, shared within one run: federations with the same
   * `spec.metadata.ca` get the same (immutable) secure context; different CAs never mix.
   */
  tlsCache?: Map<string, PreparedTls>;
  /** The OS CA bundles to try (default SYSTEM_CA_BUNDLE_PATHS); for tests. */
  systemCaPaths?: readonly string[];
}

/** The TLS settings of one peer, shared within a run by CA bundle (env.tlsCache). */
export function preparedTlsFor(peer: PeerTls, env: FetchEnvironment): PreparedTls {
  const cache = env.tlsCache;
  const key = JSON.stringify([peer.ca?.trim() ?? '', peer.insecureSkipVerify === true]);
  const cached = cache?.get(key);
  if (cached) return cached;
  const prepared = prepareTls(peer, env.systemCaPaths ? { systemCaPaths: env.systemCaPaths } : {});
  cache?.set(key, prepared);
  return prepared;
}

async function fetchPeer<P>(
  target: PeerTarget<P>,
  env: FetchEnvironment,
  codec: PrivateCodec<P>,
): Promise<TimedOutcome<P>> {
  const started = performance.now();
  // Both documents of this peer over one connection of its own.
  const connection = peerConnection();
  try {
    const outcome = await fetchOutcome(target, env, codec, connection, started);
    return { outcome, durationMs: performance.now() - started };
  } catch (error) {
    // Nothing a peer sends may fail the hook (its queue would retry forever): an unexpected
    // throw on its data is that peer's invalid document.
    const endpoint = metadataUrl(target.metadataEndpoint, METADATA_PATHS.public);
    const message = `${endpoint}: unexpected error on the peer's data: ${(error as Error).message ?? String(error)}`;
    return {
      outcome: { public: { ok: false, failure: { reason: 'InvalidDocument', message, endpoint } } },
      durationMs: performance.now() - started,
    };
  } finally {
    connection.close();
  }
}

async function fetchOutcome<P>(
  target: PeerTarget<P>,
  env: FetchEnvironment,
  codec: PrivateCodec<P>,
  connection?: PeerConnection,
  started = performance.now(),
): Promise<FetchOutcome<P>> {
  const limits = env.limits ?? DEFAULT_FETCH_LIMITS;
  const publicUrl = metadataUrl(target.metadataEndpoint, METADATA_PATHS.public);
  const tls = preparedTlsFor(target.tls, env);
  const held = heldValidators(target, env.now);
  const publicBody = await fetchDocument({
    url: publicUrl,
    tls,
    limits,
    ifNoneMatch: held.public?.etag,
    connection,
  });
  const publicUnchanged = publicBody.ok && publicBody.notModified === true && held.public !== undefined;
  // Not modified: the held document, checked again (a certificate may have expired since).
  const publicRaw = publicUnchanged
    ? { ok: true as const, value: held.public!.document as unknown }
    : parsedBody(publicBody, publicUrl);
  if (!publicRaw.ok) return { public: publicRaw };
  const publicDoc = checkPublicDocument(publicRaw.value, env.now);
  if (!publicDoc.ok) return { public: invalid(publicUrl, publicDoc.error) };
  const publicResult: DocumentResult<PublicDocument> = {
    ok: true,
    document: publicDoc.value,
    ...(publicUnchanged
      ? { notModified: true }
      : publicBody.ok && publicBody.etag
        ? { etag: publicBody.etag }
        : {}),
  };
  // The private document is asked conditionally only when nothing changed on the public
  // side: its refused items (status.rejectedItems, the rootCA's included) then stay exact.
  const privateValidator = publicUnchanged && !publicDoc.rejected ? held.private : undefined;

  const privateUrl = metadataUrl(target.metadataEndpoint, codec.path);
  const { clusterUUID, authnPrivateKey } = env.local;
  // Without our identity there is no token, so no private fetch: the public result stands.
  const notFetched = (why: string): FetchOutcome<P> => ({
    public: publicResult,
    private: {
      ok: false,
      failure: {
        reason: 'LocalIdentityMissing',
        message: `private metadata not fetched: ${why}`,
        endpoint: privateUrl,
      },
    },
  });
  // The hook does not fetch at all in this state (see PlanOptions.holdFetches); kept for direct callers.
  if (!clusterUUID || !authnPrivateKey)
    return notFetched(`${missingLocalIdentity(env.local).join(' and ')} is not set yet`);
  let token: string;
  try {
    token = await signPeerToken({
      privateKeyPem: authnPrivateKey,
      audience: publicDoc.value.clusterUUID,
      subject: clusterUUID,
      scope: codec.scope,
      now: env.now,
    });
  } catch (error) {
    return notFetched(
      `cannot sign a token with istio.internal.remoteAuthnKeypair: ${(error as Error).message}`,
    );
  }
  // One request timeout for the peer as a whole: the private document gets what the public
  // one left, so a peer that answers the first and stalls on the second costs one timeout.
  const remainingMs = Math.max(1, Math.round(limits.requestTimeoutMs - (performance.now() - started)));
  const privateBody = await fetchDocument({
    url: privateUrl,
    tls,
    headers: { Authorization: `Bearer ${token}` },
    limits: { ...limits, requestTimeoutMs: remainingMs },
    ifNoneMatch: privateValidator?.etag,
    connection,
  });
  if (privateBody.ok && privateBody.notModified && privateValidator) {
    return {
      public: publicResult,
      private: { ok: true, document: privateValidator.document, notModified: true },
    };
  }
  const privateRaw = parsedBody(privateBody, privateUrl);
  if (!privateRaw.ok)
    return {
      public: publicResult,
      private: tokenRejected(privateRaw, env.local, codec.tokenRejectedMessage),
    };
  const privateDoc = codec.validate(privateRaw.value, {
    peerTrustDomain: target.trustDomain,
    ownTrustDomain: env.local.trustDomain,
  });
  if (!privateDoc.ok) return { public: publicResult, private: invalid(privateUrl, privateDoc.error) };
  // Refused rootCA blocks are reported with the private document's refused items.
  const rejected = [...(publicDoc.rejected ?? []), ...privateDoc.value.rejected];
  if (privateDoc.value.emptied) {
    return {
      public: publicResult,
      private: {
        ok: false,
        failure: {
          reason: 'AllItemsRejected',
          message: `${privateUrl}: ${privateDoc.value.emptied}, see status.rejectedItems; the last good data stays`,
          endpoint: privateUrl,
        },
        rejected,
      },
    };
  }
  const cachedSize = JSON.stringify(codec.toStatus(privateDoc.value.document, target.trustDomain)).length;
  if (cachedSize > MAX_CACHED_PRIVATE_DOCUMENT_CHARS) {
    return {
      public: publicResult,
      private: {
        ok: false,
        failure: {
          reason: 'TooLarge',
          message: `${privateUrl}: the validated document takes ${cachedSize} characters in status.metadataCache.private, over the limit of ${MAX_CACHED_PRIVATE_DOCUMENT_CHARS} (the peer publishes too many services or ports)`,
          endpoint: privateUrl,
        },
      },
    };
  }
  return {
    public: publicResult,
    private: {
      ok: true,
      document: privateDoc.value.document,
      rejected,
      ...(privateBody.ok && privateBody.etag ? { etag: privateBody.etag } : {}),
    },
  };
}

/**
 * Fetches every target at once and returns the outcomes by peer name. No pool: each peer's
 * two requests share one request timeout, so the whole run takes at most one request timeout
 * however many peers are silent (a pool of N made every N silent peers cost one more timeout).
 */
export async function fetchAllPeers<P>(
  targets: readonly PeerTarget<P>[],
  env: FetchEnvironment,
  codec: PrivateCodec<P>,
): Promise<Map<string, TimedOutcome<P>>> {
  // Federations with the same CA share one (immutable) secure context within the run.
  const shared: FetchEnvironment = { ...env, tlsCache: env.tlsCache ?? new Map() };
  const outcomes = await Promise.all(targets.map((target) => fetchPeer(target, shared, codec)));
  return new Map(targets.map((target, i) => [target.name, outcomes[i]!]));
}
