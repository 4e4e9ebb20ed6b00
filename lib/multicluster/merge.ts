import type { IngressGateway } from '../federation/wire/documents';
import type { RemoteSecretToken } from './remote-secret';
import { chooseApiToken, serverOf, type ApiTokenKeys, type TokenCandidate } from './token';
import type { UsableMulticluster } from './verdict';

/**
 * From the multicluster verdict (trusted and usable peers) to the values the templates
 * render: one item per usable peer with its `scope: api` token (reused or issued, token.ts),
 * the trusted peers, and whether the east-west gateway is needed. Pure but for signing.
 */

/** One item of `istio.internal.multiclusters` (openapi/values.yaml `multicluster`). */
export interface MulticlusterValue {
  name: string;
  clusterUUID: string;
  apiHost: string;
  apiJWT: string;
  networkName: string;
  ingressGateways: IngressGateway[];
  enableIngressGateway: boolean;
  rootCA: string;
  /** The CA of the peer's metadata endpoint (spec.metadata.ca): it also signs the api host. */
  metadataCA?: string;
  /** Only without metadataCA: the kubeconfig carries exactly one of the two, or neither. */
  insecureSkipVerify?: boolean;
}

export interface LogEvent {
  level: 'info' | 'warn';
  message: string;
  fields: Record<string, unknown>;
}

export interface MergeInput {
  usable: readonly UsableMulticluster[];
  /** Tokens found in the remote Secrets, by IstioMulticluster name. */
  secrets: ReadonlyMap<string, RemoteSecretToken>;
  /** `istio.internal.multiclusters` before this run. */
  previous: readonly MulticlusterValue[];
  /** Our clusterUUID and key pair; undefined until their hooks ran (nothing can be signed). */
  ownUUID: string | undefined;
  keys: ApiTokenKeys | undefined;
  now: Date;
}

export async function mergeMulticlusters(
  input: MergeInput,
): Promise<{ multiclusters: MulticlusterValue[]; events: LogEvent[] }> {
  const events: LogEvent[] = [];
  const { ownUUID, keys } = input;
  if (input.usable.length && (!ownUUID || !keys)) {
    events.push({
      level: 'warn',
      message: 'no api token can be signed yet: our clusterUUID or authn key pair is missing',
      fields: { peers: input.usable.map((p) => p.name) },
    });
    return { multiclusters: [], events };
  }
  const previous = new Map(input.previous.map((item) => [item.name, item]));
  const multiclusters: MulticlusterValue[] = [];
  for (const peer of input.usable) {
    const candidates: TokenCandidate[] = [];
    const secret = input.secrets.get(peer.name);
    if (secret) candidates.push({ source: 'secret', token: secret.token, server: secret.server });
    const before = previous.get(peer.name);
    if (before?.apiJWT) {
      candidates.push({ source: 'values', token: before.apiJWT, server: serverOf(before.apiHost) });
    }
    const target = { peerUUID: peer.clusterUUID, ownUUID: ownUUID!, apiHost: peer.apiHost };
    const choice = await chooseApiToken(candidates, target, keys!, input.now);
    if ('issued' in choice) {
      events.push({
        level: 'info',
        message: 'issued a new api token',
        fields: { multicluster: peer.name, reason: choice.reason },
      });
    }
    multiclusters.push(valueOf(peer, choice.token));
  }
  return { multiclusters, events };
}

function valueOf(peer: UsableMulticluster, apiJWT: string): MulticlusterValue {
  const { ca, insecureSkipVerify } = peer.tls;
  return {
    name: peer.name,
    clusterUUID: peer.clusterUUID,
    apiHost: peer.apiHost,
    apiJWT,
    networkName: peer.networkName,
    ingressGateways: peer.ingressGateways.map(({ address, port }) => ({ address, port })),
    enableIngressGateway: peer.enableIngressGateway,
    rootCA: peer.rootCA,
    // The CA wins, as in the reference's fetch: exactly one of the two reaches the kubeconfig.
    ...(ca ? { metadataCA: ca } : insecureSkipVerify ? { insecureSkipVerify: true } : {}),
  };
}

/**
 * `multiclustersNeedIngressGateway`: any IstioMulticluster with enableIngressGateway (default
 * true), usable or not yet: a peer waits for our gateway to publish it (reference PR #640).
 */
export function needIngressGateway(specs: readonly { enableIngressGateway?: unknown }[]): boolean {
  return specs.some((spec) => spec.enableIngressGateway !== false);
}
