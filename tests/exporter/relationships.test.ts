// One allow-list per relationship (our improvement over the reference, which accepts any
// known peer on both private routes): a federation peer never reads multicluster.json, a
// multicluster peer never reads federation.json, a cluster in both lists reads both. And a
// private document whose relationship is disabled is not served at all.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request, startExporter, type RunningExporter } from './exporter-process';
import {
  documentFiles,
  multiclusterFiles,
  testCluster,
  writeKubernetesSecretDir,
  type MulticlusterInput,
  type TestCluster,
} from './fixtures';
import { eddsaToken, referenceClaims } from './tokens';

const FEDERATION = '/metadata/private/federation.json';
const MULTICLUSTER = '/metadata/private/multicluster.json';
const SCOPES = { [FEDERATION]: 'private-federation', [MULTICLUSTER]: 'private-multicluster' };

const local = testCluster('cluster.local');
const federationPeer = testCluster('cluster-f.local');
const multiclusterPeer = testCluster('cluster.local');
const bothPeer = testCluster('cluster-b.local');
const multicluster: MulticlusterInput = {
  ingressGateways: [
    { address: '192.0.2.20', port: 15443 },
    { address: 'gw.cluster-a.example.com', port: 443 },
  ],
  apiHost: 'istio-api-proxy.cluster-a.example.com',
  networkName: 'network-cluster-local-1234567',
};
const federation = {
  ingressGateways: multicluster.ingressGateways,
  publicServices: [{ hostname: 'foo.ns.svc.cluster.local', ports: [{ name: 'http', port: 8080 }] }],
};

const dirs: string[] = [];
const exporters: RunningExporter[] = [];

async function exporterServing(
  privateDocuments: string,
  files: Parameters<typeof writeKubernetesSecretDir>[1],
): Promise<RunningExporter> {
  const dir = mkdtempSync(join(tmpdir(), 'exporter-relationships-'));
  dirs.push(dir);
  writeKubernetesSecretDir(dir, files);
  const exporter = await startExporter(dir, ['--private-documents', privateDocuments]);
  exporters.push(exporter);
  await exporter.waitForLog((r) => r.msg === 'documents loaded');
  return exporter;
}

let both: RunningExporter;
let multiclusterOnly: RunningExporter;

beforeAll(async () => {
  [both, multiclusterOnly] = await Promise.all([
    exporterServing('federation,multicluster', {
      ...documentFiles(local, federation, [federationPeer, bothPeer]),
      ...multiclusterFiles(multicluster, [multiclusterPeer, bothPeer]),
    }),
    // Only the files a multicluster-only chart renders: no federation.json, no federation peers.
    exporterServing('multicluster', {
      'public.json': documentFiles(local, federation, [])['public.json'],
      ...multiclusterFiles({ ...multicluster, ingressGateways: [] }, [multiclusterPeer]),
    }),
  ]);
});

afterAll(async () => {
  await Promise.all(exporters.map((e) => e.stop()));
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const get = (exporter: RunningExporter, path: keyof typeof SCOPES, peer: TestCluster, method = 'GET') =>
  request(exporter.port, path, {
    method,
    headers: {
      Authorization: `Bearer ${eddsaToken(peer.keypair.priv, referenceClaims(local.clusterUUID, peer.clusterUUID, undefined, SCOPES[path]))}`,
    },
  });

async function unknownSubjects(exporter: RunningExporter): Promise<number> {
  const metrics = (await request(exporter.port, '/metrics')).body;
  const match = /auth_failures_total\{reason="unknown subject"\} (\d+)/.exec(metrics);
  return match ? Number(match[1]) : 0;
}

describe('multicluster.json', () => {
  test("Deckhouse's document for a multicluster peer: exactly {ingressGateways, apiHost, networkName}", async () => {
    const res = await get(both, MULTICLUSTER, multiclusterPeer);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/json');
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers.etag).toMatch(/^"[A-Za-z0-9_-]+"$/);
    // Key order as the reference serialises its struct.
    expect(res.body).toBe(
      JSON.stringify({
        ingressGateways: multicluster.ingressGateways,
        apiHost: multicluster.apiHost,
        networkName: multicluster.networkName,
      }),
    );
  });

  test('no gateway: ingressGateways is an empty list, never missing or null', async () => {
    const res = await get(multiclusterOnly, MULTICLUSTER, multiclusterPeer);
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toStrictEqual({
      ingressGateways: [],
      apiHost: multicluster.apiHost,
      networkName: multicluster.networkName,
    });
  });

  test('HEAD and If-None-Match work as for the other documents', async () => {
    const first = await get(both, MULTICLUSTER, multiclusterPeer);
    const head = await get(both, MULTICLUSTER, multiclusterPeer, 'HEAD');
    expect(head.status).toBe(200);
    expect(head.body).toBe('');
    expect(head.headers.etag).toBe(first.headers.etag);
  });
});

describe('separate allow-lists', () => {
  test.each([
    ['a federation peer asks for multicluster.json', MULTICLUSTER, federationPeer],
    ['a multicluster peer asks for federation.json', FEDERATION, multiclusterPeer],
  ] as const)('%s with a validly signed token of the right scope: 401', async (_name, path, peer) => {
    const before = await unknownSubjects(both);
    const res = await get(both, path, peer);
    expect(res.status).toBe(401);
    // Indistinguishable from any other refused token.
    expect(JSON.parse(res.body)).toStrictEqual({ error: 'invalid token' });
    expect(res.body).not.toContain('ingressGateways');
    expect(await unknownSubjects(both)).toBe(before + 1);
  });

  test('each peer reads the document of its own relationship', async () => {
    expect((await get(both, FEDERATION, federationPeer)).status).toBe(200);
    expect((await get(both, MULTICLUSTER, multiclusterPeer)).status).toBe(200);
  });

  test('a cluster in both lists reads both documents', async () => {
    const [fed, mc] = await Promise.all([get(both, FEDERATION, bothPeer), get(both, MULTICLUSTER, bothPeer)]);
    expect([fed.status, mc.status]).toStrictEqual([200, 200]);
    expect(JSON.parse(fed.body)).toHaveProperty('publicServices');
    expect(JSON.parse(mc.body)).toHaveProperty('apiHost', multicluster.apiHost);
  });

  test('the refusals name the document in the log, never the token', async () => {
    const record = await both.waitForLog(
      (r) => r.msg === 'private document refused' && r.document === 'multicluster',
    );
    expect(record).toMatchObject({ reason: 'unknown subject' });
    expect(both.rawOutput).not.toContain('eyJ');
  });
});

describe('a document whose relationship is disabled is not served', () => {
  test.each(['GET', 'HEAD', 'POST'])(
    '%s federation.json on a multicluster-only exporter is 404, even with a valid token',
    async (method) => {
      const res = await get(multiclusterOnly, FEDERATION, multiclusterPeer, method);
      expect(res.status).toBe(404);
      if (method !== 'HEAD') expect(JSON.parse(res.body)).toStrictEqual({ error: 'not found' });
    },
  );

  test('the public document is still served', async () => {
    const res = await request(multiclusterOnly.port, '/metadata/public/public.json');
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toMatchObject({ clusterUUID: local.clusterUUID });
  });

  test('the listening line names the served documents', () => {
    expect(multiclusterOnly.logs[0]).toMatchObject({ msg: 'listening', privateDocuments: ['multicluster'] });
    expect(both.logs[0]).toMatchObject({ privateDocuments: ['federation', 'multicluster'] });
  });
});

// Last: its refusals log after the log assertions above.
describe("Deckhouse's tokens on multicluster.json", () => {
  test("Deckhouse's exact token (header only alg) is accepted; its api token is not a document token", async () => {
    const token = (scope: string) =>
      eddsaToken(
        multiclusterPeer.keypair.priv,
        referenceClaims(local.clusterUUID, multiclusterPeer.clusterUUID, undefined, scope),
        { alg: 'EdDSA' },
      );
    const as = (scope: string) =>
      request(both.port, MULTICLUSTER, { headers: { Authorization: `Bearer ${token(scope)}` } });
    expect((await as('private-multicluster')).status).toBe(200);
    for (const scope of ['api', 'private-federation'])
      expect([scope, (await as(scope)).status]).toEqual([scope, 401]);
  });
});
