// Exporter start time: spawn -> "documents loaded" log line, documents from a directory.
//   npx bun tools/bench/exporter-start.ts [--binary dist/bin/metadata-exporter] [--runs 30]
// Prints the median and p90 of spawn -> "listening" and spawn -> "documents loaded".
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { documentFiles, testCluster, writeKubernetesSecretDir } from '../../tests/exporter/fixtures';

const { values } = parseArgs({
  options: {
    binary: { type: 'string', default: resolve(import.meta.dir, '../../dist/bin/metadata-exporter') },
    runs: { type: 'string', default: '30' },
  },
});
const runs = Number(values.runs);
const DEADLINE_MS = 10_000;

/** Milliseconds from spawn to each of the two log lines, then SIGKILL. */
function once(binary: string, dir: string): Promise<{ listening: number; loaded: number }> {
  return new Promise((done, fail) => {
    const started = performance.now();
    const proc = spawn(binary, ['--documents-dir', dir, '--listen', '127.0.0.1:0'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      fail(new Error('no "documents loaded" line in time'));
    }, DEADLINE_MS);
    let listening = NaN;
    createInterface({ input: proc.stdout }).on('line', (line) => {
      const msg = (JSON.parse(line) as { msg: string }).msg;
      if (msg === 'listening') listening = performance.now() - started;
      if (msg === 'documents loaded') {
        const loaded = performance.now() - started;
        clearTimeout(timer);
        proc.kill('SIGKILL');
        proc.once('exit', () => done({ listening, loaded }));
      }
    });
  });
}

const quantile = (sorted: number[], q: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'exporter-start-'));
  try {
    const local = testCluster('cluster-a.local');
    writeKubernetesSecretDir(
      dir,
      documentFiles(
        local,
        { ingressGateways: [{ address: '198.51.100.1', port: 15443 }], publicServices: [] },
        [testCluster('cluster-b.local')],
      ),
    );
    for (let i = 0; i < 3; i++) await once(values.binary!, dir); // warm the page cache
    const samples: { listening: number; loaded: number }[] = [];
    for (let i = 0; i < runs; i++) samples.push(await once(values.binary!, dir));
    for (const key of ['listening', 'loaded'] as const) {
      const sorted = samples.map((s) => s[key]).sort((a, b) => a - b);
      process.stdout.write(
        `${key.padEnd(9)} median ${quantile(sorted, 0.5).toFixed(1)} ms, p90 ${quantile(sorted, 0.9).toFixed(1)} ms (${runs} runs)\n`,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
