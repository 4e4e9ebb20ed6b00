import { spawn, type ChildProcess } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { app } from '../../hooks/index';
import {
  FETCH_DURATION_BUCKETS,
  FETCH_METRICS,
  fetchDurationGroup,
} from '../../lib/federation/status/metrics';
import { bindingContextsFor, runCompiledHook } from '../../lib/hook-sdk/testing';
import { toPem } from '../../lib/pki/ca-certificates';
import fetchHook, { FETCH_TICK } from '../../hooks/federation/fetch-metadata';
import { CLUSTER_A_GLOBAL, clusterAHarness, hookBinary, MODULE_ROOT } from '../support/module';
import { applyStatusPatches, istioFederation, statusOf } from './cluster';
import { makeCertificate } from './certs';
import { deckhouseKeypair, type Behaviour, type PeerResponse, type TokenCheck } from './peer';

/**
 * The compiled executable (Bun) drives the same fetch code as the jest runs (Node): this
 * proves TLS with per-federation CAs, the JWT and the size cap work in the shipped runtime.
 * Peers run in their own Bun process because runCompiledHook blocks this event loop.
 */

const OUR_UUID = (CLUSTER_A_GLOBAL.discovery as { clusterUUID: string }).clusterUUID;
const ourKeys = deckhouseKeypair();
const hookIndex = app.hooks.findIndex((h) => h.name === fetchHook.name);

interface RunningPeer {
  endpoint: string;
  ca: string;
  publicDocument: Record<string, unknown>;
  tokenChecks: TokenCheck[];
  waiters: { count: number; resolve: (checks: TokenCheck[]) => void }[];
  responses: PeerResponse[];
  responseWaiters: { count: number; resolve: (responses: PeerResponse[]) => void }[];
  process: ChildProcess;
}

const running: RunningPeer[] = [];

function startPeer(
  trustDomain: string,
  clusterUUID: string,
  privateBehaviour?: Behaviour,
  rootCASuffix?: string,
  etags = false,
  identities?: string[],
): Promise<RunningPeer> {
  const config = {
    ...(rootCASuffix ? { rootCASuffix } : {}),
    etags,
    clusterUUID,
    trustDomain,
    privateDocument: {
      ingressGateways: [{ address: '192.0.2.20', port: 15443 }],
      publicServices: [
        {
          hostname: `svc.ns.svc.${trustDomain}`,
          ports: [{ name: 'https', port: 443 }],
          ...(identities ? { identities } : {}),
        },
      ],
    },
    knownPeers: { [OUR_UUID]: ourKeys.pub },
    ...(privateBehaviour ? { privateBehaviour } : {}),
  };
  const child = spawn(
    join(MODULE_ROOT, 'node_modules', '.bin', 'bun'),
    ['tests/fetch/peer-main.ts', JSON.stringify(config)],
    {
      cwd: MODULE_ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`peer process exited with ${code}`)));
    const lines = createInterface({ input: child.stdout! });
    let peer: RunningPeer | undefined;
    lines.on('line', (line) => {
      const message = JSON.parse(line) as {
        endpoint?: string;
        ca?: string;
        publicDocument?: Record<string, unknown>;
        tokenCheck?: TokenCheck;
        response?: PeerResponse;
      };
      if (message.response && peer) {
        peer.responses.push(message.response);
        const responses = peer.responses;
        for (const waiter of peer.responseWaiters.filter((w) => responses.length >= w.count)) {
          waiter.resolve(responses.slice(0, waiter.count));
        }
        peer.responseWaiters = peer.responseWaiters.filter((w) => responses.length < w.count);
      } else if (message.tokenCheck && peer) {
        peer.tokenChecks.push(message.tokenCheck);
        const checks = peer.tokenChecks;
        for (const waiter of peer.waiters.filter((w) => checks.length >= w.count)) {
          waiter.resolve(checks.slice(0, waiter.count));
        }
        peer.waiters = peer.waiters.filter((w) => checks.length < w.count);
      } else if (message.endpoint && message.ca && message.publicDocument) {
        peer = {
          endpoint: message.endpoint,
          ca: message.ca,
          publicDocument: message.publicDocument,
          tokenChecks: [],
          waiters: [],
          responses: [],
          responseWaiters: [],
          process: child,
        };
        running.push(peer);
        resolve(peer);
      }
    });
  });
}

/** Resolves with the peer's first `count` token checks, as its process reports them (event-driven). */
function tokenChecks(peer: RunningPeer, count: number): Promise<TokenCheck[]> {
  if (peer.tokenChecks.length >= count) return Promise.resolve(peer.tokenChecks.slice(0, count));
  return new Promise((resolve) => peer.waiters.push({ count, resolve }));
}

/** Resolves with the peer's first `count` responses, as its process reports them (event-driven). */
function peerResponses(peer: RunningPeer, count: number): Promise<PeerResponse[]> {
  if (peer.responses.length >= count) return Promise.resolve(peer.responses.slice(0, count));
  return new Promise((resolve) => peer.responseWaiters.push({ count, resolve }));
}

/** The public document as cached: rootCA re-encoded from its DER, CA certificates only (issue 10 item 4). */
function cached(publicDocument: Record<string, unknown>): Record<string, unknown> {
  const first = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/.exec(
    String(publicDocument.rootCA),
  )!;
  return { ...publicDocument, rootCA: toPem(new X509Certificate(first[0]).raw) };
}

afterAll(() => {
  for (const peer of running) peer.process.kill('SIGTERM');
});

function runBinary(cluster: ReturnType<typeof istioFederation>[], trigger = 'federations') {
  const { values, configValues } = clusterAHarness().initialValues({
    configValues: { federation: { enabled: true } },
    values: { internal: { remoteAuthnKeypair: ourKeys } },
  });
  return runCompiledHook(hookBinary(), hookIndex, {
    contexts: bindingContextsFor(fetchHook, cluster, trigger),
    values,
    configValues,
  });
}

describe('fetch hook in the compiled binary', () => {
  it('fetches a Deckhouse-format peer over HTTPS with its own CA and a token the peer accepts', async () => {
    const peer = await startPeer('cluster-b.local', 'uuid-b');
    const cluster = [
      istioFederation('b', { trustDomain: 'cluster-b.local', metadataEndpoint: peer.endpoint, ca: peer.ca }),
    ];
    const result = runBinary(cluster);
    expect(result.stderr).toBe('');
    expect(result.exitCode).toBe(0);
    const after = applyStatusPatches(cluster, result.kubeOperations);
    expect(statusOf(after, 'b')).toMatchObject({
      observedGeneration: 1,
      importedServices: 1,
      metadataCache: {
        public: cached(peer.publicDocument),
        // Compact (lib/federation/cached/compact.ts): svc.ns.svc.cluster-b.local -> port list 0.
        private: {
          ingressGateways: [{ address: '192.0.2.20', port: 15443 }],
          portSets: [[{ name: 'https', port: 443, protocol: 'TLS' }]],
          services: { ns: { svc: 0 } },
        },
      },
    });
    const conditions = statusOf(after, 'b').conditions as { type: string; status: string }[];
    expect(conditions.map((c) => [c.type, c.status])).toEqual([
      ['MetadataFetched', 'True'],
      ['TrustEstablished', 'True'],
      ['ServicesImported', 'True'],
      ['Ready', 'True'],
      // Its gateway is a documentation address: never probed (hooks/federation/probe-gateways.ts).
      ['GatewayReachable', 'Unknown'],
    ]);
    const [check] = await tokenChecks(peer, 1);
    expect(check).toMatchObject({
      accepted: true,
      claims: { aud: 'uuid-b', sub: OUR_UUID, iss: 'd8-istio' },
    });
    expect(result.metrics).toContainEqual(
      expect.objectContaining({
        name: FETCH_METRICS.fetchError,
        value: 0,
        labels: { federation_name: 'b', endpoint: `${peer.endpoint}private/federation.json` },
      }),
    );
    // The duration reaches METRICS_PATH as a histogram observation in the federation's own group.
    expect(result.metrics).toContainEqual({
      name: FETCH_METRICS.fetchDuration,
      action: 'observe',
      value: expect.any(Number),
      buckets: [...FETCH_DURATION_BUCKETS],
      labels: { federation_name: 'b' },
      group: fetchDurationGroup('b'),
    });
  });

  it('keeps only the CA certificate of a rootCA bundle that carries a private key, and names the key block', async () => {
    const key =
      '-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIBqOuvAMLdJ9ZQ5m5YvJ2lpjtpuZP6vnMd1ODnmuAoh6\n-----END PRIVATE KEY-----\n';
    const peer = await startPeer('cluster-f.local', 'uuid-f', undefined, `not pem\r\n${key}`);
    expect(String(peer.publicDocument.rootCA)).toContain('PRIVATE KEY');
    const cluster = [
      istioFederation('f', { trustDomain: 'cluster-f.local', metadataEndpoint: peer.endpoint, ca: peer.ca }),
    ];
    const result = runBinary(cluster);
    expect(result.exitCode).toBe(0);
    const status = statusOf(applyStatusPatches(cluster, result.kubeOperations), 'f');
    expect(status.metadataCache).toMatchObject({ public: cached(peer.publicDocument) });
    expect(JSON.stringify(status.metadataCache)).not.toContain('PRIVATE KEY');
    expect(status.rejectedItems).toEqual([
      expect.stringMatching(/^rootCA block #2 \(PRIVATE KEY\): a private key/),
      'rootCA: 1 line(s) of text outside PEM blocks ignored',
    ]);
  });

  it('issue 11: drops a root istiod would refuse (negative serial) and caches the service identities', async () => {
    const negative = makeCertificate({
      commonName: 'negative serial',
      isCA: true,
      serialHex: 'ff' + '11'.repeat(8),
    });
    const identity = 'spiffe://cluster-n.local/ns/ns/sa/svc';
    const peer = await startPeer('cluster-n.local', 'uuid-n', undefined, negative.certPem, false, [identity]);
    const cluster = [
      istioFederation('n', { trustDomain: 'cluster-n.local', metadataEndpoint: peer.endpoint, ca: peer.ca }),
    ];
    const result = runBinary(cluster);
    expect(result.exitCode).toBe(0);
    const status = statusOf(applyStatusPatches(cluster, result.kubeOperations), 'n');
    expect(status.metadataCache).toMatchObject({ public: cached(peer.publicDocument) });
    expect(status.rejectedItems).toEqual([
      expect.stringMatching(/^rootCA block #2 .*negative serial number/),
    ]);
    expect(status.metadataCache).toMatchObject({
      private: { identitySets: [['svc']], services: { ns: { svc: [0, 0] } } },
    });
  });

  it('cuts a 10 MiB private document off at 1 MiB and reports it without failing', async () => {
    const peer = await startPeer('cluster-c.local', 'uuid-c', {
      kind: 'stream',
      bytes: 10 * 1024 * 1024,
      declareLength: false,
    });
    const cluster = [
      istioFederation('c', { trustDomain: 'cluster-c.local', metadataEndpoint: peer.endpoint, ca: peer.ca }),
    ];
    const result = runBinary(cluster);
    expect(result.exitCode).toBe(0);
    const after = applyStatusPatches(cluster, result.kubeOperations);
    const fetched = (
      statusOf(after, 'c').conditions as { type: string; reason: string; message: string }[]
    )[0];
    expect(fetched).toMatchObject({
      type: 'MetadataFetched',
      reason: 'TooLarge',
      message: expect.stringContaining('cut off'),
    });
    expect(statusOf(after, 'c').metadataCache).toMatchObject({ public: cached(peer.publicDocument) });
    expect(result.metrics).toContainEqual(
      expect.objectContaining({
        name: FETCH_METRICS.fetchError,
        value: 1,
        labels: { federation_name: 'c', endpoint: `${peer.endpoint}private/federation.json` },
      }),
    );
    expect(result.stdout).toContain('remote metadata fetch failed; keeping the last good data');
  });

  it('reports a TLS failure (wrong CA) without failing', async () => {
    const peer = await startPeer('cluster-d.local', 'uuid-d');
    const other = await startPeer('cluster-e.local', 'uuid-e');
    const cluster = [
      istioFederation('d', { trustDomain: 'cluster-d.local', metadataEndpoint: peer.endpoint, ca: other.ca }),
    ];
    const result = runBinary(cluster);
    expect(result.exitCode).toBe(0);
    const after = applyStatusPatches(cluster, result.kubeOperations);
    expect((statusOf(after, 'd').conditions as { reason: string }[])[0]).toMatchObject({
      reason: 'TLSError',
    });
  });
  it('asks an ETag-sending peer conditionally on the next tick: two 304s and no status write', async () => {
    const peer = await startPeer('cluster-e.local', 'uuid-e', undefined, undefined, true);
    const cluster = [
      istioFederation('e', { trustDomain: 'cluster-e.local', metadataEndpoint: peer.endpoint, ca: peer.ca }),
    ];
    const first = runBinary(cluster);
    expect(first.exitCode).toBe(0);
    const after = applyStatusPatches(cluster, first.kubeOperations);
    const cache = statusOf(after, 'e').metadataCache as Record<string, string>;
    expect(cache.publicETag).toMatch(/^"[\w-]+"$/);
    expect(cache.privateETag).toMatch(/^"[\w-]+"$/);
    // The default refresh re-fetches a healthy federation on every schedule tick.
    const tick = runBinary(after, FETCH_TICK);
    expect(tick.stderr).toBe('');
    expect(tick.exitCode).toBe(0);
    expect(tick.kubeOperations).toEqual([]);
    const responses = await peerResponses(peer, 4);
    expect(responses.map((r) => [r.path.replace(/^.*\//, ''), r.status, r.ifNoneMatch])).toEqual([
      ['public.json', 200, null],
      ['federation.json', 200, null],
      ['public.json', 304, cache.publicETag],
      ['federation.json', 304, cache.privateETag],
    ]);
  });
});
