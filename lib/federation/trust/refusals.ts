import { compareStrings } from '../discovery/public-services';
import { isValidTrustDomain } from '../wire/documents';
import { CLUSTER_LOCAL } from '../wire/validate';

/**
 * The one vocabulary of trust refusals, used alike on status conditions, in the refusal
 * metric and in logs. The first four depend on trust domains only: such a peer is not even
 * fetched (its cache is dropped). The others are decided from its cached public document,
 * across all peers (trust/select.ts).
 */
export const TRUST_DOMAIN_REFUSALS = [
  'InvalidTrustDomain',
  'OwnTrustDomain',
  'ReservedTrustDomain',
  'DuplicateTrustDomain',
] as const;

export type TrustDomainRefusalReason = (typeof TRUST_DOMAIN_REFUSALS)[number];

export type RefusalReason =
  | TrustDomainRefusalReason
  | 'NoPublicMetadata'
  | 'InvalidPublicMetadata'
  | 'DuplicateClusterUUID'
  | 'LocalClusterUUID'
  /** Not a refusal of the peer: `istio.federation.enabled` is false, nothing is trusted. */
  | 'FederationDisabled';

export interface Refusal<R extends RefusalReason = RefusalReason> {
  reason: R;
  message: string;
}

export function isTrustDomainRefusal(reason: string): reason is TrustDomainRefusalReason {
  return (TRUST_DOMAIN_REFUSALS as readonly string[]).includes(reason);
}

/**
 * How a peer kind treats trust domains: which peers it refuses for their trust domain alone
 * (such a peer is not fetched, and never trusted). IstioFederation: `trustDomainRefusals`
 * below (each peer has its own domain, never ours). IstioMulticluster: SHARED_TRUST_DOMAIN
 * (its peers share OUR domain and name none, so no peer is refused for it).
 */
export type TrustDomainPolicy = (
  peers: readonly { name: string; trustDomain: string }[],
  ownTrustDomain: string,
) => Map<string, Refusal<TrustDomainRefusalReason>>;

export const SHARED_TRUST_DOMAIN: TrustDomainPolicy = () => new Map();

/**
 * Peers that can never be federated with, whatever they publish: an invalid trust domain,
 * ours, Istio's default, or one already federated by a peer whose name sorts first (every
 * peer counts, fetched or not, so the owner of a domain does not change when a fetch fails).
 */
export const trustDomainRefusals: TrustDomainPolicy = (peers, ownTrustDomain) => {
  const refusals = new Map<string, Refusal<TrustDomainRefusalReason>>();
  const owners = new Map<string, string>();
  const own = ownTrustDomain.toLowerCase();
  for (const peer of [...peers].sort((a, b) => compareStrings(a.name, b.name))) {
    if (refusals.has(peer.name) || owners.get(peer.trustDomain.toLowerCase()) === peer.name) continue;
    const refusal = domainRefusal(peer.trustDomain, own, owners);
    if (refusal) refusals.set(peer.name, refusal);
    else owners.set(peer.trustDomain.toLowerCase(), peer.name);
  }
  return refusals;
};

function domainRefusal(
  trustDomain: string,
  own: string,
  owners: ReadonlyMap<string, string>,
): Refusal<TrustDomainRefusalReason> | undefined {
  if (!isValidTrustDomain(trustDomain)) {
    return {
      reason: 'InvalidTrustDomain',
      message: `trust domain ${JSON.stringify(trustDomain)} is invalid`,
    };
  }
  const domain = trustDomain.toLowerCase();
  if (domain === own) {
    return {
      reason: 'OwnTrustDomain',
      message: `trust domain ${trustDomain} is this cluster's own domain; a cluster does not federate with itself`,
    };
  }
  if (domain === CLUSTER_LOCAL) {
    return {
      reason: 'ReservedTrustDomain',
      message: `trust domain ${CLUSTER_LOCAL} is Istio's default and cannot identify a peer; the peer needs a unique cluster domain`,
    };
  }
  const owner = owners.get(domain);
  if (owner !== undefined) {
    return {
      reason: 'DuplicateTrustDomain',
      message: `trust domain ${trustDomain} is already federated by ${owner}; this one is ignored`,
    };
  }
  return undefined;
}
