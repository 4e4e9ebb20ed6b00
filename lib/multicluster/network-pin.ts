import { rfc3339 } from '../federation/status/conditions';
import type { JoinedNetwork } from '../federation/status/types';
import { establishedClaimant } from '../federation/trust/select';
import { isRecord, isString } from '../util/guards';

/**
 * The network pin of an IstioMulticluster (status.joinedNetwork), as trustedIdentity pins a
 * clusterUUID: the fetch hook records the network a peer joined with; a network claimed by
 * several trusted peers stays with the one that holds its pin (the earliest pin first), and
 * only when none does goes to the oldest object, then the name. So a remote that switches
 * its published networkName to another joined remote's network is refused and the other
 * keeps working, whatever the creation order: a remote only ever affects itself.
 */

/** A trusted peer's claim of the network its cached private document names. */
export interface NetworkClaim {
  name: string;
  /** `.metadata.creationTimestamp`, '' when unknown. */
  created: string;
  /** '' when the peer names none: no claim. */
  networkName: string;
  pin?: JoinedNetwork | undefined;
}

export interface NetworkOwner {
  name: string;
  /** When the owner joined with the network: set when it holds the network's pin. */
  since?: string;
}

/** network -> the claimant that owns it. */
export function networkOwners(claims: readonly NetworkClaim[]): Map<string, NetworkOwner> {
  const byNetwork = new Map<string, NetworkClaim[]>();
  for (const claim of claims)
    if (claim.networkName !== '')
      byNetwork.set(claim.networkName, [...(byNetwork.get(claim.networkName) ?? []), claim]);
  const owners = new Map<string, NetworkOwner>();
  for (const [network, claimants] of byNetwork) {
    const heldSince = (claim: NetworkClaim) =>
      claim.pin?.networkName === network ? claim.pin.since : undefined;
    const owner = establishedClaimant(claimants, heldSince);
    const since = heldSince(owner);
    owners.set(network, { name: owner.name, ...(since !== undefined ? { since } : {}) });
  }
  return owners;
}

/**
 * The pin to record for a peer joined with `networkName`: the recorded one while it names
 * that network; a new one (since now, with the network it replaces) when the peer changed it.
 */
export function boundNetwork(
  recorded: JoinedNetwork | undefined,
  networkName: string,
  now: Date,
): JoinedNetwork {
  if (recorded?.networkName === networkName) return recorded;
  return {
    networkName,
    since: rfc3339(now),
    ...(recorded ? { previous: recorded.networkName } : {}),
  };
}

/** status.joinedNetwork as stored (anyone with status access may edit it): undefined when malformed. */
export function readJoinedNetwork(raw: unknown): JoinedNetwork | undefined {
  if (!isRecord(raw)) return undefined;
  const { networkName, since, previous } = raw;
  if (!isString(networkName) || networkName === '' || !isString(since)) return undefined;
  return { networkName, since, ...(isString(previous) && previous !== '' ? { previous } : {}) };
}
