// Secret write -> document served, with the exporter watching its Secret on a real
// kube-apiserver (+ etcd) on 127.0.0.1; and its start in that mode.
//   npm run build && npx bun tools/bench/exporter-watch.ts [--updates 50] [--starts 10]
// "served" is the exporter's "documents loaded" line for the new clusterUUID (the swap of
// the served set), checked once more with a GET of public.json.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { documentFiles, testCluster } from '../../tests/exporter/fixtures';
import { startApiServer, startEtcd } from '../e2e/control-plane';
import { httpGet } from '../e2e/http';
import { resourcePath, type KubeApi, type KubeObject } from '../e2e/kube-api';

const root = resolve(import.meta.dir, '../..');
const { values } = parseArgs({
  options: {
    binary: { type: 'string', default: join(root, 'dist/bin/metadata-exporter') },
    updates: { type: 'string', default: '50' },
    starts: { type: 'string', default: '10' },
  },
});
const NAMESPACE = 'd8-istio';
const SECRET = 'd8-istio-federation-documents';
const DEADLINE_MS = 10_000;
const empty = { ingressGateways: [], publicServices: [] };

function upstream(script: string): string {
  const out = spawnSync('bash', [join(root, 'tools/upstream', script)], { encoding: 'utf8' });
  if (out.status !== 0) throw new Error(`${script} failed: ${out.stderr}`);
  return out.stdout.trim().split('\n').pop()!;
}

function secretFor(clusterUUID?: string): { object: KubeObject; clusterUUID: string } {
  const local = testCluster('bench.local');
  if (clusterUUID) local.clusterUUID = clusterUUID;
  const files = documentFiles(local, empty, []);
  const data = Object.fromEntries(
    Object.entries(files).map(([key, value]) => [key, Buffer.from(value).toString('base64')]),
  );
  return {
    object: { apiVersion: 'v1', kind: 'Secret', metadata: { name: SECRET, namespace: NAMESPACE }, data },
    clusterUUID: local.clusterUUID,
  };
}

/** The exporter process with a waiter on its "documents loaded" lines. */
function runExporter(kubeconfig: string) {
  const started = performance.now();
  const proc: ChildProcess = spawn(
    values.binary!,
    ['--documents-secret', `${NAMESPACE}/${SECRET}`, '--kubeconfig', kubeconfig, '--listen', '127.0.0.1:0'],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let port = 0;
  const waiters = new Map<string, (at: number) => void>();
  let firstLoaded: (at: number) => void = () => undefined;
  const first = new Promise<number>((done) => (firstLoaded = done));
  createInterface({ input: proc.stdout! }).on('line', (line) => {
    const at = performance.now();
    const record = JSON.parse(line) as { msg: string; port?: number; clusterUUID?: string };
    if (record.msg === 'listening') port = record.port!;
    if (record.msg === 'documents loaded') {
      firstLoaded(at - started);
      waiters.get(record.clusterUUID!)?.(at);
    }
  });
  return {
    proc,
    first,
    get port() {
      return port;
    },
    loaded(clusterUUID: string): Promise<number> {
      return new Promise((done, fail) => {
        const timer = setTimeout(() => fail(new Error(`${clusterUUID} not loaded in time`)), DEADLINE_MS);
        waiters.set(clusterUUID, (at) => {
          clearTimeout(timer);
          done(at);
        });
      });
    },
    stop(): Promise<void> {
      return new Promise((done) => {
        proc.once('exit', () => done());
        proc.kill('SIGKILL');
      });
    },
  };
}

const quantile = (sorted: number[], q: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
const summary = (label: string, samples: number[]): string => {
  const sorted = [...samples].sort((a, b) => a - b);
  return `${label}: median ${quantile(sorted, 0.5).toFixed(1)} ms, p90 ${quantile(sorted, 0.9).toFixed(1)} ms, max ${sorted.at(-1)!.toFixed(1)} ms (${sorted.length} samples)`;
};

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'exporter-watch-bench-'));
  const etcd = await startEtcd(upstream('etcd.sh'), dir);
  const apiServer = await startApiServer({
    binary: upstream('kube-apiserver.sh'),
    name: 'bench',
    dir: join(dir, 'apiserver'),
    etcdUrl: etcd.url,
    serviceCidr: '10.96.0.0/16',
  });
  const api: KubeApi = apiServer.api;
  const secretPath = resourcePath('v1', 'secrets', { namespace: NAMESPACE, name: SECRET });
  try {
    await api.apply(resourcePath('v1', 'namespaces', { name: NAMESPACE }), {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: NAMESPACE },
    });
    await api.apply(secretPath, secretFor().object);

    const starts: number[] = [];
    for (let i = 0; i < Number(values.starts) + 2; i++) {
      const exporter = runExporter(apiServer.kubeconfigPath);
      const ms = await exporter.first;
      if (i >= 2) starts.push(ms); // the first two warm the page cache
      await exporter.stop();
    }

    const exporter = runExporter(apiServer.kubeconfigPath);
    await exporter.first;
    const latencies: number[] = [];
    for (let i = 0; i < Number(values.updates); i++) {
      const { object, clusterUUID } = secretFor();
      const loaded = exporter.loaded(clusterUUID);
      const written = performance.now();
      await api.apply(secretPath, object);
      const at = await loaded;
      const served = await httpGet(`http://127.0.0.1:${exporter.port}/metadata/public/public.json`);
      if (!served.body.includes(clusterUUID)) throw new Error('loaded but not served');
      latencies.push(at - written);
    }
    await exporter.stop();
    process.stdout.write(`${summary('start, spawn -> documents loaded from the API', starts)}\n`);
    process.stdout.write(
      `${summary('Secret write (apply request sent) -> new documents loaded', latencies)}\n`,
    );
  } finally {
    await apiServer.process.stop();
    await etcd.process.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
