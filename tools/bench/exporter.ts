// Throughput and tail latency of the compiled metadata exporter on loopback, measured with
// wrk: the public document and the private document with a valid token (one EdDSA check
// per request). The exporter is pinned to one core, wrk to another. A figure, not a test.
//   npm run build && npx bun tools/bench/exporter.ts [--duration 10] [--connections 8]
// Fails (exit 1) unless every measured response is a 200.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { documentFiles, testCluster, writeKubernetesSecretDir } from '../../tests/exporter/fixtures';
import { benchPrivateToken, MAX_BENCH_DURATION_SECONDS } from './exporter-token';

const root = resolve(import.meta.dir, '..', '..');
const binary = join(root, 'dist', 'bin', 'metadata-exporter');
const BUDGET_PUBLIC_RPS = 5000;

function flag(name: string, fallback: number): number {
  const index = process.argv.indexOf(`--${name}`);
  const value = index >= 0 ? Number(process.argv[index + 1]) : NaN;
  return Number.isFinite(value) && value > 0 ? value : fallback;
}

const duration = flag('duration', 10);
const connections = flag('connections', 8);
const pin = existsSync('/usr/bin/taskset');

interface WrkFigures {
  requestsPerSecond: number;
  p50: string;
  p99: string;
  requests: number;
  non2xx: number;
  socketErrors: number;
}

function wrk(url: string, headers: string[]): WrkFigures {
  const args = [
    '-t1',
    `-c${connections}`,
    `-d${duration}s`,
    '--latency',
    ...headers.flatMap((h) => ['-H', h]),
    url,
  ];
  const cmd = pin ? ['taskset', '-c', '1', 'wrk', ...args] : ['wrk', ...args];
  const run = spawnSync(cmd[0]!, cmd.slice(1), { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`wrk failed: ${run.stderr}`);
  const out = run.stdout;
  const match = (re: RegExp) => re.exec(out)?.[1] ?? '?';
  return {
    requestsPerSecond: Number(match(/Requests\/sec:\s+([\d.]+)/)),
    p50: match(/^\s+50%\s+(\S+)/m),
    p99: match(/^\s+99%\s+(\S+)/m),
    requests: Number(match(/(\d+) requests in/)),
    non2xx: Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0),
    socketErrors: [...(/Socket errors: (.*)/.exec(out)?.[1] ?? '').matchAll(/(\d+)/g)].reduce(
      (sum, m) => sum + Number(m[1]),
      0,
    ),
  };
}

/** One request before measuring: a route that does not answer 200 is not worth timing. */
async function expect200(url: string, headers: string[]): Promise<void> {
  const init = { headers: Object.fromEntries(headers.map((h) => h.split(/:\s*/, 2) as [string, string])) };
  const res = await fetch(url, init);
  const body = await res.text();
  if (res.status !== 200) {
    throw new Error(`${url} answered ${res.status} (${body.slice(0, 200)}), not 200: nothing to measure`);
  }
}

/** Every response of the run must be a 200, or the figures are about an error path. */
function checked(name: string, figures: WrkFigures): WrkFigures {
  if (figures.requests === 0 || figures.non2xx > 0 || figures.socketErrors > 0) {
    throw new Error(
      `${name}: ${figures.non2xx} of ${figures.requests} responses were not 200 and ${figures.socketErrors} ` +
        'socket errors: the figures would not measure the intended route',
    );
  }
  return figures;
}

function rssMiB(pid: number): string {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
  return (kib / 1024).toFixed(0);
}

async function main(): Promise<void> {
  if (!existsSync(binary)) throw new Error(`${binary} is missing: run \`npm run build\` first`);
  if (spawnSync('wrk', ['--version']).error) throw new Error('wrk is missing (apt-get install -y wrk)');
  if (duration > MAX_BENCH_DURATION_SECONDS)
    throw new Error(`--duration ${duration}: at most ${MAX_BENCH_DURATION_SECONDS} s (one token per run)`);

  const local = testCluster('cluster-local.test');
  const peer = testCluster('cluster-a.local');
  const federation = {
    ingressGateways: [{ address: '192.0.2.10', port: 15443 }],
    publicServices: Array.from({ length: 20 }, (_, i) => ({
      hostname: `svc-${i}.ns.svc.cluster-local.test`,
      ports: [{ name: 'http', port: 8080 }],
    })),
  };
  const dir = mkdtempSync(join(tmpdir(), 'bench-exporter-'));
  writeKubernetesSecretDir(dir, documentFiles(local, federation, [peer]));

  const args = ['--documents-dir', dir, '--listen', '127.0.0.1:0'];
  const cmd = pin ? ['taskset', '-c', '0', binary, ...args] : [binary, ...args];
  const proc = spawn(cmd[0]!, cmd.slice(1), { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const port = await new Promise<number>((resolvePort, reject) => {
      const deadline = setTimeout(() => reject(new Error('exporter did not start within 15 s')), 15_000);
      createInterface({ input: proc.stdout! }).on('line', (line) => {
        const record = JSON.parse(line) as { msg?: string; port?: number };
        if (record.msg === 'listening') {
          clearTimeout(deadline);
          resolvePort(record.port!);
        }
      });
    });
    const base = `http://127.0.0.1:${port}/metadata`;
    const publicUrl = `${base}/public/public.json`;
    const privateUrl = `${base}/private/federation.json`;
    await expect200(publicUrl, []);

    wrk(publicUrl, []); // warm-up, not reported
    const publicFigures = checked('public', wrk(publicUrl, []));
    // The reference's claims, minted right before the run and living just past it: the
    // exporter refuses tokens over 300 s (a 3,600 s token measured nothing but 401s).
    const auth = [
      `Authorization: Bearer ${benchPrivateToken(peer.keypair.priv, local.clusterUUID, peer.clusterUUID, duration)}`,
    ];
    await expect200(privateUrl, auth);
    const privateFigures = checked('private', wrk(privateUrl, auth));
    const rss = rssMiB(proc.pid!);

    const row = (name: string, f: WrkFigures) =>
      `| ${name} | ${f.requestsPerSecond.toFixed(0)} | ${f.p50} | ${f.p99} | ${f.requests} | ${f.non2xx} |`;
    console.log(
      [
        `exporter pinned to one core: ${pin ? 'yes (taskset -c 0; wrk on core 1)' : 'no (taskset missing)'}; ` +
          `wrk -t1 -c${connections} -d${duration}s; RSS after the runs: ${rss} MiB`,
        '',
        '| document | req/s | p50 | p99 | requests | non-2xx |',
        '| --- | ---: | ---: | ---: | ---: | ---: |',
        row('public (public.json)', publicFigures),
        row('private (federation.json, EdDSA token)', privateFigures),
        '',
        `budget: >= ${BUDGET_PUBLIC_RPS} req/s public: ` +
          (publicFigures.requestsPerSecond >= BUDGET_PUBLIC_RPS ? 'met' : 'NOT met'),
      ].join('\n'),
    );
  } finally {
    proc.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(`bench failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
