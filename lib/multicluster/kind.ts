import { readCachedPeer, type CachedPeer, type ReadContext } from '../federation/cached/read';
import type { PeerKind } from '../federation/kind';
import { SHARED_TRUST_DOMAIN } from '../federation/trust/refusals';
import { isRecord } from '../util/guards';
import { projectMulticluster } from './status';
import { decideMulticlusters, type MulticlusterPeerVerdict, type MulticlusterVerdict } from './verdict';
import { MULTICLUSTER_CODEC, type MulticlusterPrivateDocument } from './wire';

/**
 * IstioMulticluster as a peer kind: the federation machinery (read, plan, fetch, record,
 * events) with its own private document (wire.ts), no trust domain (its peers share ours:
 * SHARED_TRUST_DOMAIN, so the federation refusals OwnTrustDomain/InvalidTrustDomain never
 * apply), its own verdict (verdict.ts) and projection (status.ts).
 */

/** One IstioMulticluster as read from its object (spec and the status the fetch hook owns). */
export type Multicluster = CachedPeer<MulticlusterPrivateDocument> & {
  /** `spec.enableIngressGateway` (default true): reach the remote's pods through its gateway. */
  enableIngressGateway: boolean;
};

/** The fetch hook's jqFilter: spec and the status keys it owns. */
const MULTICLUSTER_JQ_FILTER = `{
  name: .metadata.name,
  uid: .metadata.uid,
  generation: .metadata.generation,
  created: .metadata.creationTimestamp,
  spec: .spec,
  status: ((.status // {}) | {observedGeneration, metadataCache, conditions, lastError, rejectedItems, fetchRetry, trustedIdentity})
}`;

/**
 * The merge hook's jqFilter: only what the verdict and the rendering read (readMulticluster
 * accepts both), so condition churn on status does not re-run the merge.
 */
export const MULTICLUSTER_MERGE_JQ_FILTER = `{
  name: .metadata.name,
  created: .metadata.creationTimestamp,
  spec: {enableIngressGateway: .spec.enableIngressGateway, metadata: .spec.metadata},
  status: {
    metadataCache: {public: .status.metadataCache.public, private: .status.metadataCache.private},
    trustedIdentity: .status.trustedIdentity
  }
}`;

/** The one reader both multicluster hooks use; never throws, undefined without a usable name. */
export function readMulticluster(raw: unknown, context: ReadContext): Multicluster | undefined {
  const peer = readCachedPeer(raw, MULTICLUSTER_CODEC, context);
  if (!peer) return undefined;
  const spec = isRecord(raw) && isRecord(raw.spec) ? raw.spec : {};
  return { ...peer, trustDomain: '', enableIngressGateway: spec.enableIngressGateway !== false };
}

/** The spec flag of a peer read by readMulticluster (a plain CachedPeer: the CRD's default). */
function enableIngressGatewayOf(peer: CachedPeer<MulticlusterPrivateDocument>): boolean {
  return (peer as Partial<Multicluster>).enableIngressGateway !== false;
}

export const MULTICLUSTER_KIND: PeerKind<
  MulticlusterPrivateDocument,
  MulticlusterVerdict,
  MulticlusterPeerVerdict
> = {
  ref: { apiVersion: 'deckhouse.io/v1alpha1', kind: 'IstioMulticluster' },
  jqFilter: MULTICLUSTER_JQ_FILTER,
  codec: MULTICLUSTER_CODEC,
  trustDomains: SHARED_TRUST_DOMAIN,
  decide: (peers, local, options) =>
    decideMulticlusters(
      peers.map((p) => ({ ...p, enableIngressGateway: enableIngressGatewayOf(p) })),
      local,
      { disabled: options?.disabled },
    ),
  project: projectMulticluster,
};
