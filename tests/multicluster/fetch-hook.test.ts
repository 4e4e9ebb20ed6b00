// The multicluster fetch hook against real HTTPS peers on 127.0.0.1 (tests/fetch/peer.ts:
// Deckhouse formats, the reference's token checks, a fake api-proxy answering GET /api).
// The peer's apiHost is the peer server itself, so the probe crosses real TLS too.
import {
  createMulticlusterFetchHook,
  MULTICLUSTER_FETCH_TICK,
} from '../../hooks/multicluster/fetch-metadata';
import { inRefreshSlot, DEFAULT_REFRESH_POLICY } from '../../lib/federation/fetch/refresh';
import { MAX_DOCUMENT_BYTES } from '../../lib/federation/wire/documents';
import type { KubeObject } from '../../lib/hook-sdk';
import type { HarnessResult } from '../../lib/hook-sdk/testing';
import { istioClusterId } from '../../lib/istio/cluster-id';
import { MULTICLUSTER_METRICS, MULTICLUSTER_METRICS_GROUP } from '../../lib/multicluster/metrics';
import { API_PROBE_INTERVAL_SECONDS } from '../../lib/multicluster/probe';
import { MULTICLUSTER_STATUS_SCHEMA, prunedStatusPaths } from '../support/crd-schema';
import { CLUSTER_A_GLOBAL, clusterAHarness } from '../support/module';
import { applyStatusPatches, statusOf } from '../fetch/cluster';
import { createMergeMulticlustersHook } from '../../hooks/multicluster/merge-multiclusters';
import { rfc3339 } from '../../lib/federation/status/conditions';
import { deckhouseKeypair, TestPeer, type Behaviour } from '../fetch/peer';
import { closedPort } from '../support/closed-port';

const DISCOVERY = CLUSTER_A_GLOBAL.discovery as { clusterUUID: string; clusterDomain: string };
const OUR_UUID = DISCOVERY.clusterUUID;
const OUR_CLUSTER_ID = istioClusterId(DISCOVERY.clusterDomain, OUR_UUID);
const ourKeys = deckhouseKeypair();
const harness = clusterAHarness();
const limits = { connectTimeoutMs: 2_000, tlsHandshakeTimeoutMs: 1_000, requestTimeoutMs: 700 };
const hook = createMulticlusterFetchHook({
  limits: { ...limits, maxBytes: MAX_DOCUMENT_BYTES },
  probeLimits: { ...limits, maxBytes: 64 * 1024 },
});
const KIND = 'IstioMulticluster';

const started = new Date(Math.floor(Date.now() / 1000) * 1000);
let clock = started;
const at = (seconds: number) => new Date(started.getTime() + seconds * 1000);

function newPeer(uuid: string): TestPeer {
  return new TestPeer({
    clusterUUID: uuid,
    trustDomain: 'cluster-a.local', // the same domain: multicluster peers share ours
    knownPeers: { [OUR_UUID]: ourKeys.pub },
    now: () => clock,
  });
}
const peerB = newPeer('uuid-b');
const peerC = newPeer('uuid-c');
const port = (peer: TestPeer) => new URL(peer.endpoint).port;
const documentOf = (peer: TestPeer, network: string) => ({
  ingressGateways: [{ address: '192.0.2.10', port: 15443 }],
  apiHost: `127.0.0.1:${port(peer)}`,
  networkName: network,
  clusterID: 'ignored-by-us',
});

function multicluster(name: string, peer: TestPeer, extra: Record<string, unknown> = {}): KubeObject {
  return {
    apiVersion: 'deckhouse.io/v1alpha1',
    kind: KIND,
    metadata: { name, generation: 1, uid: `uid-${name}`, creationTimestamp: '2026-01-01T00:00:00Z' },
    spec: { metadataEndpoint: peer.endpoint, metadata: { ca: peer.pki.ca.certPem }, ...extra },
  };
}

const withKeys = { internal: { remoteAuthnKeypair: ourKeys } };
function run(cluster: KubeObject[], trigger: string, now: Date, enabled = true) {
  clock = now;
  return harness.run(hook, {
    cluster,
    trigger,
    now,
    configValues: { multicluster: { enabled } },
    values: withKeys,
  });
}
/** One more remote (its own HTTPS server, `uuid`, publishing `network`) and its object `name`, created at `created`. */
async function withExtraRemote(
  remote: { uuid: string; network: string; name: string; created: string },
  body: (object: KubeObject, peer: TestPeer) => Promise<void>,
): Promise<void> {
  const peer = newPeer(remote.uuid);
  await peer.start();
  try {
    peer.privateDocument = documentOf(peer, remote.network);
    const object = multicluster(remote.name, peer);
    object.metadata = { ...object.metadata, creationTimestamp: remote.created };
    await body(object, peer);
  } finally {
    await peer.stop();
  }
}

const mergeHook = createMergeMulticlustersHook();
/** The merge hook's istio.internal.multiclusters on these objects (its own jqFilter). */
async function multiclusterItems(cluster: KubeObject[]) {
  const merge = await harness.run(mergeHook, {
    cluster,
    trigger: 'multiclusters',
    now: clock,
    configValues: { multicluster: { enabled: true } },
    values: withKeys,
  });
  type Item = { name: string; networkName: string };
  return (merge.moduleValues as { internal: { multiclusters: Item[] } }).internal.multiclusters;
}
async function settle(cluster: KubeObject[], now: Date, trigger = 'multiclusters') {
  const result = await run(cluster, trigger, now);
  return { result, cluster: applyStatusPatches(cluster, result.kubeOperations, KIND) };
}
function condition(cluster: KubeObject[], name: string, type: string) {
  const conditions = (statusOf(cluster, name).conditions ?? []) as Record<string, unknown>[];
  return conditions.find((c) => c.type === type);
}
const reasons = (cluster: KubeObject[], name: string) =>
  Object.fromEntries(
    ((statusOf(cluster, name).conditions ?? []) as { type: string; status: string; reason: string }[]).map(
      (c) => [c.type, `${c.status}/${c.reason}`],
    ),
  );
function metric(result: HarnessResult, name: string, labels: Record<string, string>): number | undefined {
  const op = result.metrics.find(
    (m) => 'name' in m && m.name === name && Object.entries(labels).every(([k, v]) => m.labels?.[k] === v),
  );
  return op && 'value' in op ? op.value : undefined;
}
/** The first tick after `from` in the API-probe slot of `name`. */
function probeTick(name: string, from: Date): Date {
  const policy = { ...DEFAULT_REFRESH_POLICY, refreshSeconds: API_PROBE_INTERVAL_SECONDS };
  const start = Math.ceil(from.getTime() / 2000) * 2;
  for (let t = start; t < start + API_PROBE_INTERVAL_SECONDS + 2; t += 2)
    if (inRefreshSlot(`api/${name}`, new Date(t * 1000), policy)) return new Date(t * 1000);
  throw new Error('no slot');
}
const HEALTHY = {
  MetadataFetched: 'True/Fetched',
  TrustEstablished: 'True/PeerTrusted',
  Joined: 'True/Joined',
  RemoteAPIReachable: 'True/RemoteAPIReachable',
  Ready: 'True/Ready',
};

let healthy: KubeObject[];
let first: HarnessResult;

beforeAll(async () => {
  await Promise.all([peerB.start(), peerC.start()]);
  peerB.privateDocument = documentOf(peerB, 'network-b');
  peerC.privateDocument = documentOf(peerC, 'network-c');
  const settled = await settle([multicluster('b', peerB), multicluster('c', peerC)], started);
  healthy = settled.cluster;
  first = settled.result;
});
afterAll(() => Promise.all([peerB.stop(), peerC.stop()]));
afterEach(() => {
  for (const peer of [peerB, peerC]) {
    peer.publicBehaviour = { kind: 'document' };
    peer.privateBehaviour = { kind: 'document' };
    peer.apiBehaviour = { kind: 'document' };
    peer.publicOverrides = {};
    peer.apiVersions = { kind: 'APIVersions', versions: ['v1'] };
  }
  peerB.clusterUUID = 'uuid-b';
  peerB.privateDocument = documentOf(peerB, 'network-b');
});

describe('multicluster fetch hook: healthy peers', () => {
  it('caches both documents (the private one in its wire form), probes the API, is Ready', () => {
    expect(reasons(healthy, 'b')).toEqual(HEALTHY);
    expect(reasons(healthy, 'c')).toEqual(HEALTHY);
    const b = statusOf(healthy, 'b');
    expect((b.metadataCache as Record<string, unknown>).private).toEqual({
      ingressGateways: [{ address: '192.0.2.10', port: 15443 }],
      apiHost: `127.0.0.1:${port(peerB)}`,
      networkName: 'network-b',
    });
    expect(b).toMatchObject({ observedGeneration: 1, trustedIdentity: { clusterUUID: 'uuid-b' } });
    expect(condition(healthy, 'b', 'Ready')).toMatchObject({ observedGeneration: 1 });
    for (const name of ['b', 'c'])
      expect(prunedStatusPaths(statusOf(healthy, name), MULTICLUSTER_STATUS_SCHEMA)).toEqual([]);
  });

  it('sends the reference tokens: private-multicluster for the document, a 60 s api token for the probe', () => {
    const byScope = (scope: string) => peerB.tokenChecks.filter((c) => c.claims?.scope === scope);
    const [priv] = byScope('private-multicluster');
    const [api] = byScope('api');
    for (const check of [priv, api]) {
      expect(check).toMatchObject({
        accepted: true,
        claims: { iss: 'd8-istio', aud: 'uuid-b', sub: OUR_UUID },
      });
      expect((check!.claims!.exp as number) - (check!.claims!.nbf as number)).toBe(60);
    }
    expect(peerB.requests).toEqual([
      '/metadata/public/public.json',
      '/metadata/private/multicluster.json',
      '/api',
    ]);
  });

  it('exports the reference metrics (0 = ok) and ours', () => {
    const b = { multicluster_name: 'b' };
    expect(first.metrics[0]).toEqual({ action: 'expire', group: MULTICLUSTER_METRICS_GROUP });
    for (const path of ['public/public.json', 'private/multicluster.json'])
      expect(
        metric(first, MULTICLUSTER_METRICS.fetchError, { ...b, endpoint: `${peerB.endpoint}${path}` }),
      ).toBe(0);
    expect(
      metric(first, MULTICLUSTER_METRICS.apiHostCheckError, { ...b, api_host: `127.0.0.1:${port(peerB)}` }),
    ).toBe(0);
    expect(metric(first, MULTICLUSTER_METRICS.ready, b)).toBe(1);
  });

  it('writes nothing when nothing changed, also on a probe that answers the same', async () => {
    const tick = probeTick('b', at(3));
    const apiCalls = peerB.requests.filter((r) => r === '/api').length;
    const result = await run(healthy, MULTICLUSTER_FETCH_TICK, tick);
    expect(peerB.requests.filter((r) => r === '/api').length).toBe(apiCalls + 1);
    expect(result.kubeOperations).toEqual([]);
    // Its own status patch's event: nothing fetched, nothing probed, nothing written.
    const requests = peerB.requests.length;
    const event = await run(healthy, 'multiclusters', at(3));
    expect(event.kubeOperations).toEqual([]);
    expect(peerB.requests.length).toBe(requests);
  });
});

const raw = (body: string, status = 200): Behaviour => ({ kind: 'raw', status, body });

/** multicluster.json byte for byte as Deckhouse's exporter writes it: json.MarshalIndent, 2 spaces, no ETag. */
const deckhouseBody = (document: unknown) => JSON.stringify(document, null, 2);

describe("multicluster fetch hook: Deckhouse's multicluster.json as sent", () => {
  it.each<[string, Record<string, unknown>, boolean, Record<string, string>, unknown[]]>([
    [
      'a hostname gateway, the in-flight keys clusterID and ambientGateways',
      {
        ingressGateways: [{ address: 'gw.b.example.com', port: 443 }],
        networkName: 'network-b',
        clusterID: 'cluster-b-local-123',
        ambientGateways: [{ address: '192.0.2.99', port: 15008 }],
      },
      true,
      { Joined: 'True/Joined', Ready: 'True/Ready' },
      [{ address: 'gw.b.example.com', port: 443 }],
    ],
    [
      'ingressGateways: [] for a flat-network peer',
      { ingressGateways: [], networkName: 'network-b' },
      false,
      { Joined: 'True/Joined', Ready: 'True/Ready' },
      [],
    ],
    [
      'ingressGateways: [] while our spec wants its gateway',
      { ingressGateways: [], networkName: 'network-b' },
      true,
      { MetadataFetched: 'True/Fetched', Joined: 'False/NoGateways', Ready: 'False/NoGateways' },
      [],
    ],
  ])('%s', async (_name, document, enableIngressGateway, expected, gateways) => {
    // Key order as Deckhouse's struct: ingressGateways, apiHost, networkName, then the newer keys.
    const { ingressGateways, networkName, ...newer } = document;
    peerB.privateDocument = deckhouseBody({
      ingressGateways,
      apiHost: `127.0.0.1:${port(peerB)}`,
      networkName,
      ...newer,
    });
    const object = multicluster('b', peerB, { enableIngressGateway });
    object.metadata = { ...object.metadata, generation: 2 };
    const cluster = [object, ...healthy.filter((o) => o.metadata.name !== 'b')];
    const responses = peerB.requests.length;
    const { cluster: after } = await settle(cluster, probeTick('b', at(8)), MULTICLUSTER_FETCH_TICK);
    expect(peerB.requests.slice(responses)).toContain('/metadata/private/multicluster.json');
    expect(peerB.requestHeaders.slice(responses).every((h) => h['if-none-match'] === undefined)).toBe(true);
    expect(reasons(after, 'b')).toMatchObject(expected);
    expect((statusOf(after, 'b').metadataCache as Record<string, unknown>).private).toEqual({
      ingressGateways: gateways,
      apiHost: `127.0.0.1:${port(peerB)}`,
      networkName: 'network-b',
    });
  });
});

describe('multicluster fetch hook: a broken remote only affects itself', () => {
  it.each<[string, () => unknown, Record<string, string>, RegExp]>([
    [
      'private document without an ingressGateways list (a Deckhouse exporter whose discovery failed)',
      () => (peerB.privateDocument = { ingressGateways: null, apiHost: 'a.example', networkName: 'n' }),
      { MetadataFetched: 'False/InvalidDocument', Joined: 'True/Joined', Ready: 'False/InvalidDocument' },
      /ingressGateways must be a list/,
    ],
    [
      'not JSON',
      () => (peerB.privateBehaviour = raw('<html>')),
      { MetadataFetched: 'False/InvalidDocument', Ready: 'False/InvalidDocument' },
      /not JSON/,
    ],
    [
      'a huge document',
      () =>
        (peerB.privateBehaviour = { kind: 'stream', bytes: MAX_DOCUMENT_BYTES + 1, declareLength: false }),
      { MetadataFetched: 'False/TooLarge' },
      /exceeds/,
    ],
    [
      'hostile gateways only (loopback, metadata service)',
      () =>
        (peerB.privateDocument = {
          ...documentOf(peerB, 'network-b'),
          ingressGateways: [
            { address: '127.0.0.1', port: 15443 },
            { address: '169.254.169.254', port: 80 },
          ],
        }),
      { MetadataFetched: 'False/AllItemsRejected', Joined: 'True/Joined' },
      /every one of the 2/,
    ],
    [
      'an apiHost with a scheme and path, and a networkName that is no label value',
      () =>
        (peerB.privateDocument = {
          ...documentOf(peerB, 'network-b'),
          apiHost: 'https://b.example/api',
          networkName: 'network b',
        }),
      { MetadataFetched: 'False/AllItemsRejected', Joined: 'True/Joined' },
      /the published apiHost and networkName were refused/,
    ],
    [
      'the remote does not know us (private document refused)',
      () => (peerB.privateBehaviour = raw('Authentication error: unknown subject', 401)),
      { MetadataFetched: 'False/TokenRejected' },
      /rejected our token; its admin must create an IstioMulticluster with spec\.metadataEndpoint: https:\/\/istio-metadata\.cluster-a\.example\.com\/metadata\//,
    ],
  ])('%s', async (_name, setup, expected, message) => {
    setup();
    const { cluster } = await settle(healthy, at(10), MULTICLUSTER_FETCH_TICK);
    expect(reasons(cluster, 'b')).toMatchObject(expected);
    expect(String(condition(cluster, 'b', 'MetadataFetched')!.message)).toMatch(message);
    // The last good document stays in force; the other remote is untouched.
    expect((statusOf(cluster, 'b').metadataCache as Record<string, unknown>).private).toEqual(
      (statusOf(healthy, 'b').metadataCache as Record<string, unknown>).private,
    );
    expect(statusOf(cluster, 'c')).toEqual(statusOf(healthy, 'c'));
  });

  it('an unreachable remote: MetadataFetched False, the fetch-error metric 1 for its URL, backoff', async () => {
    const dead = {
      ...multicluster('b', peerB),
      spec: { metadataEndpoint: `https://127.0.0.1:${await closedPort()}/metadata/` },
    };
    dead.metadata = { ...dead.metadata, generation: 2 };
    const cluster = [dead, ...healthy.filter((o) => o.metadata.name !== 'b')];
    const { result, cluster: after } = await settle(cluster, at(10));
    expect(reasons(after, 'b')).toMatchObject({
      MetadataFetched: 'False/Unreachable',
      Ready: 'False/Unreachable',
    });
    const endpoint = `${(dead.spec as { metadataEndpoint: string }).metadataEndpoint}public/public.json`;
    expect(metric(result, MULTICLUSTER_METRICS.fetchError, { multicluster_name: 'b', endpoint })).toBe(1);
    expect(metric(result, MULTICLUSTER_METRICS.ready, { multicluster_name: 'b' })).toBe(0);
    expect(statusOf(after, 'b').fetchRetry).toMatchObject({ failures: 1, failedEndpoint: endpoint });
    expect(reasons(after, 'c')).toEqual(HEALTHY);
  });

  it('a remote claiming our clusterUUID is refused', async () => {
    peerB.clusterUUID = OUR_UUID;
    const { cluster } = await settle(healthy, at(12), MULTICLUSTER_FETCH_TICK);
    expect(reasons(cluster, 'b')).toMatchObject({
      TrustEstablished: 'False/LocalClusterUUID',
      Joined: 'False/PeerNotTrusted',
      RemoteAPIReachable: 'Unknown/NotProbed',
      Ready: 'False/LocalClusterUUID',
    });
  });

  it("an impostor reusing another remote's clusterUUID is refused; the real one stays Ready", async () => {
    const remote = {
      uuid: 'uuid-b',
      network: 'network-x',
      name: 'a-impostor',
      created: '2026-06-01T00:00:00Z',
    };
    await withExtraRemote(remote, async (object, impostor) => {
      const { cluster } = await settle([...healthy, object], at(14));
      expect(reasons(cluster, 'a-impostor')).toMatchObject({
        TrustEstablished: 'False/DuplicateClusterUUID',
        Ready: 'False/DuplicateClusterUUID',
      });
      expect(String(condition(cluster, 'a-impostor', 'TrustEstablished')!.message)).toMatch(
        /established by b/,
      );
      expect(reasons(cluster, 'b')).toEqual(HEALTHY);
      expect(impostor.requests).not.toContain('/api');
    });
  });

  it('a name equal to our own Istio cluster id is never joined', async () => {
    const { cluster } = await settle([multicluster(OUR_CLUSTER_ID, peerC)], at(16));
    expect(reasons(cluster, OUR_CLUSTER_ID)).toMatchObject({
      TrustEstablished: 'True/PeerTrusted',
      Joined: 'False/LocalClusterID',
      Ready: 'False/LocalClusterID',
    });
  });

  it("an older remote switching to a newer remote's network is refused; the newer stays joined", async () => {
    // b older than c, both joined and pinned to their networks (status.joinedNetwork).
    const aged = healthy.map((o) =>
      o.metadata.name === 'c'
        ? { ...o, metadata: { ...o.metadata, creationTimestamp: '2026-06-01T00:00:00Z' } }
        : o,
    );
    expect(statusOf(aged, 'b').joinedNetwork).toEqual({ networkName: 'network-b', since: rfc3339(started) });
    expect(statusOf(aged, 'c').joinedNetwork).toEqual({ networkName: 'network-c', since: rfc3339(started) });
    peerB.privateDocument = documentOf(peerB, 'network-c');
    const { cluster } = await settle(aged, at(18), MULTICLUSTER_FETCH_TICK);
    expect(reasons(cluster, 'c')).toEqual(HEALTHY);
    expect(statusOf(cluster, 'c')).toEqual(statusOf(aged, 'c'));
    expect(reasons(cluster, 'b')).toMatchObject({
      MetadataFetched: 'True/Fetched',
      Joined: 'False/DuplicateNetwork',
      Ready: 'False/DuplicateNetwork',
    });
    expect(String(condition(cluster, 'b', 'Joined')!.message)).toBe(
      `network network-c is already claimed by c (joined with it since ${rfc3339(started)}); this later claim is refused`,
    );
    // b's pin stays on the network it joined with.
    expect(statusOf(cluster, 'b').joinedNetwork).toEqual({
      networkName: 'network-b',
      since: rfc3339(started),
    });
    // The merge hook sees the same pins: c keeps its values item (remote Secret, meshNetworks), b has none.
    const items = await multiclusterItems(cluster);
    expect(items.map((i) => [i.name, i.networkName])).toEqual([['c', 'network-c']]);
    // Without the pins the older object would have taken the network.
    const unpinned = cluster.map((o) => ({
      ...o,
      status: { ...(o.status as Record<string, unknown>), joinedNetwork: undefined },
    }));
    expect((await multiclusterItems(unpinned)).map((i) => i.name)).toEqual(['b']);
  });

  it('a new object claiming a joined network is refused, however old its creation time', async () => {
    const remote = { uuid: 'uuid-d', network: 'network-c', name: 'a-older', created: '2020-01-01T00:00:00Z' };
    await withExtraRemote(remote, async (object, other) => {
      const { cluster } = await settle([...healthy, object], at(19));
      expect(reasons(cluster, 'a-older')).toMatchObject({
        TrustEstablished: 'True/PeerTrusted',
        Joined: 'False/DuplicateNetwork',
      });
      expect(statusOf(cluster, 'a-older').joinedNetwork).toBeUndefined();
      expect(reasons(cluster, 'c')).toEqual(HEALTHY);
      expect(other.requests).not.toContain('/api');
    });
  });

  it('a remote changing its own network (no conflict) stays joined; its pin moves', async () => {
    peerB.privateDocument = documentOf(peerB, 'network-b2');
    const { cluster } = await settle(healthy, at(20), MULTICLUSTER_FETCH_TICK);
    expect(reasons(cluster, 'b')).toMatchObject({ Joined: 'True/Joined' });
    expect(statusOf(cluster, 'b').joinedNetwork).toEqual({
      networkName: 'network-b2',
      since: rfc3339(at(20)),
      previous: 'network-b',
    });
    expect(String(condition(cluster, 'b', 'Joined')!.message)).toMatch(
      /network network-b2 \(changed from network-b at .*; accepted\)/,
    );
    expect((await multiclusterItems(cluster)).map((i) => [i.name, i.networkName])).toEqual([
      ['b', 'network-b2'],
      ['c', 'network-c'],
    ]);
  });
});

describe('multicluster fetch hook: the remote-API probe', () => {
  it.each<[string, () => unknown, string, RegExp]>([
    [
      'refuses our token',
      () => (peerB.apiBehaviour = raw('Unauthorized', 401)),
      'RemoteAPITokenRejected',
      /HTTP 401: the peer rejected our token; its admin must create an IstioMulticluster .*\(the peer said: "Unauthorized"\)$/,
    ],
    ['answers 500', () => (peerB.apiBehaviour = raw('oops', 500)), 'RemoteAPIBadResponse', /HTTP 500/],
    [
      'answers something else than APIVersions',
      () => (peerB.apiVersions = { kind: 'Status' }),
      'RemoteAPIUnexpectedResponse',
      /kind "Status"/,
    ],
    ['answers non-JSON', () => (peerB.apiBehaviour = raw('<html>')), 'RemoteAPIInvalidResponse', /not JSON/],
    ['never answers', () => (peerB.apiBehaviour = { kind: 'hang' }), 'RemoteAPIUnreachable', /within 700 ms/],
  ])('%s', async (_name, setup, reason, message) => {
    setup();
    const { result, cluster } = await settle(healthy, probeTick('b', at(20)), MULTICLUSTER_FETCH_TICK);
    expect(condition(cluster, 'b', 'RemoteAPIReachable')).toMatchObject({ status: 'False', reason });
    expect(String(condition(cluster, 'b', 'RemoteAPIReachable')!.message)).toMatch(message);
    // Part of Ready: istiod cannot sync a remote whose api-proxy refuses us.
    expect(condition(cluster, 'b', 'Ready')).toMatchObject({ status: 'False', reason });
    expect(
      metric(result, MULTICLUSTER_METRICS.apiHostCheckError, {
        multicluster_name: 'b',
        api_host: `127.0.0.1:${port(peerB)}`,
      }),
    ).toBe(1);
    expect(reasons(cluster, 'c')).toEqual(HEALTHY);
  });

  it('an apiHost on a closed port: unreachable; probed at once when the apiHost changes', async () => {
    peerB.privateDocument = { ...documentOf(peerB, 'network-b'), apiHost: `127.0.0.1:${await closedPort()}` };
    // Not the probe slot: the new apiHost alone makes the probe due.
    const { cluster } = await settle(healthy, at(22), MULTICLUSTER_FETCH_TICK);
    expect(condition(cluster, 'b', 'RemoteAPIReachable')).toMatchObject({
      status: 'False',
      reason: 'RemoteAPIUnreachable',
    });
  });
});

describe('multicluster fetch hook: disabled', () => {
  it('fetches nothing, keeps the cache, every status says MulticlusterDisabled, ready 0, no error series', async () => {
    const requests = peerB.requests.length;
    const result = await run(healthy, 'multiclusters', at(30), false);
    const after = applyStatusPatches(healthy, result.kubeOperations, KIND);
    expect(peerB.requests.length).toBe(requests);
    expect(reasons(after, 'b')).toMatchObject({
      MetadataFetched: 'True/Fetched',
      TrustEstablished: 'False/MulticlusterDisabled',
      Joined: 'False/MulticlusterDisabled',
      RemoteAPIReachable: 'False/MulticlusterDisabled',
      Ready: 'False/MulticlusterDisabled',
    });
    expect(statusOf(after, 'b').metadataCache).toEqual(statusOf(healthy, 'b').metadataCache);
    expect(metric(result, MULTICLUSTER_METRICS.ready, { multicluster_name: 'b' })).toBe(0);
    expect(result.metrics.filter((m) => 'name' in m && m.name === MULTICLUSTER_METRICS.fetchError)).toEqual(
      [],
    );
    expect(
      result.metrics.filter((m) => 'name' in m && m.name === MULTICLUSTER_METRICS.apiHostCheckError),
    ).toEqual([]);
    // Enabled again: probed at once, Ready again.
    const { cluster: back } = await settle(after, at(32));
    expect(reasons(back, 'b')).toEqual(HEALTHY);
  });
});
