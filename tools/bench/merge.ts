// Merge benchmark (run with `npx bun tools/bench/merge.ts`): federations x services through
// the merge, in process (parse + merge, the pure part) and through the compiled hook binary
// (binding-context JSON in, values patch out), each in a child process measured by
// /usr/bin/time -v for peak RSS. Budget at 100 x 1,000: 1 s wall, 300 MB RSS.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DEFAULT_IMPORT_LIMITS } from '../../lib/federation/import/verdict';
import { FEDERATION_KIND, readFederation, type Federation } from '../../lib/federation/kind';
import { writeOperatorFiles } from '../../lib/hook-sdk/testing';
import { testPublicDocument } from '../../tests/support/peer-identity';

const root = resolve(import.meta.dir, '..', '..');
const LOCAL = 'cluster-a.local';
const BUDGET = { ms: 1000, rssMB: 300 };
const UNLIMITED = { maxServicesPerFederation: Infinity, maxServicesTotal: Infinity };

/** What the merge hook's jqFilter yields for one IstioFederation with a full cache. */
function federationFilterResult(f: number, services: number): unknown {
  const td = `cluster-${f}.local`;
  return {
    name: `federation-${String(f).padStart(3, '0')}`,
    spec: { trustDomain: td },
    status: {
      metadataCache: {
        // A real key and CA: the merge checks them like the fetcher does.
        public: testPublicDocument(`00000000-0000-4000-8000-${String(f).padStart(12, '0')}`),
        private: {
          ingressGateways: [
            { address: `198.51.${f % 256}.10`, port: 15443 },
            { address: `198.51.${f % 256}.11`, port: 15443 },
          ],
          publicServices: Array.from({ length: services }, (_, s) => ({
            hostname: `service-${s}.namespace-${s % 50}.svc.${td}`,
            ports: [
              { name: 'http', port: 8080, protocol: 'HTTP' },
              { name: 'grpc-api', port: 9090, protocol: 'HTTP2' },
            ],
          })),
        },
      },
    },
  };
}

function child(federations: number, services: number, limits: string, repeats: number): void {
  const input = Array.from({ length: federations }, (_, f) => federationFilterResult(f, services));
  const run = () => {
    const started = performance.now();
    const parsed = input
      .map((raw) => readFederation(raw, { ownTrustDomain: LOCAL }))
      .filter((f): f is Federation => f !== undefined);
    const result = FEDERATION_KIND.decide(
      parsed,
      { trustDomain: LOCAL, now: new Date() },
      { limits: limits === 'unlimited' ? UNLIMITED : DEFAULT_IMPORT_LIMITS },
    );
    // Serialising the values is part of what the hook does.
    const bytes = JSON.stringify(result.serviceEntries).length + JSON.stringify(result.trustedPeers).length;
    return { ms: performance.now() - started, entries: result.serviceEntries.length, bytes };
  };
  const cold = run();
  // Warm runs (JIT done) only when asked: they leave garbage that would inflate the cold run's peak RSS.
  const warmRuns = Array.from({ length: repeats - 1 }, () => run().ms).sort((a, b) => a - b);
  const warm = warmRuns[Math.floor(warmRuns.length / 2)] ?? NaN;
  process.stdout.write(
    JSON.stringify({ coldMs: cold.ms, warmMs: warm, entries: cold.entries, bytes: cold.bytes }) + '\n',
  );
}

interface Measured {
  wallMs: number;
  rssMB: number;
  stdout: string;
}

function timed(command: string[], env: Record<string, string> = {}): Measured {
  const started = performance.now();
  const out = spawnSync('/usr/bin/time', ['-v', ...command], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    maxBuffer: 64 * 1024 * 1024,
  });
  const wallMs = performance.now() - started;
  if (out.status !== 0) throw new Error(`${command.join(' ')} failed: ${out.stderr}`);
  const rssKB = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(out.stderr)?.[1] ?? NaN);
  return { wallMs, rssMB: rssKB / 1024, stdout: out.stdout };
}

async function binaryRun(
  binary: string,
  federations: number,
  services: number,
): Promise<Measured & { entries: number }> {
  // Loaded here so that the in-process children measure the merge, not every hook's imports.
  const { app } = await import('../../hooks/index');
  const dir = mkdtempSync(join(tmpdir(), 'bench-merge-'));
  try {
    const index = app.hooks.findIndex((h) => h.name === 'federation/merge-federations');
    const items = Array.from({ length: federations }, (_, f) => ({
      filterResult: federationFilterResult(f, services),
    }));
    const global = { discovery: { clusterDomain: LOCAL, clusterUUID: 'bench' } };
    const files = writeOperatorFiles(dir, {
      contexts: [
        { binding: 'federations', type: 'Group', groupName: 'main', snapshots: { federations: items } },
      ],
      // Federation enabled: a disabled module imports nothing (FederationDisabled).
      values: { global, istio: { federation: { enabled: true }, internal: { federation: {} } } },
      configValues: { global, istio: { federation: { enabled: true } } },
    });
    const measured = timed([binary, 'hook', 'run', String(index)], files);
    const patch = readFileSync(files.VALUES_JSON_PATCH_PATH, 'utf8');
    const entries = patch
      .trim()
      .split('\n')
      .flatMap((line) => [JSON.parse(line) as { path: string; value: unknown }].flat())
      .filter((op) => op.path.endsWith('/serviceEntries'))
      .map((op) => (op.value as unknown[]).length)[0];
    return { ...measured, entries: entries ?? 0 };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const scenarios: [number, number][] = [
    [10, 1000],
    [100, 1000],
  ];
  const rows: string[][] = [
    [
      'scenario',
      'limits',
      'entries',
      'merge cold ms',
      'merge warm ms',
      'process wall ms',
      'peak RSS MB',
      'budget',
    ],
  ];
  for (const [federations, services] of scenarios) {
    for (const limits of ['default', 'unlimited']) {
      const childRun = (repeats: number) => {
        const args = ['--child', String(federations), String(services), limits, String(repeats)];
        const m = timed([process.execPath, import.meta.path, ...args]);
        return { m, r: JSON.parse(m.stdout) as { coldMs: number; warmMs: number; entries: number } };
      };
      const { m, r } = childRun(1);
      r.warmMs = childRun(4).r.warmMs;
      const ok = r.coldMs <= BUDGET.ms && m.rssMB <= BUDGET.rssMB;
      rows.push([
        `in-process ${federations} x ${services}`,
        limits,
        String(r.entries),
        r.coldMs.toFixed(0),
        r.warmMs.toFixed(0),
        m.wallMs.toFixed(0),
        m.rssMB.toFixed(0),
        ok ? 'ok' : 'OVER',
      ]);
    }
  }
  const binary =
    process.env.HOOK_BINARY ?? join(root, 'dist', 'module', 'hooks', 'batch', 'istio-federation');
  if (existsSync(binary)) {
    for (const [federations, services] of scenarios) {
      const m = await binaryRun(binary, federations, services);
      rows.push([
        `hook binary ${federations} x ${services}`,
        'default',
        String(m.entries),
        '-',
        '-',
        m.wallMs.toFixed(0),
        m.rssMB.toFixed(0),
        m.wallMs <= BUDGET.ms && m.rssMB <= BUDGET.rssMB ? 'ok' : 'OVER',
      ]);
    }
  } else {
    process.stderr.write(`(no hook binary at ${binary}: run \`npm run build\` for the binary rows)\n`);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const r of rows) process.stdout.write(r.map((c, i) => c.padEnd(widths[i]!)).join('  ') + '\n');
  process.stdout.write(`budget: merge <= ${BUDGET.ms} ms wall, <= ${BUDGET.rssMB} MB RSS at 100 x 1,000\n`);
}

if (process.argv[2] === '--child') {
  const [federations, services, limits, repeats] = process.argv.slice(3);
  child(Number(federations), Number(services), limits ?? 'default', Number(repeats ?? 1));
} else {
  await main();
}
