import { X509Certificate } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createFetchMetadataHook, FETCH_TICK } from '../../hooks/federation/fetch-metadata';
import { MAX_DOCUMENT_BYTES } from '../../lib/federation/wire/documents';
import { MAX_CACHED_PRIVATE_DOCUMENT_CHARS } from '../../lib/federation/fetch/peer';
import { missingLocalIdentity } from '../../lib/federation/identity/local';
import {
  FETCH_DURATION_BUCKETS,
  FETCH_METRICS,
  FETCH_METRICS_GROUP,
  fetchDurationGroup,
} from '../../lib/federation/status/metrics';
import { inRefreshSlot, DEFAULT_REFRESH_POLICY } from '../../lib/federation/fetch/refresh';
import type { KubeObject } from '../../lib/hook-sdk';
import { toPem } from '../../lib/pki/ca-certificates';
import { hookConfig } from '../../lib/hook-sdk/config';
import type { HarnessResult } from '../../lib/hook-sdk/testing';
import { prunedStatusPaths } from '../support/crd-schema';
import { CLUSTER_A_GLOBAL, clusterAHarness } from '../support/module';
import { makeCertificate, makeServerPki } from './certs';
import { applyStatusPatches, istioFederation, statusOf } from './cluster';
import { deckhouseKeypair, goJson, TestPeer, type Behaviour } from './peer';
import { closedPort } from '../support/closed-port';

const OUR_UUID = (CLUSTER_A_GLOBAL.discovery as { clusterUUID: string }).clusterUUID;
const ourKeys = deckhouseKeypair();
const harness = clusterAHarness();
const hook = createFetchMetadataHook({
  limits: {
    connectTimeoutMs: 2_000,
    tlsHandshakeTimeoutMs: 1_000,
    requestTimeoutMs: 700,
    maxBytes: MAX_DOCUMENT_BYTES,
  },
});

// One clock for the hook (`now`) and the peers' token checks; tests move it explicitly.
const started = new Date(Math.floor(Date.now() / 1000) * 1000);
let clock = started;
const at = (seconds: number) => new Date(started.getTime() + seconds * 1000);

const privateB = {
  ingressGateways: [{ address: '192.0.2.10', port: 15443 }],
  publicServices: [
    {
      hostname: 'bar.xyz.svc.cluster-b.local',
      ports: [
        { name: 'http', port: 8080 },
        { name: 'grpc-api', port: 9090 },
      ],
    },
  ],
};
const peerB = new TestPeer({
  clusterUUID: 'uuid-b',
  trustDomain: 'cluster-b.local',
  privateDocument: privateB,
  knownPeers: { [OUR_UUID]: ourKeys.pub },
  now: () => clock,
});
// Go marshals nil slices as null: a peer that exports nothing yet.
const peerC = new TestPeer({
  clusterUUID: 'uuid-c',
  trustDomain: 'cluster-c.local',
  privateDocument: '{"ingressGateways":null,"publicServices":null}\n',
  knownPeers: { [OUR_UUID]: ourKeys.pub },
  now: () => clock,
});

const enabled = { federation: { enabled: true } };
const withKeys = { internal: { remoteAuthnKeypair: ourKeys } };

function run(cluster: KubeObject[], trigger: string, now: Date, values: Record<string, unknown> = withKeys) {
  clock = now;
  return harness.run(hook, { cluster, trigger, now, configValues: enabled, values });
}

function fedB(overrides: Partial<{ metadataEndpoint: string; ca: string }> = {}): KubeObject {
  return istioFederation('b', {
    trustDomain: 'cluster-b.local',
    metadataEndpoint: overrides.metadataEndpoint ?? peerB.endpoint,
    ca: overrides.ca ?? peerB.pki.ca.certPem,
  });
}
const fedC = () =>
  istioFederation('c', {
    trustDomain: 'cluster-c.local',
    metadataEndpoint: peerC.endpoint,
    ca: peerC.pki.ca.certPem,
  });

/** The first schedule tick after `from` at which `name` is due for its periodic refresh. */
function slotTick(name: string, from: Date): Date {
  const { tickSeconds, refreshSeconds } = DEFAULT_REFRESH_POLICY;
  const start = Math.ceil(from.getTime() / 1000 / tickSeconds) * tickSeconds;
  for (let t = start; t < start + refreshSeconds + tickSeconds; t += tickSeconds) {
    if (inRefreshSlot(name, new Date(t * 1000), DEFAULT_REFRESH_POLICY)) return new Date(t * 1000);
  }
  throw new Error('no slot found');
}

function metric(result: HarnessResult, name: string, labels: Record<string, string>): number | undefined {
  const op = result.metrics.find(
    (m) => 'name' in m && m.name === name && Object.entries(labels).every(([k, v]) => m.labels?.[k] === v),
  );
  return op && 'value' in op ? op.value : undefined;
}

function condition(cluster: KubeObject[], name: string, type: string): Record<string, unknown> | undefined {
  const conditions = (statusOf(cluster, name).conditions ?? []) as Record<string, unknown>[];
  return conditions.find((c) => c.type === type);
}

function resetPeers(): void {
  for (const peer of [peerB, peerC]) {
    peer.publicBehaviour = { kind: 'document' };
    peer.privateBehaviour = { kind: 'document' };
    peer.publicOverrides = {};
  }
  peerB.clusterUUID = 'uuid-b';
  peerC.clusterUUID = 'uuid-c';
  peerB.privateDocument = privateB;
}

let healthy: KubeObject[];

beforeAll(async () => {
  await Promise.all([peerB.start(), peerC.start()]);
  const first = await run([fedB(), fedC()], 'federations', started);
  healthy = applyStatusPatches([fedB(), fedC()], first.kubeOperations);
});
afterAll(() => Promise.all([peerB.stop(), peerC.stop()]));
afterEach(resetPeers);

const reencoded = (pem: string) => toPem(new X509Certificate(pem).raw);

describe('fetch hook: root CA filtering (issue 10 item 4)', () => {
  it('keeps only the CA certificate of a rootCA that also holds a private key and text, and names the rest', async () => {
    peerB.publicOverrides = { rootCA: `root of B\n${peerB.rootCA.certPem}${peerB.rootCA.keyPem}` };
    const result = await run(healthy, FETCH_TICK, slotTick('b', at(1)));
    const after = applyStatusPatches(healthy, result.kubeOperations);
    const status = statusOf(after, 'b');
    expect((status.metadataCache as { public?: { rootCA?: string } }).public?.rootCA).toBe(
      reencoded(peerB.rootCA.certPem),
    );
    expect(JSON.stringify(status)).not.toContain('PRIVATE KEY-----');
    expect(status.rejectedItems).toEqual([
      expect.stringMatching(/^rootCA block #2 \(RSA PRIVATE KEY\): a private key/),
      'rootCA: 1 line(s) of text outside PEM blocks ignored',
    ]);
    expect(condition(after, 'b', 'TrustEstablished')).toMatchObject({ status: 'True' });
  });

  it('drops a root istiod would refuse (negative serial), so it cannot make istiod drop every peer root (issue 11)', async () => {
    // A real CA certificate that node:crypto parses but Go's crypto/x509 (istiod) refuses;
    // tests/istiod shows istiod then drops the whole trust update.
    const negative = makeCertificate({
      commonName: 'negative serial root',
      isCA: true,
      serialHex: 'ff' + '11'.repeat(8),
    });
    peerB.publicOverrides = { rootCA: `${negative.certPem}${peerB.rootCA.certPem}` };
    const result = await run(healthy, FETCH_TICK, slotTick('b', at(1)));
    const after = applyStatusPatches(healthy, result.kubeOperations);
    const status = statusOf(after, 'b');
    expect((status.metadataCache as { public?: { rootCA?: string } }).public?.rootCA).toBe(
      reencoded(peerB.rootCA.certPem),
    );
    expect(status.rejectedItems).toEqual([
      expect.stringMatching(/^rootCA block #1 .*negative serial number/),
    ]);
  });
});

describe('fetch hook: happy path against Deckhouse-format peers', () => {
  it('caches both documents with the reference keys and reports Ready', () => {
    const b = statusOf(healthy, 'b');
    expect(b.metadataCache).toEqual({
      // rootCA re-encoded from its DER (the peer's forge PEM has CRLF line ends).
      public: {
        clusterUUID: 'uuid-b',
        authnKeyPub: peerB.keypair.pub,
        rootCA: reencoded(peerB.rootCA.certPem),
      },
      publicLastFetchTimestamp: started.toISOString().replace('.000Z', 'Z'),
      // Compact (lib/federation/cached/compact.ts): bar.xyz.svc.cluster-b.local -> port list 0.
      private: {
        ingressGateways: [{ address: '192.0.2.10', port: 15443 }],
        portSets: [
          [
            { name: 'http', port: 8080, protocol: 'HTTP' },
            { name: 'grpc-api', port: 9090, protocol: 'HTTP2' },
          ],
        ],
        services: { xyz: { bar: 0 } },
      },
      privateLastFetchTimestamp: started.toISOString().replace('.000Z', 'Z'),
    });
    expect(b).toMatchObject({ observedGeneration: 1, importedServices: 1 });
    expect(b.lastError).toBeUndefined();
    for (const type of ['MetadataFetched', 'TrustEstablished', 'ServicesImported', 'Ready']) {
      expect(condition(healthy, 'b', type)).toMatchObject({ status: 'True', observedGeneration: 1 });
    }
  });

  it('treats null lists from a Go peer as empty', () => {
    expect(statusOf(healthy, 'c').metadataCache).toMatchObject({
      private: { ingressGateways: [], portSets: [], services: {} },
    });
    expect(condition(healthy, 'c', 'ServicesImported')).toMatchObject({
      status: 'True',
      reason: 'NoPublicServices',
    });
  });

  it('sent a token the reference exporter accepts (aud, sub, scope, exp, EdDSA signature)', () => {
    const check = peerB.tokenChecks[0]!;
    expect(check).toMatchObject({ accepted: true });
    expect(check.claims).toMatchObject({
      iss: 'd8-istio',
      aud: 'uuid-b',
      sub: OUR_UUID,
      scope: 'private-federation',
    });
    expect((check.claims!.exp as number) - (check.claims!.nbf as number)).toBe(60);
    expect(peerC.tokenChecks[0]).toMatchObject({ accepted: true, claims: { aud: 'uuid-c' } });
  });

  it('emits no kube operation and fetches nothing on the event its own status patch causes', async () => {
    const requests = peerB.requests.length + peerC.requests.length;
    const result = await run(healthy, 'federations', at(2));
    expect(result.kubeOperations).toEqual([]);
    expect(peerB.requests.length + peerC.requests.length).toBe(requests);
    expect(result.metrics[0]).toEqual({ action: 'expire', group: FETCH_METRICS_GROUP });
    expect(
      metric(result, FETCH_METRICS.fetchError, {
        federation_name: 'b',
        endpoint: `${peerB.endpoint}public/public.json`,
      }),
    ).toBe(0);
    expect(
      metric(result, FETCH_METRICS.fetchError, {
        federation_name: 'b',
        endpoint: `${peerB.endpoint}private/federation.json`,
      }),
    ).toBe(0);
    expect(metric(result, FETCH_METRICS.ready, { federation_name: 'b' })).toBe(1);
    expect(metric(result, FETCH_METRICS.dataAge, { federation_name: 'b' })).toBe(0);
    expect(metric(result, FETCH_METRICS.staleSince, { federation_name: 'b' })).toBeUndefined();
  });

  it('re-fetches a healthy peer on its refresh tick without writing when nothing changed', async () => {
    const tick = slotTick('b', at(1));
    const requests = peerB.requests.length;
    const result = await run(healthy, FETCH_TICK, tick);
    expect(peerB.requests.length).toBe(requests + 2);
    expect(result.kubeOperations).toEqual([]);
    expect(metric(result, FETCH_METRICS.fetchDuration, { federation_name: 'b' })).toBeGreaterThan(0);
    // A histogram observation in the federation's own group (addon-operator expires every
    // group a run writes to: a shared group would drop the other peers' histograms).
    const observations = result.metrics.filter((m) => m.action === 'observe');
    for (const o of observations) expect(o.group).toBe(fetchDurationGroup(o.labels!.federation_name!));
    expect(observations).toContainEqual({
      name: FETCH_METRICS.fetchDuration,
      action: 'observe',
      value: expect.any(Number),
      buckets: [...FETCH_DURATION_BUCKETS],
      labels: { federation_name: 'b' },
      group: fetchDurationGroup('b'),
    });
    expect(fetchDurationGroup('b')).not.toBe(fetchDurationGroup('c'));
    expect(fetchDurationGroup('b')).not.toBe(FETCH_METRICS_GROUP);
    expect(result.metrics.filter((m) => m.action === 'expire')).toEqual([
      { action: 'expire', group: FETCH_METRICS_GROUP },
    ]);
  });
});

interface FailureCase {
  name: string;
  setup: () => Promise<KubeObject | void> | KubeObject | void;
  reason: string;
  failed: 'public' | 'private';
  message: RegExp;
}

const raw = (body: string, status = 200): Behaviour => ({ kind: 'raw', status, body });

const failureCases: FailureCase[] = [
  {
    name: 'unreachable peer (closed port)',
    setup: async () => fedB({ metadataEndpoint: `https://127.0.0.1:${await closedPort()}/metadata/` }),
    reason: 'Unreachable',
    failed: 'public',
    message: /ECONNREFUSED/,
  },
  {
    name: 'TLS failure (certificate not signed by spec.metadata.ca)',
    setup: () => fedB({ ca: makeServerPki('wrong').ca.certPem }),
    reason: 'TLSError',
    failed: 'public',
    message: /certificate/,
  },
  {
    name: 'slow peer that never answers',
    setup: () => void (peerB.publicBehaviour = { kind: 'hang' }),
    reason: 'Timeout',
    failed: 'public',
    message: /within 700 ms/,
  },
  {
    name: 'HTTP 403 on the private document: the peer rejects our token',
    setup: () => void (peerB.privateBehaviour = raw('forbidden', 403)),
    reason: 'TokenRejected',
    failed: 'private',
    message:
      /HTTP 403: the peer rejected our token; its admin must create an IstioFederation with spec\.trustDomain: /,
  },
  {
    name: 'HTTP 500 on the public document',
    setup: () => void (peerB.publicBehaviour = raw('oops', 500)),
    reason: 'HTTPError',
    failed: 'public',
    message: /HTTP 500/,
  },
  {
    name: 'redirect to another host',
    setup: () => void (peerB.publicBehaviour = { kind: 'redirect', location: 'https://evil.example/x' }),
    reason: 'Redirect',
    failed: 'public',
    message: /evil\.example/,
  },
  {
    name: 'non-JSON body',
    setup: () => void (peerB.privateBehaviour = raw('<html>maintenance</html>')),
    reason: 'InvalidDocument',
    failed: 'private',
    message: /not JSON/,
  },
  {
    name: 'JSON of the wrong shape (public)',
    setup: () => void (peerB.publicBehaviour = raw('[1,2,3]')),
    reason: 'InvalidDocument',
    failed: 'public',
    message: /must be object/,
  },
  {
    name: 'JSON of the wrong shape (private)',
    setup: () => void (peerB.privateBehaviour = raw('{"publicServices":{"a":1}}')),
    reason: 'InvalidDocument',
    failed: 'private',
    message: /publicServices/,
  },
  {
    name: 'missing keys in the public document',
    setup: () => void (peerB.publicBehaviour = raw('{"clusterUUID":"uuid-b"}')),
    reason: 'InvalidDocument',
    failed: 'public',
    message: /must have required property/,
  },
  {
    name: '10 MiB body',
    setup: () =>
      void (peerB.privateBehaviour = { kind: 'stream', bytes: 10 * 1024 * 1024, declareLength: false }),
    reason: 'TooLarge',
    failed: 'private',
    message: new RegExp(`exceeds ${MAX_DOCUMENT_BYTES} bytes`),
  },
  {
    // ~1.5 MB on the wire (under the 4 MiB cap); every service with its own port list, so
    // even the compact cached form takes more than 512 KiB.
    name: 'private document over the status cap once cached',
    setup: () =>
      void (peerB.privateDocument = {
        ingressGateways: [{ address: '192.0.2.10', port: 15443 }],
        publicServices: Array.from({ length: 20_000 }, (_, i) => ({
          hostname: `s${String(i).padStart(5, '0')}.xyz.svc.cluster-b.local`,
          ports: [{ name: 'http', port: 1 + i }],
        })),
      }),
    reason: 'TooLarge',
    failed: 'private',
    message: new RegExp(
      `private/federation.json: the validated document takes \\d+ characters in status.metadataCache.private, over the limit of ${MAX_CACHED_PRIVATE_DOCUMENT_CHARS}`,
    ),
  },
  {
    name: 'root CA that is not a CA',
    setup: () =>
      void (peerB.publicOverrides = {
        rootCA: makeCertificate({ commonName: 'leaf', isCA: false, issuer: peerB.rootCA }).certPem,
      }),
    reason: 'InvalidDocument',
    failed: 'public',
    message: /not a CA certificate/,
  },
  {
    name: 'expired root CA',
    setup: () =>
      void (peerB.publicOverrides = {
        rootCA: makeCertificate({
          commonName: 'old',
          isCA: true,
          notBefore: new Date('2020-01-01T00:00:00Z'),
          notAfter: new Date('2021-01-01T00:00:00Z'),
        }).certPem,
      }),
    reason: 'InvalidDocument',
    failed: 'public',
    message: /expired/,
  },
  {
    name: 'garbage root CA',
    setup: () =>
      void (peerB.publicOverrides = {
        rootCA: '-----BEGIN CERTIFICATE-----\nZ2FyYmFnZQ==\n-----END CERTIFICATE-----\n',
      }),
    reason: 'InvalidDocument',
    failed: 'public',
    message: /does not parse/,
  },
  {
    name: 'authn key that is not Ed25519',
    setup: () => void (peerB.publicOverrides = { authnKeyPub: 'not a key' }),
    reason: 'InvalidDocument',
    failed: 'public',
    message: /authnKeyPub/,
  },
];

describe('fetch hook: Events on condition transitions (issue 13)', () => {
  const eventsOf = (result: HarnessResult) =>
    result.kubeOperations.flatMap((op) =>
      op.operation === 'CreateIfNotExists' && op.object.kind === 'Event' ? [op.object] : [],
    );

  it('one Event per condition that appears or flips, on the cluster-scoped object, created if not there', async () => {
    const first = await run([fedB()], 'federations', started);
    const events = eventsOf(first);
    expect(events.map((e) => [e.type, e.reason])).toEqual([
      ['Normal', 'Fetched'],
      ['Normal', 'PeerTrusted'],
      ['Normal', 'Imported'],
      ['Normal', 'Ready'],
    ]);
    for (const event of events) {
      expect(event).toMatchObject({
        apiVersion: 'v1',
        metadata: { namespace: 'default', name: expect.stringMatching(/^b\.[0-9a-f]{16}$/) },
        involvedObject: {
          apiVersion: 'deckhouse.io/v1alpha1',
          kind: 'IstioFederation',
          name: 'b',
          uid: 'uid-b',
        },
      });
    }
  });

  it('at most 40 per run, all after the status patches', async () => {
    // Eleven federations refused for their trust domain: four conditions each appear at once.
    const refused = Array.from({ length: 11 }, (_, i) =>
      istioFederation(`bad-${String(i).padStart(2, '0')}`, {
        trustDomain: 'Not_A_Domain',
        metadataEndpoint: peerB.endpoint,
      }),
    );
    const result = await run(refused, 'federations', started);
    expect(eventsOf(result)).toHaveLength(40);
    const kinds = result.kubeOperations.map((op) => op.operation);
    expect(kinds.filter((k) => k === 'MergePatch')).toHaveLength(11);
    expect(kinds.lastIndexOf('MergePatch')).toBeLessThan(kinds.indexOf('CreateIfNotExists'));
    expect(eventsOf(result).every((e) => e.type === 'Warning')).toBe(true);
  });

  it('Warning Events when the peer rejects our token; none when nothing flips', async () => {
    const cluster = healthy.filter((o) => o.metadata.name === 'b');
    peerB.privateBehaviour = raw('unknown peer', 401);
    const failed = await run(cluster, FETCH_TICK, slotTick('b', at(1)));
    expect(eventsOf(failed).map((e) => [e.type, e.reason, e.message])).toEqual([
      [
        'Warning',
        'TokenRejected',
        expect.stringMatching(/^MetadataFetched=False: GET .*HTTP 401: the peer rejected our token/),
      ],
      ['Warning', 'TokenRejected', expect.stringMatching(/^Ready=False: MetadataFetched: /)],
    ]);
    // The same run retried (later, same previous status) names the same Events.
    const nextSlot = slotTick('b', new Date(slotTick('b', at(1)).getTime() + 1000));
    const retried = await run(cluster, FETCH_TICK, nextSlot);
    expect(eventsOf(retried).map((e) => (e.metadata as { name: string }).name)).toEqual(
      eventsOf(failed).map((e) => (e.metadata as { name: string }).name),
    );
    const unchanged = await run(healthy, 'federations', at(1));
    expect(eventsOf(unchanged)).toEqual([]);
  });
});

describe('fetch hook: bad remote input keeps the last good data', () => {
  it.each(failureCases.map((c) => [c.name, c] as const))('%s', async (_name, testCase) => {
    const replaced = await testCase.setup();
    const cluster = healthy.map((o) =>
      replaced && o.metadata.name === 'b' ? { ...replaced, status: o.status } : o,
    );
    const result = await run(cluster, FETCH_TICK, slotTick('b', at(1)));
    const after = applyStatusPatches(cluster, result.kubeOperations);
    const endpoint =
      (replaced?.spec as { metadataEndpoint?: string } | undefined)?.metadataEndpoint ?? peerB.endpoint;
    const failedUrl = `${endpoint}${testCase.failed === 'public' ? 'public/public.json' : 'private/federation.json'}`;

    expect(statusOf(after, 'b').metadataCache).toEqual(statusOf(healthy, 'b').metadataCache);
    expect(statusOf(after, 'b').importedServices).toBe(1);
    expect(condition(after, 'b', 'MetadataFetched')).toMatchObject({
      status: 'False',
      reason: testCase.reason,
      message: expect.stringMatching(testCase.message),
    });
    expect(condition(after, 'b', 'MetadataFetched')?.message).toMatch(/stays in force \(stale since /);
    expect(condition(after, 'b', 'TrustEstablished')).toMatchObject({ status: 'True' });
    expect(condition(after, 'b', 'Ready')).toMatchObject({ status: 'False', reason: testCase.reason });
    expect(statusOf(after, 'b').lastError).toMatch(testCase.message);
    expect(statusOf(after, 'b').fetchRetry).toMatchObject({ failures: 1, failedEndpoint: failedUrl });
    expect(metric(result, FETCH_METRICS.fetchError, { federation_name: 'b', endpoint: failedUrl })).toBe(1);
    const tick = slotTick('b', at(1));
    expect(metric(result, FETCH_METRICS.dataAge, { federation_name: 'b' })).toBe(
      (tick.getTime() - started.getTime()) / 1000,
    );
    expect(metric(result, FETCH_METRICS.lastSuccess, { federation_name: 'b' })).toBe(
      started.getTime() / 1000,
    );
    // Stale since the condition's transition (this run), not since the last heartbeat.
    expect(metric(result, FETCH_METRICS.staleSince, { federation_name: 'b' })).toBe(
      Date.parse(condition(after, 'b', 'MetadataFetched')!.lastTransitionTime as string) / 1000,
    );
    expect(result.logs).toContainEqual(
      expect.objectContaining({
        level: 'warn',
        federation: 'b',
        reason: testCase.reason,
        endpoint: failedUrl,
      }),
    );
    // The other federation is untouched.
    expect(statusOf(after, 'c')).toEqual(statusOf(healthy, 'c'));
  });

  it('backs off: not retried before notBefore (no fetch, no write), retried after', async () => {
    peerB.publicBehaviour = raw('oops', 500);
    const failed = applyStatusPatches(
      healthy,
      (await run(healthy, FETCH_TICK, slotTick('b', at(1)))).kubeOperations,
    );
    const notBefore = new Date((statusOf(failed, 'b').fetchRetry as { notBefore: string }).notBefore);
    const requests = peerB.requests.length;
    const early = await run(failed, FETCH_TICK, new Date(notBefore.getTime() - 1000));
    expect(early.kubeOperations).toEqual([]);
    expect(peerB.requests.length).toBe(requests);

    peerB.publicBehaviour = { kind: 'document' };
    const retry = await run(failed, FETCH_TICK, notBefore);
    const recovered = applyStatusPatches(failed, retry.kubeOperations);
    expect(condition(recovered, 'b', 'Ready')).toMatchObject({ status: 'True' });
    expect(statusOf(recovered, 'b').fetchRetry).toBeUndefined();
    expect(statusOf(recovered, 'b').lastError).toBeUndefined();
  });
});

describe('fetch hook: item-level validation of the private document', () => {
  it('lists rejected items in status and imports the valid ones', async () => {
    peerB.privateDocument = {
      ingressGateways: [{ address: '192.0.2.10', port: 15443 }],
      publicServices: [
        ...privateB.publicServices,
        { hostname: 'foo.xyz.svc.cluster-x.local', ports: [{ name: 'http', port: 80 }] },
        { hostname: 'mine.xyz.svc.cluster-a.local', ports: [{ name: 'http', port: 80 }] },
        { hostname: 'big.xyz.svc.cluster-b.local', ports: [{ name: 'http', port: 70000 }] },
        {
          hostname: 'dup.xyz.svc.cluster-b.local',
          ports: [
            { name: 'http', port: 80 },
            { name: 'tcp', port: 80 },
          ],
        },
      ],
    };
    const result = await run(healthy, FETCH_TICK, slotTick('b', at(1)));
    const after = applyStatusPatches(healthy, result.kubeOperations);
    expect(statusOf(after, 'b').rejectedItems).toEqual([
      'publicServices[1] foo.xyz.svc.cluster-x.local: hostname outside *.svc.cluster-b.local',
      'publicServices[2] mine.xyz.svc.cluster-a.local: hostname inside our own domain cluster-a.local',
      expect.stringMatching(/^publicServices\[3\] big\.xyz\.svc\.cluster-b\.local: .*<= 65535/),
      'publicServices[4] dup.xyz.svc.cluster-b.local: duplicate port 80',
    ]);
    expect(statusOf(after, 'b').metadataCache).toEqual(statusOf(healthy, 'b').metadataCache);
    expect(condition(after, 'b', 'ServicesImported')).toMatchObject({
      status: 'True',
      message: expect.stringContaining('4 item(s) rejected'),
    });
    expect(result.logs).toContainEqual(
      expect.objectContaining({ level: 'warn', msg: 'some remote metadata items were rejected' }),
    );
  });
});

describe('fetch hook: a large peer (issue 10 item 6)', () => {
  it('imports one peer with 10,000 services: the cached form stays under the status cap', async () => {
    peerB.privateDocument = {
      ingressGateways: [{ address: '192.0.2.10', port: 15443 }],
      publicServices: Array.from({ length: 10_000 }, (_, i) => ({
        hostname: `service-${i}.namespace-${i % 50}.svc.cluster-b.local`,
        ports: [
          { name: 'http', port: 8080 },
          { name: 'grpc-api', port: 9090 },
        ],
      })),
    };
    const result = await run(healthy, FETCH_TICK, slotTick('b', at(1)));
    const after = applyStatusPatches(healthy, result.kubeOperations);
    expect(condition(after, 'b', 'MetadataFetched')).toMatchObject({ status: 'True' });
    expect(statusOf(after, 'b').importedServices).toBe(10_000);
    expect(condition(after, 'b', 'Ready')).toMatchObject({ status: 'True' });
    const cached = JSON.stringify(
      (statusOf(after, 'b').metadataCache as { private: unknown }).private,
    ).length;
    expect(cached).toBeLessThan(MAX_CACHED_PRIVATE_DOCUMENT_CHARS);
    // Read back from status, the same 10,000 services: nothing is rejected, nothing rewritten.
    expect((await run(after, FETCH_TICK, at(2))).kubeOperations).toEqual([]);
  });
});

describe('fetch hook: documents from newer Deckhouse versions (issue 10 item 15)', () => {
  it('accepts unknown keys (crl, clusterID, ambientGateways) and writes a status the CRD keeps whole', async () => {
    peerB.publicOverrides = { crl: '-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n' };
    peerB.privateDocument = {
      ...privateB,
      clusterID: 'cluster-b',
      ambientGateways: [{ address: '192.0.2.99', port: 15008 }],
      publicServices: privateB.publicServices.map((s) => ({ ...s, appProtocols: ['http'], extra: { x: 1 } })),
    };
    const result = await run(healthy, FETCH_TICK, slotTick('b', at(1)));
    const after = applyStatusPatches(healthy, result.kubeOperations);
    expect(condition(after, 'b', 'Ready')).toMatchObject({ status: 'True' });
    expect(statusOf(after, 'b').rejectedItems).toBeUndefined();
    expect(statusOf(after, 'b').metadataCache).toEqual(statusOf(healthy, 'b').metadataCache);
    for (const name of ['b', 'c']) expect(prunedStatusPaths(statusOf(after, name))).toEqual([]);
  });
});

describe('fetch hook: refused items never silently empty an import (issue 10 item 5)', () => {
  it('a document whose every service is refused keeps the last good data and says so', async () => {
    peerB.privateDocument = {
      ingressGateways: [{ address: '192.0.2.10', port: 15443 }],
      publicServices: [
        { hostname: 'foo.xyz.svc.cluster-x.local', ports: [{ name: 'http', port: 80 }] },
        { hostname: 'big.xyz.svc.cluster-b.local', ports: [{ name: 'http', port: 70000 }] },
      ],
    };
    const result = await run(healthy, FETCH_TICK, slotTick('b', at(1)));
    const after = applyStatusPatches(healthy, result.kubeOperations);
    expect(statusOf(after, 'b').metadataCache).toEqual(statusOf(healthy, 'b').metadataCache);
    expect(statusOf(after, 'b').importedServices).toBe(1);
    expect(statusOf(after, 'b').rejectedItems).toEqual([
      'publicServices[0] foo.xyz.svc.cluster-x.local: hostname outside *.svc.cluster-b.local',
      expect.stringMatching(/^publicServices\[1\] big\.xyz\.svc\.cluster-b\.local: /),
    ]);
    expect(condition(after, 'b', 'MetadataFetched')).toMatchObject({
      status: 'False',
      reason: 'AllItemsRejected',
      message: expect.stringContaining('every one of the 2 published service(s) was refused'),
    });
    expect(condition(after, 'b', 'Ready')).toMatchObject({ status: 'False', reason: 'AllItemsRejected' });
  });

  it('every gateway refused while services are published: the last good data stays', async () => {
    peerB.privateDocument = { ...privateB, ingressGateways: [{ address: '127.0.0.1', port: 15443 }] };
    const after = applyStatusPatches(
      healthy,
      (await run(healthy, FETCH_TICK, slotTick('b', at(1)))).kubeOperations,
    );
    expect(statusOf(after, 'b').metadataCache).toEqual(statusOf(healthy, 'b').metadataCache);
    expect(condition(after, 'b', 'MetadataFetched')).toMatchObject({
      status: 'False',
      reason: 'AllItemsRejected',
    });
  });

  it('a well-formed empty list is accepted: the peer stopped exporting', async () => {
    peerB.privateDocument = { ingressGateways: [{ address: '192.0.2.10', port: 15443 }], publicServices: [] };
    const after = applyStatusPatches(
      healthy,
      (await run(healthy, FETCH_TICK, slotTick('b', at(1)))).kubeOperations,
    );
    expect(statusOf(after, 'b').importedServices).toBe(0);
    expect(condition(after, 'b', 'MetadataFetched')).toMatchObject({ status: 'True' });
    expect(condition(after, 'b', 'ServicesImported')).toMatchObject({
      status: 'True',
      reason: 'NoPublicServices',
    });
  });
});

describe('fetch hook: the merge view (importedServices, import conflicts)', () => {
  it('refuses a link-local gateway when fetched, imports through the others, and status says so', async () => {
    peerB.privateDocument = {
      ...privateB,
      ingressGateways: [
        { address: '169.254.169.254', port: 15443 },
        { address: '192.0.2.10', port: 15443 },
      ],
    };
    const result = await run(healthy, FETCH_TICK, slotTick('b', at(1)));
    const after = applyStatusPatches(healthy, result.kubeOperations);
    expect(statusOf(after, 'b').metadataCache).toEqual(statusOf(healthy, 'b').metadataCache);
    expect(statusOf(after, 'b').rejectedItems).toEqual([
      expect.stringMatching(/^ingressGateways\[0\]: address .*169\.254\.169\.254/),
    ]);
    expect(statusOf(after, 'b').importedServices).toBe(1);
    expect(condition(after, 'b', 'ServicesImported')).toMatchObject({
      status: 'True',
      message: expect.stringContaining('1 item(s) rejected'),
    });
  });

  it('status is a projection of the verdict: an edited importedServices or reason is put right on the next run', async () => {
    const edited = healthy.map((o) => {
      if (o.metadata.name !== 'b') return o;
      const status = o.status as { conditions: Record<string, unknown>[] };
      const conditions = status.conditions.map((c) =>
        c.type === 'ServicesImported' ? { ...c, reason: 'ImportConflicts', message: 'kept from before' } : c,
      );
      return { ...o, status: { ...status, conditions, importedServices: 7 } };
    });
    const fixed = applyStatusPatches(edited, (await run(edited, FETCH_TICK, at(2))).kubeOperations);
    expect(statusOf(fixed, 'b').importedServices).toBe(1);
    expect(condition(fixed, 'b', 'ServicesImported')).toMatchObject({ reason: 'Imported' });
    // And nothing more to write once it is right.
    expect((await run(fixed, FETCH_TICK, at(3))).kubeOperations).toEqual([]);
  });
});

describe('fetch hook: identity and refusals', () => {
  it('accepts a peer whose clusterUUID changed, and shows it on status and in a metric (issue 10 item 2)', async () => {
    const before = statusOf(healthy, 'b').trustedIdentity as Record<string, unknown>;
    expect(before).toMatchObject({
      clusterUUID: 'uuid-b',
      authnKeySha256: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    peerB.clusterUUID = 'uuid-b-rebuilt';
    const now = slotTick('b', at(1));
    const result = await run(healthy, FETCH_TICK, now);
    const after = applyStatusPatches(healthy, result.kubeOperations);
    expect(statusOf(after, 'b').metadataCache).toMatchObject({ public: { clusterUUID: 'uuid-b-rebuilt' } });
    expect(condition(after, 'b', 'TrustEstablished')).toMatchObject({
      status: 'True',
      reason: 'IdentityChanged',
      message: expect.stringContaining('clusterUUID uuid-b -> uuid-b-rebuilt'),
    });
    expect(statusOf(after, 'b').trustedIdentity).toEqual({
      clusterUUID: 'uuid-b-rebuilt',
      authnKeySha256: before.authnKeySha256,
      since: now.toISOString().replace(/\.\d{3}Z$/, 'Z'),
      previous: { clusterUUID: 'uuid-b', authnKeySha256: before.authnKeySha256 },
    });
    expect(metric(result, FETCH_METRICS.identityChanged, { federation_name: 'b' })).toBe(
      now.getTime() / 1000,
    );
    expect(metric(result, FETCH_METRICS.identityChanged, { federation_name: 'c' })).toBeUndefined();
    expect(peerB.tokenChecks.at(-1)).toMatchObject({ accepted: true, claims: { aud: 'uuid-b-rebuilt' } });
    expect(result.logs).toContainEqual(
      expect.objectContaining({ level: 'warn', msg: 'peer identity changed; accepting the new identity' }),
    );
  });

  it('an authn key rotation is an identity change too', async () => {
    const before = statusOf(healthy, 'b').trustedIdentity as Record<string, unknown>;
    peerB.publicOverrides = { authnKeyPub: deckhouseKeypair().pub };
    const after = applyStatusPatches(
      healthy,
      (await run(healthy, FETCH_TICK, slotTick('b', at(1)))).kubeOperations,
    );
    expect(condition(after, 'b', 'TrustEstablished')).toMatchObject({
      reason: 'IdentityChanged',
      message: expect.stringContaining('authn key'),
    });
    expect(statusOf(after, 'b').trustedIdentity).toMatchObject({
      clusterUUID: 'uuid-b',
      previous: { authnKeySha256: before.authnKeySha256 },
    });
    expect((statusOf(after, 'b').trustedIdentity as Record<string, unknown>).authnKeySha256).not.toBe(
      before.authnKeySha256,
    );
  });

  it('a peer claiming the clusterUUID another federation established is refused; the other keeps working (issue 10 item 1)', async () => {
    // Anyone can read b's clusterUUID from its public document.
    peerC.clusterUUID = 'uuid-b';
    const cTick = slotTick('c', at(1));
    const clash = applyStatusPatches(healthy, (await run(healthy, FETCH_TICK, cTick)).kubeOperations);
    expect(condition(clash, 'c', 'TrustEstablished')).toMatchObject({
      status: 'False',
      reason: 'DuplicateClusterUUID',
      message: expect.stringContaining('established by b'),
    });
    expect(condition(clash, 'c', 'Ready')).toMatchObject({ status: 'False', reason: 'DuplicateClusterUUID' });
    expect(statusOf(clash, 'c').importedServices).toBe(0);
    expect(condition(clash, 'b', 'Ready')).toMatchObject({ status: 'True' });
    expect(statusOf(clash, 'b').importedServices).toBe(1);
    // The next tick reaches the same verdict: no flapping, no write.
    const idle = new Date(cTick.getTime() + 10_000);
    const tick = await run(clash, FETCH_TICK, idle);
    expect(tick.kubeOperations).toEqual([]);
    peerC.clusterUUID = 'uuid-c';
    const next = slotTick('c', new Date(cTick.getTime() + 20_000));
    const fixed = applyStatusPatches(clash, (await run(clash, FETCH_TICK, next)).kubeOperations);
    expect(condition(fixed, 'b', 'TrustEstablished')).toMatchObject({ status: 'True' });
    expect(condition(fixed, 'c', 'Ready')).toMatchObject({ status: 'True' });
  });

  it('refuses our own domain, cluster.local and a second federation with the same trust domain', async () => {
    const cluster = [
      ...healthy,
      istioFederation('z-same-as-b', {
        trustDomain: 'cluster-b.local',
        metadataEndpoint: peerC.endpoint,
        ca: peerC.pki.ca.certPem,
      }),
      istioFederation('self', { trustDomain: 'cluster-a.local', metadataEndpoint: peerC.endpoint }),
      istioFederation('default', { trustDomain: 'cluster.local', metadataEndpoint: peerC.endpoint }),
    ];
    const requests = peerC.requests.length;
    const result = await run(cluster, 'federations', at(3));
    const after = applyStatusPatches(cluster, result.kubeOperations);
    expect(peerC.requests.length).toBe(requests);
    const patches = result.kubeOperations.filter((o) => o.operation !== 'CreateIfNotExists');
    expect(patches.map((o) => 'name' in o && o.name).sort()).toEqual(['default', 'self', 'z-same-as-b']);
    expect(condition(after, 'z-same-as-b', 'Ready')).toMatchObject({
      status: 'False',
      reason: 'DuplicateTrustDomain',
      message: expect.stringContaining('already federated by b;'),
    });
    expect(condition(after, 'self', 'MetadataFetched')).toMatchObject({
      status: 'False',
      reason: 'OwnTrustDomain',
    });
    expect(condition(after, 'default', 'MetadataFetched')).toMatchObject({
      status: 'False',
      reason: 'ReservedTrustDomain',
    });
    expect(metric(result, FETCH_METRICS.ready, { federation_name: 'self' })).toBe(0);
    // Refusals are stable: the next run writes nothing.
    expect((await run(after, 'federations', at(4))).kubeOperations).toEqual([]);
  });

  it('leaves federations waiting (no fetch, no write, no error) while our key pair is not in values yet', async () => {
    const fresh = [
      istioFederation('b2', {
        trustDomain: 'cluster-b.local',
        metadataEndpoint: peerB.endpoint,
        ca: peerB.pki.ca.certPem,
      }),
    ];
    const requests = () => peerB.requests.length + peerC.requests.length;
    const before = requests();
    const first = await run(fresh, 'federations', at(5), {});
    // On b's refresh tick: a healthy federation that is due waits as well.
    const tick = await run(healthy, FETCH_TICK, slotTick('b', at(5)), {});
    expect(requests()).toBe(before);
    for (const result of [first, tick]) {
      expect(result.kubeOperations).toEqual([]);
      const errors = result.metrics.filter(
        (m) => 'name' in m && m.name === FETCH_METRICS.fetchError && 'value' in m && m.value !== 0,
      );
      expect(errors).toEqual([]);
      const waiting = result.logs.filter((l) => String(l.msg).startsWith('local identity not in values yet'));
      expect(waiting).toEqual([
        expect.objectContaining({ level: 'info', missing: ['istio.internal.remoteAuthnKeypair'] }),
      ]);
    }
    expect(metric(tick, FETCH_METRICS.ready, { federation_name: 'b' })).toBe(1);

    // Once the key pair is there, the new federation is fetched on the next run.
    const next = applyStatusPatches(fresh, (await run(fresh, 'federations', at(6))).kubeOperations);
    expect(condition(next, 'b2', 'Ready')).toMatchObject({ status: 'True' });
  });

  it('does not make the module start wait for its kubernetes binding (own queue, network fetches)', () => {
    expect(hookConfig(hook).kubernetes).toEqual([
      expect.objectContaining({
        name: 'federations',
        queue: 'federation-fetch',
        waitForSynchronization: false,
      }),
    ]);
  });

  it('reads a file:// endpoint with the same validation', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'federation-file-'));
    try {
      mkdirSync(join(dir, 'public'));
      mkdirSync(join(dir, 'private'));
      writeFileSync(join(dir, 'public', 'public.json'), goJson(peerC.publicDocument()));
      writeFileSync(
        join(dir, 'private', 'federation.json'),
        goJson({ ingressGateways: [{ address: 'gw.cluster-f.example', port: 443 }], publicServices: null }),
      );
      const fed = [
        istioFederation('f', {
          trustDomain: 'cluster-f.local',
          metadataEndpoint: pathToFileURL(dir).href + '/',
        }),
      ];
      const after = applyStatusPatches(fed, (await run(fed, 'federations', at(7))).kubeOperations);
      expect(condition(after, 'f', 'Ready')).toMatchObject({ status: 'True' });
      expect(statusOf(after, 'f').metadataCache).toMatchObject({
        public: { clusterUUID: 'uuid-c' },
        private: {
          ingressGateways: [{ address: 'gw.cluster-f.example', port: 443 }],
          portSets: [],
          services: {},
        },
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('never copies a file that is not JSON (a token, say) into status', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'federation-file-'));
    const token = 'eyJhbGciOiJSUzI1NiIsImtpZCI6IjEifQ.eyJzdWIiOiJzeXN0ZW0ifQ.c2lnbmF0dXJl';
    try {
      mkdirSync(join(dir, 'public'));
      writeFileSync(join(dir, 'public', 'public.json'), token);
      const fed = [
        istioFederation('t', {
          trustDomain: 'cluster-t.local',
          metadataEndpoint: pathToFileURL(dir).href + '/',
        }),
      ];
      const after = applyStatusPatches(fed, (await run(fed, 'federations', at(7))).kubeOperations);
      expect(condition(after, 't', 'MetadataFetched')).toMatchObject({
        status: 'False',
        reason: 'InvalidDocument',
        message: expect.stringContaining(
          `public/public.json: not JSON: the ${token.length}-byte body does not parse`,
        ),
      });
      expect(JSON.stringify(statusOf(after, 't'))).not.toContain(token.slice(0, 8));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('while federation is disabled: fetches nothing, and status and metrics say nothing is imported (issue 10 item 9)', async () => {
    clock = at(6);
    const requests = peerB.requests.length + peerC.requests.length;
    const result = await harness.run(hook, {
      cluster: healthy,
      trigger: FETCH_TICK,
      now: clock,
      configValues: {},
      values: withKeys,
    });
    expect(peerB.requests.length + peerC.requests.length).toBe(requests);
    const after = applyStatusPatches(healthy, result.kubeOperations);
    for (const name of ['b', 'c']) {
      expect(statusOf(after, name).importedServices).toBe(0);
      for (const type of ['TrustEstablished', 'ServicesImported', 'Ready'])
        expect(condition(after, name, type)).toMatchObject({ status: 'False', reason: 'FederationDisabled' });
      // The last good data stays for when federation is enabled again.
      expect(statusOf(after, name).metadataCache).toEqual(statusOf(healthy, name).metadataCache);
      expect(metric(result, FETCH_METRICS.ready, { federation_name: name })).toBe(0);
    }
    expect(result.metrics.some((m) => 'name' in m && m.name === FETCH_METRICS.fetchError)).toBe(false);
    // Stable: the next tick writes nothing; enabling again restores the truth at once.
    const again = await harness.run(hook, {
      cluster: after,
      trigger: FETCH_TICK,
      now: at(16),
      configValues: {},
      values: withKeys,
    });
    expect(again.kubeOperations).toEqual([]);
    const enabledAgain = applyStatusPatches(after, (await run(after, 'federations', at(17))).kubeOperations);
    expect(statusOf(enabledAgain, 'b').importedServices).toBe(1);
    expect(condition(enabledAgain, 'b', 'Ready')).toMatchObject({ status: 'True' });
  });

  it('a deleted federation leaves no metric series behind', async () => {
    const onlyC = healthy.filter((o) => o.metadata.name !== 'b');
    const result = await run(onlyC, 'federations', at(8));
    const named = (n: string) =>
      result.metrics.filter((m) => 'labels' in m && m.labels?.federation_name === n);
    expect(named('b')).toEqual([]);
    expect(named('c').length).toBeGreaterThan(0);
    expect(result.metrics[0]).toEqual({ action: 'expire', group: FETCH_METRICS_GROUP });
  });
});

describe('missingLocalIdentity', () => {
  it('names every value of our identity that is not set yet', () => {
    const full = { trustDomain: 'a.local', clusterUUID: 'u', authnPrivateKey: 'pem' };
    expect(missingLocalIdentity(full)).toEqual([]);
    expect(missingLocalIdentity({ ...full, clusterUUID: undefined, authnPrivateKey: undefined })).toEqual([
      'global.discovery.clusterUUID',
      'istio.internal.remoteAuthnKeypair',
    ]);
  });
});
