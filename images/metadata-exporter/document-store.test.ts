import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '../../lib/hook-sdk/logger';
import { documentFiles, testCluster, writeKubernetesSecretDir } from '../../tests/exporter/fixtures';
import { documentKeys } from './document-set';
import {
  directorySignature,
  DocumentDirectory,
  DocumentStore,
  readDocumentDirectory,
} from './document-store';
import { ExporterMetrics } from './metrics';

const local = testCluster('local.test');
const peer = testCluster('peer.test');
const empty = { ingressGateways: [], publicServices: [] };
const FEDERATION = documentKeys(['federation']);

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'document-store-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function store() {
  const lines: Record<string, unknown>[] = [];
  const metrics = new ExporterMetrics({ processMetrics: false });
  const logger = new Logger((line) => lines.push(JSON.parse(line) as Record<string, unknown>));
  const documents = new DocumentStore(logger, metrics, () => new Date(1_700_000_000_000));
  const directory = new DocumentDirectory(dir, FEDERATION, documents);
  return {
    store: {
      reload: (force?: boolean) => directory.reload(force),
      get current() {
        return documents.current;
      },
    },
    lines,
    metrics,
  };
}

test('reads a Kubernetes layout from the ..data target, named by it', () => {
  writeKubernetesSecretDir(dir, documentFiles(local, empty, [peer]));
  const read = readDocumentDirectory(dir, FEDERATION);
  expect(read.ok).toBe(true);
  expect(read.signature).toMatch(/^data:\.\.2026_/);
  expect(read.signature).toBe(directorySignature(dir, FEDERATION));
  expect(read.ok && JSON.parse(read.raw.public).clusterUUID).toBe(local.clusterUUID);
});

test('a plain directory is named by its files, so a replaced file changes the name', () => {
  const files = documentFiles(local, empty, []);
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
  const before = directorySignature(dir, FEDERATION);
  expect(before).toMatch(/^files:/);
  writeFileSync(
    join(dir, 'federation.json'),
    JSON.stringify({ ingressGateways: [{ address: 'a', port: 1 }] }),
  );
  expect(directorySignature(dir, FEDERATION)).not.toBe(before);
});

test('reload: loaded, then unchanged until the directory changes; invalid sets keep the last valid one', async () => {
  const { store: s, lines, metrics } = store();
  writeKubernetesSecretDir(dir, documentFiles(local, empty, []));
  expect(s.reload()).toBe('loaded');
  const first = s.current;
  expect(s.reload()).toBe('unchanged');
  expect(s.current).toBe(first);

  writeKubernetesSecretDir(dir, { ...documentFiles(local, empty, []), 'public.json': '[]' });
  expect(s.reload()).toBe('rejected');
  expect(s.current).toBe(first);
  expect(s.reload()).toBe('unchanged'); // the same bad set is not retried (nor logged) on every poll
  expect(s.reload(true)).toBe('rejected'); // SIGHUP retries anyway

  writeKubernetesSecretDir(dir, documentFiles(local, empty, [peer]));
  expect(s.reload()).toBe('loaded');
  expect(s.current?.set.peers.federation?.has(peer.clusterUUID)).toBe(true);

  expect(lines.map((l) => l.msg)).toStrictEqual([
    'documents loaded',
    'documents rejected, serving the previous set',
    'documents rejected, serving the previous set',
    'documents loaded',
  ]);
  const text = await metrics.registry.metrics();
  expect(text).toMatch(/document_reloads_total\{result="success"\} 2\b/);
  expect(text).toMatch(/document_reloads_total\{result="failure"\} 2\b/);
  expect(text).toMatch(/document_last_reload_timestamp_seconds 1700000000\b/);
});

test('no documents at all: rejected, nothing served', () => {
  const { store: s, lines } = store();
  expect(s.reload()).toBe('rejected');
  expect(s.current).toBeUndefined();
  expect(lines[0]).toMatchObject({
    msg: 'documents rejected, none loaded yet',
    error: 'public.json: ENOENT',
  });
});
