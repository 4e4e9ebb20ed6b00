// tools/bench/exporter.ts measures the private document with one token for the whole wrk
// run: the compiled exporter must accept it (issue 10 item 16: it minted 3,600 s tokens,
// refused since tokens over 300 s are, so every "private" figure measured a 401).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchPrivateToken, MAX_BENCH_DURATION_SECONDS } from '../../tools/bench/exporter-token';
import { request, startExporter, type RunningExporter } from './exporter-process';
import { documentFiles, testCluster, writeKubernetesSecretDir } from './fixtures';

const PRIVATE = '/metadata/private/federation.json';
const local = testCluster('cluster-local.test');
const peer = testCluster('cluster-a.local');

let dir: string;
let exporter: RunningExporter;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'bench-token-'));
  const federation = {
    ingressGateways: [{ address: '192.0.2.10', port: 15443 }],
    publicServices: [{ hostname: 'foo.ns.svc.cluster-local.test', ports: [{ name: 'http', port: 8080 }] }],
  };
  writeKubernetesSecretDir(dir, documentFiles(local, federation, [peer]));
  exporter = await startExporter(dir);
  await exporter.waitForLog((r) => r.msg === 'documents loaded');
});

afterAll(async () => {
  await exporter?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test.each([10, 60, MAX_BENCH_DURATION_SECONDS])(
  'the token for a %i s run is served the private document',
  async (d) => {
    const token = benchPrivateToken(peer.keypair.priv, local.clusterUUID, peer.clusterUUID, d);
    const res = await request(exporter.port, PRIVATE, { headers: { Authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toMatchObject({
      publicServices: [{ hostname: 'foo.ns.svc.cluster-local.test' }],
    });
  },
);

test('the token outlives the run it is minted for', () => {
  const now = 1_800_000_000;
  for (const d of [1, 10, 60, MAX_BENCH_DURATION_SECONDS]) {
    const token = benchPrivateToken(peer.keypair.priv, local.clusterUUID, peer.clusterUUID, d, now);
    const claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { exp: number };
    expect(claims.exp - now).toBeGreaterThan(d);
    expect(claims.exp - now).toBeLessThanOrEqual(300);
  }
});

test('a run longer than one token can cover is refused up front', () => {
  expect(() =>
    benchPrivateToken(peer.keypair.priv, local.clusterUUID, peer.clusterUUID, MAX_BENCH_DURATION_SECONDS + 1),
  ).toThrow(/at most/);
});
