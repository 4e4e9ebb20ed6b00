import type { TrustVerdict } from '../federation/status/trust-condition';
import { SHARED_TRUST_DOMAIN, type RefusalReason } from '../federation/trust/refusals';
import { identityOf, selectTrustedPeers, type LocalCluster } from '../federation/trust/select';
import type { IngressGateway } from '../federation/wire/documents';
import { compareStrings } from '../federation/discovery/public-services';
import type { PeerTls } from '../federation/fetch/tls';
import { istioClusterId } from '../istio/cluster-id';
import type { Multicluster } from './kind';

/**
 * The verdict over all IstioMulticlusters: who is trusted (its root joins our mesh trust,
 * its key our allow-lists) and who is usable (rendered for istiod: remote Secret, network,
 * gateways), and why not. The fetch hook projects it onto every status (status.ts), the
 * merge hook renders values from it: both call this on the same parsed input
 * (readMulticluster), so status and values agree by construction. Pure and deterministic.
 *
 * Trusted: public document valid, clusterUUID not ours, not claimed first by another
 * IstioMulticluster (the identity pin: status.trustedIdentity, then creation, then name,
 * as for federation: trust/select.ts). No trust domain is involved: peers share ours.
 * Usable: trusted, and its private document complete (apiHost, networkName, a gateway when
 * enableIngressGateway); its name is not our Istio cluster id (istiod ignores a remote Secret
 * key equal to its own cluster id); its network is not ours and not claimed by an earlier
 * trusted peer (by creation, then name: two remotes in one network would mix endpoints).
 */

export interface TrustedMulticluster {
  name: string;
  clusterUUID: string;
  authnKeyPub: string;
  rootCA: string;
}

export interface UsableMulticluster extends TrustedMulticluster {
  apiHost: string;
  networkName: string;
  ingressGateways: IngressGateway[];
  enableIngressGateway: boolean;
  /** spec.metadata: the api-proxy is reached with the metadata endpoint's TLS settings. */
  tls: PeerTls;
}

/** Why a peer is not trusted (`MulticlusterDisabled`: nothing is, multicluster is off). */
export type MulticlusterRefusalReason =
  Exclude<RefusalReason, 'FederationDisabled' | `${string}TrustDomain`> | 'MulticlusterDisabled';

/** Why a peer is usable or not: the `Joined` condition's reason. */
export const JOIN_STATES = [
  'Joined',
  'PeerNotTrusted',
  'NoPrivateMetadata',
  'MissingAPIHost',
  'MissingNetworkName',
  'NoGateways',
  'LocalClusterID',
  'InvalidClusterID',
  'OwnNetwork',
  'DuplicateNetwork',
  'MulticlusterDisabled',
] as const;
export type JoinState = (typeof JOIN_STATES)[number];

export interface MulticlusterPeerVerdict {
  trust: TrustVerdict<MulticlusterRefusalReason>;
  join: { state: JoinState; message: string };
  /** Gateways in its cached private document. */
  gateways: number;
}

export interface MulticlusterVerdict {
  /** Every input peer, in name order (the field name is PeerKind's). */
  federations: Map<string, MulticlusterPeerVerdict>;
  /** In name order. */
  trusted: TrustedMulticluster[];
  /** In name order; every one is also in `trusted`. */
  usable: UsableMulticluster[];
}

export type MulticlusterInput = Pick<
  Multicluster,
  'name' | 'created' | 'tls' | 'enableIngressGateway' | 'status'
>;

export const MULTICLUSTER_DISABLED = {
  reason: 'MulticlusterDisabled',
  message: 'multicluster is disabled (istio.multicluster.enabled is false): nothing is trusted or joined',
} as const;

const byName = <T extends { name: string }>(a: T, b: T): number => compareStrings(a.name, b.name);

export function decideMulticlusters(
  peers: readonly MulticlusterInput[],
  local: LocalCluster,
  options: { disabled?: boolean | undefined } = {},
): MulticlusterVerdict {
  const sorted = [...peers].sort(byName);
  const federations = new Map<string, MulticlusterPeerVerdict>();
  if (options.disabled) {
    for (const peer of sorted)
      federations.set(peer.name, {
        trust: { trusted: false, ...MULTICLUSTER_DISABLED },
        join: { state: MULTICLUSTER_DISABLED.reason, message: MULTICLUSTER_DISABLED.message },
        gateways: peer.status.metadataCache?.private?.ingressGateways.length ?? 0,
      });
    return { federations, trusted: [], usable: [] };
  }
  const inputs = sorted.map((peer) => ({
    peer,
    name: peer.name,
    trustDomain: '',
    public: peer.status.metadataCache?.public,
    created: peer.created,
    identity: peer.status.trustedIdentity,
  }));
  const selection = selectTrustedPeers(inputs, local, SHARED_TRUST_DOMAIN);
  const ownClusterId = local.clusterUUID ? istioClusterId(local.trustDomain, local.clusterUUID) : undefined;
  const networkOwners = claimedNetworks(selection.trusted.map((t) => t.peer));
  const trusted: TrustedMulticluster[] = [];
  const usable: UsableMulticluster[] = [];
  for (const { peer, public: pub } of selection.trusted) {
    trusted.push({
      name: peer.name,
      clusterUUID: pub.clusterUUID,
      authnKeyPub: pub.authnKeyPub,
      rootCA: pub.rootCA,
    });
    const join = joinState(peer, ownClusterId, networkOwners);
    const doc = peer.status.metadataCache?.private;
    if (join.state === 'Joined' && doc) {
      usable.push({
        ...trusted[trusted.length - 1]!,
        apiHost: doc.apiHost,
        networkName: doc.networkName,
        ingressGateways: doc.ingressGateways,
        enableIngressGateway: peer.enableIngressGateway,
        tls: peer.tls,
      });
    }
    federations.set(peer.name, {
      trust: { trusted: true, identity: identityOf({ public: pub }) },
      join,
      gateways: doc?.ingressGateways.length ?? 0,
    });
  }
  for (const peer of sorted) {
    const refusal = selection.refusals.get(peer.name);
    if (!refusal) continue;
    federations.set(peer.name, {
      trust: {
        trusted: false,
        reason: refusal.reason as MulticlusterRefusalReason,
        message: refusal.message,
      },
      join: { state: 'PeerNotTrusted', message: 'a peer that is not trusted is not joined' },
      gateways: peer.status.metadataCache?.private?.ingressGateways.length ?? 0,
    });
  }
  const names = [...federations.keys()].sort(compareStrings);
  return { federations: new Map(names.map((n) => [n, federations.get(n)!])), trusted, usable };
}

/**
 * istiod's rule for a cluster id used as meshNetworks `fromRegistry` (labels.IsDNS1123Label):
 * object names may contain dots, a remote's cluster id here (its object name) may not.
 */
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** network -> the trusted peer that claims it first (by creation, then name). */
function claimedNetworks(trusted: readonly MulticlusterInput[]): Map<string, string> {
  const owners = new Map<string, string>();
  const order = [...trusted].sort(
    (a, b) => compareStrings(a.created || '\uffff', b.created || '\uffff') || byName(a, b),
  );
  for (const peer of order) {
    const network = peer.status.metadataCache?.private?.networkName;
    if (network && !owners.has(network)) owners.set(network, peer.name);
  }
  return owners;
}

function joinState(
  peer: MulticlusterInput,
  ownClusterId: string | undefined,
  networkOwners: ReadonlyMap<string, string>,
): MulticlusterPeerVerdict['join'] {
  const doc = peer.status.metadataCache?.private;
  if (!DNS1123_LABEL.test(peer.name))
    return {
      state: 'InvalidClusterID',
      message: `the name ${peer.name} is not a DNS-1123 label: it is this remote's cluster id in istiod (meshNetworks fromRegistry), and istiod refuses all of meshNetworks for one such id; recreate the IstioMulticluster under a name without dots`,
    };
  if (ownClusterId !== undefined && peer.name === ownClusterId)
    return {
      state: 'LocalClusterID',
      message: `the name ${peer.name} is this cluster's own Istio cluster id: istiod ignores a remote cluster of that name; recreate the IstioMulticluster under another name`,
    };
  if (!doc)
    return {
      state: 'NoPrivateMetadata',
      message: 'the peer private document (api host, network, gateways) has not been fetched yet',
    };
  if (doc.apiHost === '')
    return { state: 'MissingAPIHost', message: 'the peer private document names no (valid) apiHost' };
  if (doc.networkName === '')
    return { state: 'MissingNetworkName', message: 'the peer private document names no (valid) networkName' };
  if (ownClusterId !== undefined && doc.networkName === `network-${ownClusterId}`)
    return {
      state: 'OwnNetwork',
      message: `the peer claims network ${doc.networkName}, this cluster's own network`,
    };
  const owner = networkOwners.get(doc.networkName);
  if (owner !== undefined && owner !== peer.name)
    return {
      state: 'DuplicateNetwork',
      message: `network ${doc.networkName} is already claimed by ${owner}; this later claim is refused`,
    };
  if (peer.enableIngressGateway && doc.ingressGateways.length === 0)
    return {
      state: 'NoGateways',
      message: 'spec.enableIngressGateway is true but the peer publishes no ingress gateway',
    };
  return {
    state: 'Joined',
    message: `api host ${doc.apiHost}, network ${doc.networkName}, ${peer.enableIngressGateway ? `${doc.ingressGateways.length} gateway(s)` : 'gateways not used (flat network)'}`,
  };
}
