import { fetchAllPeers, type FetchEnvironment, type PeerTarget } from '../federation/fetch/peer';
import { fetchDocument } from '../federation/fetch/transport';
import { FEDERATION_KIND, type Federation } from '../federation/kind';
import { parseJsonBody, type CachedPrivateDocument } from '../federation/wire/validate';
import type { TimedOutcome } from '../federation/fetch/outcome';
import { errorText } from '../util/errors';
import {
  DEFAULT_PROBE_TIMEOUTS,
  type GatewayTarget,
  type ProbeOptions,
  type ProbeResult,
} from './gateway-probe';
import { probeAll, type ProbeTarget } from './gateway-probes';
import type { ServedDocument } from './exporter';
import { localChecks, localView, type LocalView } from './local';
import { checkGateways, checkServiceEntries, gatewayPlan } from './peer-mesh';
import {
  checkAcceptedByUs,
  checkPrivateDocument,
  checkPublicDocument,
  checkRecordedStatus,
  peerScope,
  peerTarget,
  readPeer,
  type PeerFetch,
} from './peer';
import { result, type CheckResult } from './result';
import type { ClusterSnapshot } from './snapshot';

/**
 * `check` end to end: read the cluster, fetch our served document, each peer's documents
 * (with the hook's own fetcher and validators, so the check sees what the hook sees) and
 * dial each peer gateway; then the pure checks. The I/O is injected for tests.
 */

export interface ConnectTo {
  from: GatewayTarget;
  to: GatewayTarget;
}

export interface CheckOptions {
  /** Only this IstioFederation. */
  peer?: string;
  /** Our metadata endpoint, instead of https://<Ingress host>/metadata/. */
  metadataUrl?: string;
  /** PEM bundle to trust for our metadata endpoint (in addition to the system roots). */
  metadataCa?: string;
  connectTo?: readonly ConnectTo[];
  probeTimeouts?: { connectTimeoutMs: number; handshakeTimeoutMs: number };
}

export interface CheckDeps {
  /** Where the snapshot comes from: the API server's address, for the first line. */
  apiServer: string;
  /** Probes the API server; resolves to its version or rejects. */
  version: () => Promise<string>;
  snapshot: () => Promise<ClusterSnapshot>;
  fetchServed?: (url: string, ca: string | undefined) => Promise<ServedDocument>;
  fetchPeers?: (
    targets: readonly PeerTarget<CachedPrivateDocument>[],
    env: FetchEnvironment,
  ) => Promise<Map<string, TimedOutcome<CachedPrivateDocument>>>;
  probe?: (target: GatewayTarget, options: ProbeOptions) => Promise<ProbeResult>;
  now?: () => Date;
}

export async function fetchServedDocument(url: string, ca: string | undefined): Promise<ServedDocument> {
  const started = performance.now();
  const fetched = await fetchDocument({ url, tls: ca ? { ca } : {} });
  if (!fetched.ok) return { ok: false, error: `${fetched.reason}: ${fetched.message}` };
  const parsed = parseJsonBody(fetched.body);
  if (!parsed.ok) return { ok: false, error: `${url}: ${parsed.error}` };
  return { ok: true, body: parsed.value, ms: performance.now() - started };
}

export function dialTarget(
  target: GatewayTarget,
  connectTo: readonly ConnectTo[] = [],
): GatewayTarget | undefined {
  return connectTo.find((c) => c.from.address === target.address && c.from.port === target.port)?.to;
}

/** Peers selected by --peer, read as the hooks read them; unreadable objects are named. */
export function selectPeers(
  raws: readonly unknown[],
  view: LocalView,
  only: string | undefined,
): { peers: Federation[]; results: CheckResult[] } {
  const results: CheckResult[] = [];
  const peers: Federation[] = [];
  for (const raw of raws) {
    const peer = readPeer(raw, view.trustDomain ?? '');
    if (!peer || (only !== undefined && peer.name !== only)) continue;
    if (view.trustDomain && peer.trustDomain === view.trustDomain) {
      results.push(
        result('peer.spec', peerScope(peer.name), 'a federation with another cluster', 'warn', {
          detail: `spec.trustDomain ${peer.trustDomain} is our own trust domain: never fetched`,
          hint: 'delete it, or set spec.trustDomain to the peer\u2019s cluster domain',
        }),
      );
      continue;
    }
    peers.push(peer);
  }
  if (only !== undefined && peers.length === 0 && results.length === 0) {
    results.push(
      result('peer.spec', peerScope(only), 'IstioFederation exists', 'fail', {
        detail: `no IstioFederation named ${only}`,
        hint: 'kubectl get istiofederations lists the names',
      }),
    );
  }
  return { peers, results };
}

export async function runChecks(deps: CheckDeps, options: CheckOptions = {}): Promise<CheckResult[]> {
  const now = deps.now ?? (() => new Date());
  const results: CheckResult[] = [];
  try {
    const version = await deps.version();
    results.push(
      result('api', 'module', `API server ${deps.apiServer} reachable`, 'pass', { detail: version }),
    );
  } catch (error) {
    results.push(
      result('api', 'module', `API server ${deps.apiServer} reachable`, 'fail', {
        detail: errorText(error),
        hint: 'check --kubeconfig / --context (or KUBECONFIG) and that your credentials are valid',
      }),
    );
    return results;
  }
  const snapshot = await deps.snapshot();
  const view = localView(snapshot, options.metadataUrl);
  const servedUrl = view.metadataEndpoint
    ? `${view.metadataEndpoint.replace(/\/$/, '')}/public/public.json`
    : undefined;
  const [served, peerResults] = await Promise.all([
    servedUrl ? (deps.fetchServed ?? fetchServedDocument)(servedUrl, options.metadataCa) : undefined,
    checkPeers(deps, options, snapshot, view, now()),
  ]);
  results.push(...localChecks(snapshot, view, served), ...peerResults);
  return results;
}

async function checkPeers(
  deps: CheckDeps,
  options: CheckOptions,
  snapshot: ClusterSnapshot,
  view: LocalView,
  now: Date,
): Promise<CheckResult[]> {
  if (!snapshot.federations.ok) {
    return [
      result('peers', 'peers', 'IstioFederations readable', 'fail', {
        detail: snapshot.federations.error,
        hint: 'the check needs list on istiofederations.deckhouse.io',
      }),
    ];
  }
  const { peers, results } = selectPeers(snapshot.federations.value ?? [], view, options.peer);
  if (peers.length === 0 && results.length === 0) {
    return [
      result('peers', 'peers', 'IstioFederations', 'skip', {
        detail: 'none: create one per peer cluster (docs/USAGE.md)',
      }),
    ];
  }
  const identityReady = Boolean(view.clusterUUID && view.authnPrivateKey);
  const fetchPeers =
    deps.fetchPeers ??
    ((targets: readonly PeerTarget<CachedPrivateDocument>[], env: FetchEnvironment) =>
      fetchAllPeers(targets, env, FEDERATION_KIND.codec));
  const outcomes = await fetchPeers(peers.map(peerTarget), {
    local: {
      trustDomain: view.trustDomain ?? '',
      clusterUUID: identityReady ? view.clusterUUID : undefined,
      authnPrivateKey: identityReady ? view.authnPrivateKey : undefined,
    },
    now,
  });
  const entries = snapshot.serviceEntries.ok ? (snapshot.serviceEntries.value ?? []) : [];
  // Gateways from the document fetched now, else the cached one; all dialled at once, bounded.
  const plans = new Map(peers.map((peer) => [peer.name, gatewayPlan(peer, outcomes.get(peer.name))]));
  const targets: ProbeTarget[] = peers.flatMap((peer) => {
    const plan = plans.get(peer.name)!;
    return plan.gateways.map((gateway) => ({
      federation: peer.name,
      gateway,
      ...(plan.sni ? { sni: plan.sni } : {}),
    }));
  });
  const probes = await probeAll(targets, {
    timeouts: options.probeTimeouts ?? DEFAULT_PROBE_TIMEOUTS,
    dialTo: (gateway) => dialTarget(gateway, options.connectTo),
    ...(deps.probe ? { probe: deps.probe } : {}),
  });
  const perPeer = peers.map((peer) => {
    const fetched: PeerFetch | undefined = outcomes.get(peer.name);
    const plan = plans.get(peer.name)!;
    const peerProbes = probes.filter((p) => p.federation === peer.name);
    const out = [
      checkPublicDocument(peer, fetched),
      checkPrivateDocument(peer, fetched, view),
      checkAcceptedByUs(peer, fetched, snapshot.documentsSecret),
      checkRecordedStatus(peer),
      ...checkGateways(peer, plan, peerProbes),
      snapshot.serviceEntries.ok
        ? checkServiceEntries(peer, entries)
        : result('peer.service-entries', peerScope(peer.name), 'ServiceEntries readable', 'fail', {
            detail: snapshot.serviceEntries.error,
            hint: 'the check needs list on serviceentries.networking.istio.io in d8-istio',
          }),
    ];
    return out;
  });
  return [...results, ...perPeer.flat()];
}
