import type { PublicDocument } from '../wire/documents';
import { checkPublicDocument } from '../wire/validate';
import { trustDomainRefusals, type Refusal } from './refusals';

/** What trust needs of a peer: its name, trust domain and cached public document. */
export interface TrustInput {
  name: string;
  trustDomain: string;
  public?: PublicDocument | undefined;
}

export interface TrustedPeer {
  name: string;
  trustDomain: string;
  clusterUUID: string;
  rootCA: string;
  authnKeyPub: string;
}

/** What trust knows of this cluster. */
export interface LocalCluster {
  trustDomain: string;
  /** Our own clusterUUID: a peer claiming it is refused. */
  clusterUUID?: string | undefined;
  /** Root CAs are checked for expiry at this time. */
  now: Date;
}

export interface TrustSelection<T extends TrustInput> {
  /** In name order. */
  trusted: (T & { public: PublicDocument })[];
  peers: TrustedPeer[];
  /** Every peer that is not trusted, with why. */
  refusals: Map<string, Refusal>;
}

/**
 * The one selection of trusted peers. A peer is trusted when its trust domain is
 * acceptable (trust/refusals.ts) and its cached public document passes the fetcher's
 * checks again (the status may have been edited: the key must parse, the root CA must be
 * a valid CA certificate now). A clusterUUID claimed by several peers is trusted for none
 * of them, and ours for no peer.
 */
export function selectTrustedPeers<T extends TrustInput>(
  inputs: readonly T[],
  local: LocalCluster,
): TrustSelection<T> {
  const refusals = new Map<string, Refusal>(trustDomainRefusals(inputs, local.trustDomain));
  const candidates: (T & { public: PublicDocument })[] = [];
  for (const peer of inputs) {
    if (refusals.has(peer.name)) continue;
    if (!peer.public) {
      refusals.set(peer.name, {
        reason: 'NoPublicMetadata',
        message: 'the peer public document (root CA, authn key) has not been fetched yet',
      });
      continue;
    }
    const checked = checkPublicDocument(peer.public, local.now);
    if (!checked.ok) {
      refusals.set(peer.name, { reason: 'InvalidPublicMetadata', message: checked.error });
      continue;
    }
    // The checked document: its rootCA holds only re-encoded CA certificates.
    candidates.push({ ...peer, public: checked.value });
  }
  const claimants = new Map<string, string[]>();
  for (const peer of candidates) {
    const uuid = peer.public.clusterUUID;
    claimants.set(uuid, [...(claimants.get(uuid) ?? []), peer.name]);
  }
  const trusted: (T & { public: PublicDocument })[] = [];
  for (const peer of candidates) {
    const uuid = peer.public.clusterUUID;
    const sharing = claimants.get(uuid)!;
    if (local.clusterUUID !== undefined && uuid === local.clusterUUID) {
      refusals.set(peer.name, {
        reason: 'LocalClusterUUID',
        message: `clusterUUID ${uuid} is this cluster's own`,
      });
    } else if (sharing.length > 1) {
      refusals.set(peer.name, {
        reason: 'DuplicateClusterUUID',
        message: `clusterUUID ${uuid} is claimed by several peers (${sharing.join(', ')}); none is trusted`,
      });
    } else trusted.push(peer);
  }
  trusted.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const peers = trusted.map((p) => ({
    name: p.name,
    trustDomain: p.trustDomain,
    clusterUUID: p.public.clusterUUID,
    rootCA: p.public.rootCA,
    authnKeyPub: p.public.authnKeyPub,
  }));
  return { trusted, peers, refusals };
}
