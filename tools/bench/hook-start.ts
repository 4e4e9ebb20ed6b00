// Start-to-exit time of the hook executable, beside the bare Bun runtime, Node.js and a Go
// batch binary built from deckhouse/module-sdk with one trivial hook. A figure, not a test.
//   npx bun tools/bench/hook-start.ts [--runs 60]
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { generateAuthnKeypair } from '../../lib/federation/identity/authn-keys';
import { bindingContextsFor, writeOperatorFiles } from '../../lib/hook-sdk/testing';
import authnKeypair from '../../hooks/federation/authn-keypair';
import { app } from '../../hooks/index';
import { secret } from '../../tests/support/module';

const root = resolve(import.meta.dir, '..', '..');
const runs = Number(process.argv[process.argv.indexOf('--runs') + 1]) || 60;
const WARMUP = 5;

function sh(cmd: string[]): string {
  const p = Bun.spawnSync(cmd, { cwd: root, stderr: 'inherit' });
  if (p.exitCode !== 0) throw new Error(`${cmd.join(' ')} failed`);
  return p.stdout.toString().trim().split('\n').pop()!;
}

function operatorEnv(contexts: unknown): Record<string, string> {
  return writeOperatorFiles(mkdtempSync(join(tmpdir(), 'bench-hook-')), {
    contexts,
    values: { global: { discovery: { clusterDomain: 'cluster-a.local' } }, istio: { internal: {} } },
    configValues: { istio: {} },
  });
}

interface Figure {
  label: string;
  median: number;
  p90: number;
}

function measure(label: string, cmd: string[], env: Record<string, string> = {}): Figure {
  const times: number[] = [];
  for (let i = 0; i < WARMUP + runs; i++) {
    const started = performance.now();
    const p = Bun.spawnSync(cmd, {
      env: { PATH: '/usr/bin:/bin', ...env },
      stdout: 'ignore',
      stderr: 'pipe',
    });
    const elapsed = performance.now() - started;
    if (p.exitCode !== 0) throw new Error(`${label}: exit ${p.exitCode}: ${p.stderr.toString()}`);
    if (i >= WARMUP) times.push(elapsed);
  }
  times.sort((a, b) => a - b);
  const at = (q: number) => times[Math.min(times.length - 1, Math.floor(q * times.length))]!;
  return { label, median: at(0.5), p90: at(0.9) };
}

const hookBinary = join(root, 'dist/module/hooks/batch/istio-federation');
process.env.GOJQ_BIN ??= sh(['bash', 'tools/upstream/gojq.sh']);
const goSdkHook = sh(['bash', 'tools/bench/go-sdk-hook.sh']);
const emptyDir = mkdtempSync(join(tmpdir(), 'bench-bare-'));
writeFileSync(join(emptyDir, 'empty.ts'), '');
const bareBun = join(emptyDir, 'bare-bun');
sh([process.execPath, 'build', '--compile', '--minify', join(emptyDir, 'empty.ts'), '--outfile', bareBun]);

const pair = generateAuthnKeypair();
const keypairContexts = bindingContextsFor(
  authnKeypair,
  [secret('d8-istio', 'd8-remote-authn-keypair', { 'pub.pem': pair.pub, 'priv.pem': pair.priv })],
  'beforeHelm',
);
const goEnv = { ...operatorEnv([{ binding: 'beforeHelm', snapshots: {} }]), LOG_LEVEL: 'ERROR' };

const figures: Figure[] = [
  measure('bare Bun runtime (compiled empty script)', [bareBun]),
  measure('node -e 0 (machine Node.js 20, reference only)', ['node', '-e', '0']),
  measure('ours: hook list (empty env)', [hookBinary, 'hook', 'list']),
  measure('ours: hook config', [hookBinary, 'hook', 'config']),
  measure(
    'ours: hook run (key-pair hook, Secret reused)',
    [hookBinary, 'hook', 'run', String(app.hooks.indexOf(authnKeypair))],
    operatorEnv(keypairContexts),
  ),
  measure('Go module-sdk: hook list', [goSdkHook, 'hook', 'list']),
  measure('Go module-sdk: hook config', [goSdkHook, 'hook', 'config']),
  measure('Go module-sdk: hook run (trivial hook)', [goSdkHook, 'hook', 'run', '0'], goEnv),
];

console.log(
  `| command | median ms | p90 ms |  (${runs} runs each, ${WARMUP} warm-up, ${new Date().toISOString()})`,
);
console.log('|---|---:|---:|');
for (const f of figures) console.log(`| ${f.label} | ${f.median.toFixed(1)} | ${f.p90.toFixed(1)} |`);
