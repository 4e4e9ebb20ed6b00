// Document reloads of the compiled exporter: Kubernetes-style `..data` swaps, SIGHUP,
// invalid sets (the last valid set stays in force) and plain directories.
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request, startExporter, type RunningExporter } from './exporter-process';
import {
  documentFiles,
  multiclusterFiles,
  selfSignedRsa,
  testCluster,
  writeKubernetesSecretDir,
  type FederationInput,
} from './fixtures';
import { eddsaToken, referenceClaims } from './tokens';

const PUBLIC = '/metadata/public/public.json';
const PRIVATE = '/metadata/private/federation.json';

const local = testCluster('cluster-local.test');
const peerA = testCluster('cluster-a.local');
const peerB = testCluster('cluster-b.local');

const federation = (hostnames: string[]): FederationInput => ({
  ingressGateways: [{ address: '192.0.2.10', port: 15443 }],
  publicServices: hostnames.map((hostname) => ({ hostname, ports: [{ name: 'http', port: 80 }] })),
});

let root: string;
const exporters: RunningExporter[] = [];

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'exporter-reload-'));
});

afterAll(async () => {
  await Promise.all(exporters.map((e) => e.stop()));
  rmSync(root, { recursive: true, force: true });
});

async function started(dir: string, args: string[]): Promise<RunningExporter> {
  const exporter = await startExporter(dir, args);
  exporters.push(exporter);
  return exporter;
}

const tokenOf = (peer: typeof peerA) => ({
  Authorization: `Bearer ${eddsaToken(peer.keypair.priv, referenceClaims(local.clusterUUID, peer.clusterUUID))}`,
});

/** Waits for the next log line with `msg` that appears after this call. */
function nextLog(exporter: RunningExporter, msg: string) {
  return exporter.waitForLog((r) => r.msg === msg, undefined, exporter.logs.length);
}

describe('a Kubernetes ..data swap', () => {
  const dir = () => join(root, 'swap');
  let exporter: RunningExporter;

  beforeAll(async () => {
    writeKubernetesSecretDir(
      dir(),
      documentFiles(local, federation(['one.ns.svc.cluster-local.test']), [peerA]),
    );
    exporter = await started(dir(), ['--reload-interval', '0.05']);
    await exporter.waitForLog((r) => r.msg === 'documents loaded');
  });

  test('is picked up: new root CA, new services, new peers', async () => {
    const rotated = { ...local, rootCA: selfSignedRsa('Rotated Root', 'ca').certPem };
    const loaded = nextLog(exporter, 'documents loaded');
    writeKubernetesSecretDir(
      dir(),
      documentFiles(rotated, federation(['one.ns.svc.cluster-local.test', 'two.ns.svc.cluster-local.test']), [
        peerA,
        peerB,
      ]),
    );
    expect(await loaded).toMatchObject({ publicServices: 2, remotes: 2 });
    expect(JSON.parse((await request(exporter.port, PUBLIC)).body).rootCA).toBe(rotated.rootCA);
    const priv = await request(exporter.port, PRIVATE, { headers: tokenOf(peerB) });
    expect(priv.status).toBe(200);
    expect(JSON.parse(priv.body).publicServices).toHaveLength(2);
  });

  test('an invalid new set is rejected and the previous one keeps being served', async () => {
    const before = await request(exporter.port, PUBLIC);
    const rejected = nextLog(exporter, 'documents rejected, serving the previous set');
    writeKubernetesSecretDir(dir(), {
      ...documentFiles(local, federation(['three.ns.svc.cluster-local.test']), [peerA]),
      'federation.json': '{"publicServices": [{"hostname": "Not A Hostname", "ports": []}]}',
    });
    expect((await rejected).error).toMatch(/^federation\.json: \[0\] public service\/hostname/);
    const after = await request(exporter.port, PUBLIC);
    expect(after.body).toBe(before.body);
    expect((await request(exporter.port, '/healthz')).status).toBe(200);
    // peer B came with the previous set and must still be known
    expect((await request(exporter.port, PRIVATE, { headers: tokenOf(peerB) })).status).toBe(200);
    const metrics = (await request(exporter.port, '/metrics')).body;
    expect(metrics).toMatch(/d8_istio_metadata_exporter_document_reloads_total\{result="failure"\} 1\b/);
    expect(metrics).toMatch(/d8_istio_metadata_exporter_documents_loaded 1\b/);
  });

  test('unparseable JSON and a missing file are rejected too', async () => {
    let rejected = nextLog(exporter, 'documents rejected, serving the previous set');
    writeKubernetesSecretDir(dir(), {
      ...documentFiles(local, federation([]), [peerA]),
      'public.json': '{"clusterUUID": ',
    });
    expect((await rejected).error).toBe('public.json is not valid JSON');
    rejected = nextLog(exporter, 'documents rejected, serving the previous set');
    const { 'remote-public-metadata.json': _dropped, ...twoFiles } = documentFiles(local, federation([]), []);
    writeKubernetesSecretDir(dir(), twoFiles);
    expect((await rejected).error).toBe('remote-public-metadata.json: ENOENT');
    expect((await request(exporter.port, PRIVATE, { headers: tokenOf(peerB) })).status).toBe(200);
  });

  test('a peer removed from the remote metadata is refused from then on', async () => {
    const loaded = nextLog(exporter, 'documents loaded');
    writeKubernetesSecretDir(
      dir(),
      documentFiles(local, federation(['one.ns.svc.cluster-local.test']), [peerA]),
    );
    await loaded;
    const res = await request(exporter.port, PRIVATE, { headers: tokenOf(peerB) });
    expect(res.status).toBe(401);
    expect(JSON.parse(res.body)).toStrictEqual({ error: 'invalid token' });
    expect((await request(exporter.port, '/metrics')).body).toMatch(
      /d8_istio_metadata_exporter_auth_failures_total\{reason="unknown subject"\} [1-9]/,
    );
  });

  test('a broken remote entry drops only that remote', async () => {
    const loaded = nextLog(exporter, 'documents loaded');
    // Logged after 'documents loaded': wait for the line itself, not for its predecessor.
    const rejected = nextLog(exporter, 'remote peer entry rejected');
    const files = documentFiles(local, federation(['one.ns.svc.cluster-local.test']), [peerA, peerB]);
    const remotes = JSON.parse(files['remote-public-metadata.json']) as Record<
      string,
      { authnKeyPub: string }
    >;
    remotes[peerB.clusterUUID]!.authnKeyPub = '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n';
    writeKubernetesSecretDir(dir(), { ...files, 'remote-public-metadata.json': JSON.stringify(remotes) });
    expect(await loaded).toMatchObject({ remotes: 1 });
    expect(await rejected).toMatchObject({ clusterUUID: peerB.clusterUUID });
    expect((await request(exporter.port, PRIVATE, { headers: tokenOf(peerA) })).status).toBe(200);
    expect((await request(exporter.port, PRIVATE, { headers: tokenOf(peerB) })).status).toBe(401);
    expect((await request(exporter.port, '/metrics')).body).toMatch(
      /d8_istio_metadata_exporter_rejected_remote_peers 1\b/,
    );
  });
});

describe('a multicluster-only set (--private-documents multicluster)', () => {
  const dir = () => join(root, 'multicluster');
  const MULTICLUSTER = '/metadata/private/multicluster.json';
  const files = (apiHost: string, peers: (typeof peerA)[]) => ({
    'public.json': documentFiles(local, federation([]), [])['public.json'],
    ...multiclusterFiles({ ingressGateways: [], apiHost, networkName: 'network-a' }, peers),
  });
  const mcToken = (peer: typeof peerA) => ({
    Authorization: `Bearer ${eddsaToken(peer.keypair.priv, referenceClaims(local.clusterUUID, peer.clusterUUID, undefined, 'private-multicluster'))}`,
  });
  let exporter: RunningExporter;

  beforeAll(async () => {
    writeKubernetesSecretDir(dir(), files('api-1.example.com', [peerA]));
    exporter = await started(dir(), ['--private-documents', 'multicluster', '--reload-interval', '0.05']);
    await exporter.waitForLog((r) => r.msg === 'documents loaded');
  });

  test('a new document and a new allow-list are served after the swap', async () => {
    expect((await request(exporter.port, MULTICLUSTER, { headers: mcToken(peerB) })).status).toBe(401);
    const loaded = nextLog(exporter, 'documents loaded');
    writeKubernetesSecretDir(dir(), files('api-2.example.com:8443', [peerB]));
    expect(await loaded).toMatchObject({ multiclusterRemotes: 1, ingressGateways: 0 });
    const res = await request(exporter.port, MULTICLUSTER, { headers: mcToken(peerB) });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toMatchObject({ apiHost: 'api-2.example.com:8443' });
    // peer A left the multicluster allow-list
    expect((await request(exporter.port, MULTICLUSTER, { headers: mcToken(peerA) })).status).toBe(401);
  });

  test('without multicluster.json the set is rejected and the previous one served', async () => {
    const rejected = nextLog(exporter, 'documents rejected, serving the previous set');
    const { 'multicluster.json': _dropped, ...rest } = files('api-3.example.com', [peerB]);
    writeKubernetesSecretDir(dir(), rest);
    expect((await rejected).error).toBe('multicluster.json: ENOENT');
    const res = await request(exporter.port, MULTICLUSTER, { headers: mcToken(peerB) });
    expect(JSON.parse(res.body)).toMatchObject({ apiHost: 'api-2.example.com:8443' });
  });
});

test('SIGHUP reloads at once, whatever the polling interval', async () => {
  const dir = join(root, 'sighup');
  writeKubernetesSecretDir(dir, documentFiles(local, federation(['one.ns.svc.cluster-local.test']), [peerA]));
  const exporter = await started(dir, ['--reload-interval', '3600']);
  await exporter.waitForLog((r) => r.msg === 'documents loaded');
  writeKubernetesSecretDir(dir, documentFiles(local, federation([]), [peerA, peerB]));
  const loaded = nextLog(exporter, 'documents loaded');
  exporter.proc.kill('SIGHUP');
  expect(await loaded).toMatchObject({ publicServices: 0, remotes: 2 });
  expect((await request(exporter.port, PRIVATE, { headers: tokenOf(peerB) })).status).toBe(200);
});

test('started without a valid set: 503 until a valid one arrives', async () => {
  const dir = join(root, 'late');
  writeKubernetesSecretDir(dir, { ...documentFiles(local, federation([]), []), 'public.json': '{}' });
  const exporter = await started(dir, ['--reload-interval', '0.05']);
  await exporter.waitForLog((r) => r.msg === 'documents rejected, none loaded yet');
  expect((await request(exporter.port, '/healthz')).status).toBe(503);
  // liveness stays green: restarting cannot repair the documents
  expect((await request(exporter.port, '/livez')).status).toBe(200);
  const res = await request(exporter.port, PUBLIC);
  expect(res.status).toBe(503);
  expect(JSON.parse(res.body)).toStrictEqual({ error: 'documents not loaded' });
  expect((await request(exporter.port, '/metrics')).body).toMatch(
    /d8_istio_metadata_exporter_documents_loaded 0\b/,
  );

  const loaded = nextLog(exporter, 'documents loaded');
  writeKubernetesSecretDir(dir, documentFiles(local, federation([]), []));
  await loaded;
  expect((await request(exporter.port, '/healthz')).status).toBe(200);
  expect((await request(exporter.port, PUBLIC)).status).toBe(200);
});

test('a plain directory (no ..data link) is re-read when a file is replaced', async () => {
  const dir = join(root, 'plain');
  const files = documentFiles(local, federation([]), [peerA]);
  mkdirSync(dir);
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
  const exporter = await started(dir, ['--reload-interval', '0.05']);
  await exporter.waitForLog((r) => r.msg === 'documents loaded');

  const loaded = nextLog(exporter, 'documents loaded');
  writeFileSync(
    join(dir, 'federation.json.tmp'),
    JSON.stringify(federation(['new.ns.svc.cluster-local.test'])),
  );
  renameSync(join(dir, 'federation.json.tmp'), join(dir, 'federation.json'));
  expect(await loaded).toMatchObject({ publicServices: 1 });
});
