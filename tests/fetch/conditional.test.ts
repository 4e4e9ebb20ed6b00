import { generateAuthnKeypair } from '../../lib/federation/identity/authn-keys';
import { fetchAllPeers } from '../../lib/federation/fetch/peer';
import type { PlanEntry } from '../../lib/federation/fetch/plan';
import { FEDERATION_KIND, readFederation } from '../../lib/federation/kind';
import { fetchLogEvents, type LogEvent } from '../../lib/federation/status/log';
import { nextStatuses } from '../../lib/federation/status/next';
import type { CachedPrivateDocument } from '../../lib/federation/wire/validate';
import { TestPeer } from './peer';

// Conditional fetches end to end below the hook: fetch -> record -> verdict -> project ->
// patch, against a real HTTPS peer on loopback, the status carried from run to run.
const OWN = { trustDomain: 'cluster-a.local', clusterUUID: 'uuid-a' };
const keys = generateAuthnKeypair();
const privateDoc = (port: number) => ({
  ingressGateways: [{ address: '192.0.2.10', port: 15443 }],
  publicServices: [{ hostname: 'bar.xyz.svc.cluster-b.local', ports: [{ name: 'http', port }] }],
});

const started = new Date(Math.floor(Date.now() / 1000) * 1000);
const at = (seconds: number) => new Date(started.getTime() + seconds * 1000);

function makePeer(): TestPeer {
  return new TestPeer({
    clusterUUID: 'uuid-b',
    trustDomain: 'cluster-b.local',
    privateDocument: privateDoc(8080),
    knownPeers: { [OWN.clusterUUID]: keys.pub },
  });
}

/** One federation object as the API holds it: spec, generation and the status written so far. */
class Federation {
  status: unknown = {};
  generation = 1;
  /** The hook's log events of the last run. */
  log: LogEvent[] = [];
  constructor(private readonly peer: TestPeer) {}

  /** One fetch run of this federation; the status patch it would write (undefined: none). */
  async run(now: Date): Promise<Record<string, unknown> | undefined> {
    const peer = readFederation(
      {
        name: 'b',
        generation: this.generation,
        spec: {
          trustDomain: 'cluster-b.local',
          metadataEndpoint: this.peer.endpoint,
          metadata: { ca: this.peer.pki.ca.certPem },
        },
        status: this.status,
      },
      { ownTrustDomain: OWN.trustDomain },
    )!;
    const plan: PlanEntry<CachedPrivateDocument>[] = [{ peer, action: 'fetch', why: 'refresh' }];
    const outcomes = await fetchAllPeers(
      [peer],
      { local: { ...OWN, authnPrivateKey: keys.priv }, now },
      FEDERATION_KIND.codec,
    );
    const { statuses } = nextStatuses(FEDERATION_KIND, plan, outcomes, { local: { ...OWN, now } });
    const [{ next, patch }] = statuses as [(typeof statuses)[number]];
    this.log = fetchLogEvents(statuses[0]!);
    this.status = JSON.parse(JSON.stringify(next));
    return patch;
  }

  get cache(): Record<string, unknown> {
    return (this.status as { metadataCache: Record<string, unknown> }).metadataCache;
  }
}

const sent = (peer: TestPeer, path: string) =>
  peer.requests.flatMap((p, i) =>
    p.endsWith(path) ? [peer.requestHeaders[i]!['if-none-match'] ?? null] : [],
  );

describe('conditional fetches (ETag, If-None-Match, 304)', () => {
  const peers: TestPeer[] = [];
  const started_ = async (etags: boolean) => {
    const peer = makePeer();
    peer.etags = etags;
    peers.push(peer);
    await peer.start();
    return peer;
  };
  afterAll(() => Promise.all(peers.map((p) => p.stop())));

  it('stores the ETags, then an unchanged peer costs two 304s and no status write', async () => {
    const peer = await started_(true);
    const fed = new Federation(peer);
    expect(await fed.run(at(0))).toBeDefined();
    expect(fed.cache.publicETag).toMatch(/^"[\w-]+"$/);
    expect(fed.cache.privateETag).toMatch(/^"[\w-]+"$/);
    const before = structuredClone(fed.status);
    expect(await fed.run(at(10))).toBeUndefined();
    expect(await fed.run(at(20))).toBeUndefined();
    expect(fed.status).toEqual(before);
    expect(peer.responses.get(304)).toBe(4);
    expect(fed.log).toContainEqual(
      expect.objectContaining({
        message: 'remote metadata fetched',
        fields: expect.objectContaining({ notModified: true }),
      }),
    );
    // Both documents of a run over one connection: three runs, three TLS handshakes.
    expect(peer.connections).toBe(3);
    expect(sent(peer, 'public.json')).toEqual([null, fed.cache.publicETag, fed.cache.publicETag]);
    expect(sent(peer, 'federation.json')).toEqual([null, fed.cache.privateETag, fed.cache.privateETag]);
  });

  it('removes from status what reading refused, once, even when the peer is unchanged (304)', async () => {
    const peer = await started_(true);
    const fed = new Federation(peer);
    await fed.run(at(0));
    // Someone (or an older module version) left a gateway inside our own domain in the cache.
    const gateways = (fed.cache.private as { ingressGateways: unknown[] }).ingressGateways;
    gateways.push({ address: 'gw.cluster-a.local', port: 15443 });
    const patch = await fed.run(at(10));
    expect(peer.responses.get(304)).toBe(2);
    expect(patch).toMatchObject({
      metadataCache: { private: { ingressGateways: [{ address: '192.0.2.10', port: 15443 }] } },
    });
    expect(fed.log.filter((e) => e.message === 'ignored invalid metadata in status')).toHaveLength(1);
    expect(await fed.run(at(20))).toBeUndefined();
    expect(fed.log.filter((e) => e.message === 'ignored invalid metadata in status')).toEqual([]);
  });

  it('takes a changed document with its new ETag', async () => {
    const peer = await started_(true);
    const fed = new Federation(peer);
    await fed.run(at(0));
    const firstETag = fed.cache.privateETag;
    peer.privateDocument = privateDoc(9090);
    const patch = await fed.run(at(10));
    expect(patch).toMatchObject({ metadataCache: { privateETag: expect.any(String) } });
    expect(fed.cache.privateETag).not.toBe(firstETag);
    expect(fed.log).toContainEqual(
      expect.objectContaining({ fields: expect.objectContaining({ notModified: false }) }),
    );
    expect(JSON.stringify(fed.cache.private)).toContain('9090');
    expect(await fed.run(at(20))).toBeUndefined();
    expect(peer.responses.get(304)).toBe(3); // public at 10 and 20, private at 20
  });

  it('a peer without ETags (Deckhouse) is fetched in full every time and works as before', async () => {
    const peer = await started_(false);
    const fed = new Federation(peer);
    expect(await fed.run(at(0))).toBeDefined();
    expect(fed.cache.publicETag).toBeUndefined();
    expect(fed.cache.privateETag).toBeUndefined();
    expect(await fed.run(at(10))).toBeUndefined();
    expect(peer.responses.get(200)).toBe(4);
    expect(peer.responses.get(304)).toBeUndefined();
    expect(sent(peer, '.json').every((h) => h === null)).toBe(true);
  });

  it('a 304 to an unconditional request is an error, and the last good data stays', async () => {
    const peer = await started_(false);
    const fed = new Federation(peer);
    await fed.run(at(0));
    const cached = JSON.stringify(fed.cache.private);
    peer.privateBehaviour = { kind: 'raw', status: 304, body: '' };
    const patch = await fed.run(at(10));
    expect(patch).toMatchObject({ lastError: expect.stringContaining('HTTP 304') });
    expect(JSON.stringify(fed.cache.private)).toBe(cached);
  });

  it('drops the ETags on a spec change and asks unconditionally', async () => {
    const peer = await started_(true);
    const fed = new Federation(peer);
    await fed.run(at(0));
    fed.generation = 2;
    await fed.run(at(10));
    expect(sent(peer, 'public.json')).toEqual([null, null]);
    expect(fed.cache.publicETag).toMatch(/^"/); // fetched again in full: the same ETag, now for generation 2
    await fed.run(at(20));
    expect(sent(peer, 'public.json').at(-1)).toBe(fed.cache.publicETag);
  });

  it('asks unconditionally once the timestamp heartbeat is due, so the timestamps still move', async () => {
    const peer = await started_(true);
    const fed = new Federation(peer);
    await fed.run(at(0));
    const first = fed.cache.privateLastFetchTimestamp;
    const patch = await fed.run(at(601));
    expect(sent(peer, 'federation.json')).toEqual([null, null]);
    expect(patch).toMatchObject({ metadataCache: { privateLastFetchTimestamp: expect.any(String) } });
    expect(fed.cache.privateLastFetchTimestamp).not.toBe(first);
  });

  it('ignores an ETag edited into status that could not be sent back as a header', async () => {
    const peer = await started_(true);
    const fed = new Federation(peer);
    await fed.run(at(0));
    fed.cache.publicETag = '"x"\r\nX-Injected: 1';
    await fed.run(at(10));
    expect(sent(peer, 'public.json').at(-1)).toBeNull();
    expect(peer.requestHeaders.some((h) => 'x-injected' in h)).toBe(false);
  });
});
