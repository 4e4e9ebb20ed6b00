import { createHash } from 'node:crypto';
import type { PublicDocument } from '../wire/documents';
import { checkPublicDocument } from '../wire/validate';
import { trustDomainRefusals, type Refusal, type TrustDomainPolicy } from './refusals';

/** A peer's identity as bound on status: clusterUUID and the SHA-256 of its authn key. */
export interface PeerIdentity {
  clusterUUID: string;
  authnKeySha256: string;
  /** RFC 3339: when it was first trusted. */
  since?: string;
}

/** What trust needs of a peer: its name, trust domain and cached public document. */
export interface TrustInput {
  name: string;
  trustDomain: string;
  public?: PublicDocument | undefined;
  /** `.metadata.creationTimestamp`: among first claims of one identity, the oldest object wins. */
  created?: string | undefined;
  /** The identity this peer established before (status.trustedIdentity). */
  identity?: PeerIdentity | undefined;
}

/** The identity a public document claims. */
export function identityOf(peer: { public?: PublicDocument | undefined }): PeerIdentity {
  return {
    clusterUUID: peer.public?.clusterUUID ?? '',
    authnKeySha256: createHash('sha256')
      .update(peer.public?.authnKeyPub ?? '')
      .digest('hex'),
  };
}

const holds = (peer: TrustInput): boolean => {
  const claimed = identityOf(peer);
  return (
    peer.identity?.clusterUUID === claimed.clusterUUID &&
    peer.identity.authnKeySha256 === claimed.authnKeySha256
  );
};

/**
 * Among peers claiming one clusterUUID, the one that established it: a peer whose recorded
 * identity (status.trustedIdentity: clusterUUID and authn key) still matches what it
 * publishes, the earliest first; when none has, the oldest object, then the name.
 */
function establishedOwner<T extends TrustInput>(claimants: readonly T[]): T {
  const order = (a: T, b: T): number => {
    const ha = holds(a);
    const hb = holds(b);
    if (ha !== hb) return ha ? -1 : 1;
    const ka = (ha ? a.identity?.since : a.created) || '\uffff';
    const kb = (hb ? b.identity?.since : b.created) || '\uffff';
    return ka < kb ? -1 : ka > kb ? 1 : a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
  };
  return [...claimants].sort(order)[0]!;
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
 * acceptable to its kind (`trustDomains`, trust/refusals.ts) and its cached public document passes the fetcher's
 * checks again (the status may have been edited: the key must parse, the root CA must be
 * a valid CA certificate now). A clusterUUID claimed by several peers stays with the one
 * that established it (establishedOwner); the later claimants are refused, so an impostor
 * copying a public clusterUUID cannot switch the legitimate peer off. Ours is no peer's.
 */
export function selectTrustedPeers<T extends TrustInput>(
  inputs: readonly T[],
  local: LocalCluster,
  trustDomains: TrustDomainPolicy = trustDomainRefusals,
): TrustSelection<T> {
  const refusals = new Map<string, Refusal>(trustDomains(inputs, local.trustDomain));
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
  const claimants = new Map<string, (T & { public: PublicDocument })[]>();
  for (const peer of candidates) {
    const uuid = peer.public.clusterUUID;
    claimants.set(uuid, [...(claimants.get(uuid) ?? []), peer]);
  }
  const trusted: (T & { public: PublicDocument })[] = [];
  for (const [uuid, sharing] of claimants) {
    if (local.clusterUUID !== undefined && uuid === local.clusterUUID) {
      for (const peer of sharing)
        refusals.set(peer.name, {
          reason: 'LocalClusterUUID',
          message: `clusterUUID ${uuid} is this cluster's own`,
        });
      continue;
    }
    const owner = sharing.length > 1 ? establishedOwner(sharing) : sharing[0]!;
    trusted.push(owner);
    for (const peer of sharing) {
      if (peer === owner) continue;
      // One short message per claimant, naming only the owner: bounded whatever the number of claimants.
      refusals.set(peer.name, {
        reason: 'DuplicateClusterUUID',
        message: `clusterUUID ${uuid} was established by ${owner.name}${owner.identity?.since && holds(owner) ? ` (trusted since ${owner.identity.since})` : ''}; this later claim is refused`,
      });
    }
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
