import { compactPrivateDocument, expandPrivateDocument } from './cached/compact';
import { readCachedPeer, type CachedPeer, type PrivateCodec, type ReadContext } from './cached/read';
import { decideImports, type ImportOptions, type ImportVerdict } from './import/verdict';
import type { LocalCluster } from './trust/select';
import { checkPrivateDocument, type CachedPrivateDocument } from './wire/validate';

/**
 * A kind of peer object. The fetch, trust, key and status machinery is shared by every
 * kind; a kind brings its resource, its private document (validator) and its import step
 * (the verdict over all its peers). IstioFederation is the first; a second kind
 * (IstioMulticluster) plugs in with its own document and merge.
 */
export interface PeerKind<P, V extends Pick<ImportVerdict, 'federations'>> {
  ref: { apiVersion: string; kind: string };
  /** The fetch hook's jqFilter: spec and the status keys it owns (status/types.ts). */
  jqFilter: string;
  /** Its private document: validation and the form cached in status. */
  codec: PrivateCodec<P>;
  decide(peers: readonly CachedPeer<P>[], local: LocalCluster, options?: ImportOptions): V;
}

const PEER_JQ_FILTER = `{
  name: .metadata.name,
  uid: .metadata.uid,
  generation: .metadata.generation,
  created: .metadata.creationTimestamp,
  spec: .spec,
  status: ((.status // {}) | {observedGeneration, metadataCache, conditions, importedServices, services, lastError, rejectedItems, fetchRetry, trustedIdentity, gatewayProbe})
}`;

/**
 * The merge hook's jqFilter: only what the verdict reads (cached/read.ts accepts both), so
 * condition churn on status does not re-run the merge.
 */
export const IMPORT_JQ_FILTER = `{
  name: .metadata.name,
  created: .metadata.creationTimestamp,
  spec: {trustDomain: .spec.trustDomain},
  status: {
    metadataCache: {public: .status.metadataCache.public, private: .status.metadataCache.private},
    trustedIdentity: .status.trustedIdentity
  }
}`;

export type Federation = CachedPeer<CachedPrivateDocument>;

const FEDERATION_CODEC: PrivateCodec<CachedPrivateDocument> = {
  validate: checkPrivateDocument,
  toStatus: compactPrivateDocument,
  fromStatus: expandPrivateDocument,
};

export const FEDERATION_KIND: PeerKind<CachedPrivateDocument, ImportVerdict> = {
  ref: { apiVersion: 'deckhouse.io/v1alpha1', kind: 'IstioFederation' },
  jqFilter: PEER_JQ_FILTER,
  codec: FEDERATION_CODEC,
  decide: (peers, local, options) =>
    decideImports(
      peers.map((p) => ({
        name: p.name,
        trustDomain: p.trustDomain,
        public: p.status.metadataCache?.public,
        private: p.status.metadataCache?.private,
        created: p.created,
        identity: p.status.trustedIdentity,
      })),
      local,
      options,
    ),
};

/** The one reader both federation hooks use. */
export function readFederation(raw: unknown, context: ReadContext): Federation | undefined {
  return readCachedPeer(raw, FEDERATION_CODEC, context);
}
