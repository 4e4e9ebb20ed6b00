// Fetch benchmark: the fetch hook against 100 loopback HTTPS remotes of which 10 never
// answer (they accept the connection and the request, then hold the socket open).
// Budget (DESIGN.md): the whole run finishes within one request timeout + 1 s.
// The remotes run in a child process, as remote clusters would not share the hook's CPU.
//   npx bun tools/bench/fetch.ts [--remotes 100] [--hanging 10] [--timeout-ms 10000]
import { spawn } from 'node:child_process';
import https from 'node:https';
import { createInterface } from 'node:readline';
import type { Socket } from 'node:net';
import { parseArgs } from 'node:util';
import { createFetchMetadataHook } from '../../hooks/federation/fetch-metadata';
import { DEFAULT_FETCH_LIMITS } from '../../lib/federation/fetch/transport';
import { FETCH_METRICS } from '../../lib/federation/status/metrics';
import { runHook } from '../../lib/hook-sdk';
import type { BindingContext, KubeOperation } from '../../lib/hook-sdk/types';
import { makeCertificate, makeServerPki } from '../../tests/fetch/certs';
import { deckhouseKeypair, goJson } from '../../tests/fetch/peer';

const { values: args } = parseArgs({
  options: {
    remotes: { type: 'string', default: '100' },
    hanging: { type: 'string', default: '10' },
    'timeout-ms': { type: 'string', default: String(DEFAULT_FETCH_LIMITS.requestTimeoutMs) },
    serve: { type: 'boolean', default: false },
  },
});
const remotes = Number(args.remotes);
const hanging = Number(args.hanging);
const requestTimeoutMs = Number(args['timeout-ms']);

const servers: https.Server[] = [];
const sockets = new Set<Socket>();

// One PKI and one identity shared by all remotes: the benchmark measures fetching, not key generation.
async function serveRemotes(): Promise<void> {
  const pki = makeServerPki('bench');
  const rootCA = makeCertificate({ commonName: 'bench root', isCA: true });
  const peerKeys = deckhouseKeypair();
  // Hanging remotes spread over the list, so they meet healthy ones in the concurrency pool.
  const hangs = new Set(Array.from({ length: hanging }, (_, k) => Math.floor((k * remotes) / hanging)));
  const endpoints = await Promise.all(
    Array.from({ length: remotes }, (_, i) =>
      startRemote(i, hangs.has(i), pki, rootCA.certPem, peerKeys.pub),
    ),
  );
  process.stdout.write(JSON.stringify({ ca: pki.ca.certPem, endpoints }) + '\n');
  process.on('SIGTERM', () => {
    for (const socket of sockets) socket.destroy();
    process.exit(0);
  });
}

async function startRemote(
  i: number,
  hang: boolean,
  pki: ReturnType<typeof makeServerPki>,
  rootCA: string,
  authnKeyPub: string,
): Promise<string> {
  const trustDomain = `remote-${i}.local`;
  const publicBody = goJson({ clusterUUID: `uuid-${i}`, authnKeyPub, rootCA });
  const privateBody = goJson({
    ingressGateways: [{ address: `192.0.2.${(i % 250) + 1}`, port: 15443 }],
    publicServices: Array.from({ length: 10 }, (_, s) => ({
      hostname: `svc-${s}.ns.svc.${trustDomain}`,
      ports: [{ name: 'http', port: 8080 }],
    })),
  });
  const server = https.createServer({ cert: pki.server.certPem, key: pki.server.keyPem }, (req, res) => {
    if (hang) return; // never answers
    const body = req.url?.endsWith('/public/public.json') ? publicBody : privateBody;
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(body);
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return `https://127.0.0.1:${port}/metadata/`;
}

function federation(i: number, endpoint: string, ca: string) {
  return {
    name: `remote-${String(i).padStart(3, '0')}`,
    generation: 1,
    spec: { trustDomain: `remote-${i}.local`, metadataEndpoint: endpoint, metadata: { ca } },
    status: {},
  };
}

async function startRemotesProcess(): Promise<{ ca: string; endpoints: string[]; stop: () => void }> {
  const child = spawn(
    process.execPath,
    [process.argv[1]!, '--serve', '--remotes', String(remotes), '--hanging', String(hanging)],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const line = await new Promise<string>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`remotes process exited with ${code}`)));
    createInterface({ input: child.stdout! }).once('line', resolve);
  });
  const { ca, endpoints } = JSON.parse(line) as { ca: string; endpoints: string[] };
  return { ca, endpoints, stop: () => child.kill('SIGTERM') };
}

type FilterResult = ReturnType<typeof federation> & { status: unknown };

interface BenchRun {
  wallMs: number;
  output: Awaited<ReturnType<typeof runHook>>;
}

async function runOnce(
  federations: FilterResult[],
  ourKeys: { pub: string; priv: string },
): Promise<BenchRun> {
  const contexts: BindingContext[] = [
    {
      binding: 'federations',
      type: 'Group',
      groupName: 'main',
      snapshots: { federations: federations.map((filterResult) => ({ filterResult })) },
    },
  ];
  const hook = createFetchMetadataHook({ limits: { ...DEFAULT_FETCH_LIMITS, requestTimeoutMs } });
  const started = performance.now();
  const output = await runHook(hook, {
    contexts,
    values: {
      global: { discovery: { clusterDomain: 'bench.local', clusterUUID: 'uuid-bench' } },
      istio: { federation: { enabled: true }, internal: { remoteAuthnKeypair: ourKeys } },
    },
    configValues: {},
    valuesKey: 'istio',
    logSink: () => undefined,
  });
  return { wallMs: performance.now() - started, output };
}

function report(label: string, run: BenchRun): boolean {
  const reasons = new Map<string, number>();
  for (const op of run.output.kubeOperations as Extract<KubeOperation, { operation: 'MergePatch' }>[]) {
    const status = (op.mergePatch as { status: { conditions: { type: string; reason: string }[] } }).status;
    const reason = status.conditions.find((c) => c.type === 'MetadataFetched')?.reason ?? '?';
    reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
  }
  const durations = run.output.metrics
    .filter(
      (m): m is Extract<typeof m, { value: number }> => 'name' in m && m.name === FETCH_METRICS.fetchDuration,
    )
    .map((m) => m.value * 1000)
    .sort((a, b) => a - b);
  const healthy = durations.filter((d) => d < requestTimeoutMs);
  const pct = (p: number) =>
    healthy[Math.min(healthy.length - 1, Math.floor((p / 100) * healthy.length))] ?? NaN;
  const budgetMs = requestTimeoutMs + 1000;
  const ok = run.wallMs <= budgetMs;
  console.log(`  ${label}`);
  console.log(
    `    wall time          ${run.wallMs.toFixed(0)} ms (budget ${budgetMs} ms: ${ok ? 'OK' : 'OVER'})`,
  );
  console.log(`    outcomes           ${[...reasons].map(([r, n]) => `${r}=${n}`).join(', ')}`);
  console.log(
    `    healthy fetch      p50 ${pct(50).toFixed(1)} / p95 ${pct(95).toFixed(1)} / max ${(healthy.at(-1) ?? NaN).toFixed(1)} ms`,
  );
  return ok;
}

async function main(): Promise<void> {
  const ourKeys = deckhouseKeypair();
  const { ca, endpoints, stop } = await startRemotesProcess();
  const runtime = typeof Bun !== 'undefined' ? `bun ${Bun.version}` : `node ${process.version}`;
  console.log(
    `fetch benchmark (${runtime}): ${remotes} remotes, ${hanging} never answer, request timeout ${requestTimeoutMs} ms, remotes in a separate process`,
  );
  const rssBefore = process.memoryUsage().rss;
  const cold: FilterResult[] = endpoints.map((e, i) => federation(i, e, ca));
  const first = await runOnce(cold, ourKeys);
  const coldOk = report('cold (no status yet: every federation is new)', first);
  // Steady state: statuses from the first run, then a spec change on every object makes all due at once;
  // the peers that timed out before now start first.
  const patches = new Map(
    (first.output.kubeOperations as Extract<KubeOperation, { operation: 'MergePatch' }>[]).map((op) => [
      op.name,
      (op.mergePatch as { status: unknown }).status,
    ]),
  );
  const warm = cold.map((f) => ({ ...f, generation: 2, status: patches.get(f.name) ?? {} }));
  const warmOk = report('warm (all due again, statuses known)', await runOnce(warm, ourKeys));
  console.log(
    `  RSS growth           ${((process.memoryUsage().rss - rssBefore) / 1024 / 1024).toFixed(1)} MiB`,
  );
  stop();
  if (!coldOk || !warmOk) process.exitCode = 1;
}

if (args.serve) await serveRemotes();
else await main();
