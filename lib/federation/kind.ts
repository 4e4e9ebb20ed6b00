import { compactPrivateDocument, expandPrivateDocument } from './cached/compact';
import { readCachedPeer, type CachedPeer, type PrivateCodec, type ReadContext } from './cached/read';
import { decideImports, type ImportOptions, type ImportVerdict, type PeerVerdict } from './import/verdict';
import { projectStatus, type ProjectionContext } from './status/project';
import type { PeerStatus } from './status/types';
import { trustDomainRefusals, type TrustDomainPolicy } from './trust/refusals';
import type { LocalCluster } from './trust/select';
import { PRIVATE_FEDERATION_SCOPE } from './identity/jwt';
import { METADATA_PATHS } from './wire/documents';
import { checkPrivateDocument, type CachedPrivateDocument } from './wire/validate';

/**
 * A kind of peer object. The fetch, trust, key and status machinery is shared by every
 * kind; a kind brings its resource, its private document (where, validator, status form),
 * its trust-domain policy, its import step (the verdict over all its peers, one `PV` per
 * peer under `federations`) and the projection of that verdict onto a peer's status.
 * IstioFederation is the first; IstioMulticluster (lib/multicluster/kind.ts) the second.
 */
export interface PeerKind<P, V extends { federations: ReadonlyMap<string, PV> }, PV = PeerVerdict> {
  ref: { apiVersion: string; kind: string };
  /** The fetch hook's jqFilter: spec and the status keys it owns (status/types.ts). */
  jqFilter: string;
  /** Its private document: where it is served, validation and the form cached in status. */
  codec: PrivateCodec<P>;
  /** Which peers are refused for their trust domain alone (trust/refusals.ts). */
  trustDomains: TrustDomainPolicy;
  decide(peers: readonly CachedPeer<P>[], local: LocalCluster, options?: ImportOptions): V;
  project(status: PeerStatus<P>, verdict: PV, context: ProjectionContext): PeerStatus<P>;
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
  path: METADATA_PATHS.private,
  scope: PRIVATE_FEDERATION_SCOPE,
  validate: checkPrivateDocument,
  toStatus: compactPrivateDocument,
  fromStatus: expandPrivateDocument,
};

export const FEDERATION_KIND: PeerKind<CachedPrivateDocument, ImportVerdict> = {
  ref: { apiVersion: 'deckhouse.io/v1alpha1', kind: 'IstioFederation' },
  jqFilter: PEER_JQ_FILTER,
  codec: FEDERATION_CODEC,
  trustDomains: trustDomainRefusals,
  project: projectStatus,
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
