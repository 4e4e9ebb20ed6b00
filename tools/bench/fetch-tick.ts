// Cost of one schedule tick of the fetch hook at 100 healthy peers, with conditional requests
// (peers that send ETags, as our exporter does) and without (peers that send none, as
// Deckhouse's exporter). Runs the COMPILED hook executable (`npm run build` first) the way
// addon-operator does on each tick, with the statuses the previous runs wrote, and reports
// per tick: requests, bytes on the wire (both directions, TLS included, counted by the
// peers), CPU time of the hook process (user + system), wall time and status writes.
// The peers run in a child process, as remote clusters would not share the hook's CPU.
//   npx bun tools/bench/fetch-tick.ts [--remotes 100] [--ticks 5]
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import http from 'node:http';
import net, { type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { parseArgs } from 'node:util';
import fetchHook, { FETCH_TICK } from '../../hooks/federation/fetch-metadata';
import { app } from '../../hooks/index';
import { writeOperatorFiles } from '../../lib/hook-sdk/testing';
import type { BindingContext, KubeOperation } from '../../lib/hook-sdk/types';
import { makeCertificate, makeServerPki } from '../../tests/fetch/certs';
import { applyMergePatch } from '../../tests/fetch/cluster';
import { deckhouseKeypair, goJson } from '../../tests/fetch/peer';

const { values: args } = parseArgs({
  options: {
    remotes: { type: 'string', default: '100' },
    ticks: { type: 'string', default: '5' },
    // Another build of the executable (e.g. an older commit's), and the refresh to give it.
    binary: { type: 'string' },
    refresh: { type: 'string' },
    serve: { type: 'boolean', default: false },
  },
});
const remotes = Number(args.remotes);
const ticks = Number(args.ticks);
const root = resolve(import.meta.dir, '..', '..');
const binary = args.binary ?? join(root, 'dist', 'module', 'hooks', 'batch', 'istio-federation');

interface Counters {
  connections: number;
  requests: number;
  notModified: number;
  bytes: number;
}

// ---- the peers (child process) ----

async function serve(): Promise<void> {
  const pki = makeServerPki('bench');
  const rootCA = makeCertificate({ commonName: 'bench root', isCA: true });
  const peerKeys = deckhouseKeypair();
  const counters: Counters = { connections: 0, requests: 0, notModified: 0, bytes: 0 };
  const open = new Set<Socket>();
  const start = async (i: number, etags: boolean): Promise<string> => {
    const trustDomain = `remote-${i}.local`;
    const bodies: Record<string, string> = {
      public: goJson({
        clusterUUID: `uuid-${etags ? 'e' : 'd'}-${i}`,
        authnKeyPub: peerKeys.pub,
        rootCA: rootCA.certPem,
      }),
      private: goJson({
        ingressGateways: [{ address: `192.0.2.${(i % 250) + 1}`, port: 15443 }],
        publicServices: Array.from({ length: 10 }, (_, s) => ({
          hostname: `svc-${s}.ns.svc.${trustDomain}`,
          ports: [{ name: 'http', port: 8080 }],
        })),
      }),
    };
    const server = https.createServer({ cert: pki.server.certPem, key: pki.server.keyPem }, (req, res) => {
      counters.requests++;
      const body = req.url?.endsWith('/public/public.json') ? bodies.public! : bodies.private!;
      if (!etags) return void res.writeHead(200, { 'Content-Type': 'application/json' }).end(body);
      const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
      if (req.headers['if-none-match'] === etag) {
        counters.notModified++;
        return void res.writeHead(304, { ETag: etag }).end();
      }
      res.writeHead(200, { 'Content-Type': 'application/json', ETag: etag }).end(body);
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    const target = (server.address() as { port: number }).port;
    // In front of each peer a TCP relay counts the bytes on the wire, both directions:
    // handshakes, headers, bodies (the runtime's TLS sockets do not count them reliably).
    const relay = net.createServer((client) => {
      open.add(client);
      counters.connections++;
      const upstream = net.connect(target, '127.0.0.1');
      client.on('data', (chunk: Buffer) => {
        counters.bytes += chunk.length;
        upstream.write(chunk);
      });
      upstream.on('data', (chunk: Buffer) => {
        counters.bytes += chunk.length;
        client.write(chunk);
      });
      const close = (): void => {
        client.destroy();
        upstream.destroy();
        open.delete(client);
      };
      client.on('close', close).on('error', close);
      upstream.on('close', close).on('error', close);
    });
    await new Promise<void>((done) => relay.listen(0, '127.0.0.1', done));
    return `https://127.0.0.1:${(relay.address() as { port: number }).port}/metadata/`;
  };
  const withETags = await Promise.all(Array.from({ length: remotes }, (_, i) => start(i, true)));
  const without = await Promise.all(Array.from({ length: remotes }, (_, i) => start(i, false)));
  // Control: GET /stats answers the counters once every connection has closed, then resets them.
  const control = http.createServer((_req, res) => {
    const deadline = Date.now() + 5_000;
    const answer = (): void => {
      if (open.size > 0 && Date.now() < deadline) return void setTimeout(answer, 10);
      res.end(JSON.stringify({ ...counters, openConnections: open.size }));
      Object.assign(counters, { connections: 0, requests: 0, notModified: 0, bytes: 0 });
    };
    answer();
  });
  await new Promise<void>((done) => control.listen(0, '127.0.0.1', done));
  const controlPort = (control.address() as { port: number }).port;
  process.stdout.write(JSON.stringify({ ca: pki.ca.certPem, withETags, without, controlPort }) + '\n');
  process.on('SIGTERM', () => process.exit(0));
}

// ---- the hook side ----

function stats(port: number): Promise<Counters> {
  return new Promise((done, fail) => {
    http
      .get(`http://127.0.0.1:${port}/stats`, (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString()));
        res.on('end', () => done(JSON.parse(text) as Counters));
      })
      .on('error', fail);
  });
}

interface Federation {
  name: string;
  generation: number;
  spec: Record<string, unknown>;
  status: unknown;
}

interface Tick {
  wallMs: number;
  cpuMs: number;
  writes: number;
  counters: Counters;
}

const hookIndex = app.hooks.findIndex((h) => h.name === fetchHook.name);
const ourKeys = deckhouseKeypair();

async function runTick(federations: Federation[], trigger: string, controlPort: number): Promise<Tick> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-tick-'));
  try {
    const contexts: BindingContext[] = [
      {
        binding: trigger,
        type: 'Group',
        groupName: 'main',
        snapshots: { federations: federations.map((filterResult) => ({ filterResult })) },
      },
    ];
    const files = writeOperatorFiles(dir, {
      contexts,
      values: {
        global: { discovery: { clusterDomain: 'bench.local', clusterUUID: 'uuid-bench' } },
        istio: { federation: { enabled: true }, internal: { remoteAuthnKeypair: ourKeys } },
      },
      configValues: { istio: { federation: { enabled: true } } },
    });
    const started = performance.now();
    const proc = Bun.spawnSync([binary, 'hook', 'run', String(hookIndex)], {
      env: {
        PATH: '/usr/bin:/bin',
        ...files,
        ...(args.refresh ? { ISTIO_FEDERATION_REFRESH_SECONDS: args.refresh } : {}),
      },
      stdout: 'ignore',
      stderr: 'pipe',
    });
    const wallMs = performance.now() - started;
    if (proc.exitCode !== 0) throw new Error(`hook run failed: ${proc.stderr.toString()}`);
    const cpu = proc.resourceUsage?.cpuTime;
    const operations = readFileSync(files.KUBERNETES_PATCH_PATH, 'utf8')
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => JSON.parse(l) as KubeOperation);
    for (const op of operations) {
      if (op.operation !== 'MergePatch') continue;
      const federation = federations.find((f) => f.name === op.name);
      if (federation) {
        federation.status = applyMergePatch(federation.status, (op.mergePatch as { status: unknown }).status);
      }
    }
    return {
      wallMs,
      cpuMs: cpu ? Number(cpu.total) / 1000 : NaN,
      writes: operations.length,
      counters: await stats(controlPort),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const median = (values: number[]): number =>
  [...values].sort((a, b) => a - b)[Math.floor((values.length - 1) / 2)]!;

function line(label: string, runs: Tick[]): string {
  const m = (pick: (t: Tick) => number) => median(runs.map(pick));
  return `| ${label} | ${m((t) => t.counters.requests)} (${m((t) => t.counters.notModified)} × 304) | ${m((t) => t.counters.connections)} | ${(m((t) => t.counters.bytes) / 1024).toFixed(0)} KiB | ${m((t) => t.cpuMs).toFixed(0)} ms | ${m((t) => t.wallMs).toFixed(0)} ms | ${m((t) => t.writes)} |`;
}

async function main(): Promise<void> {
  const child = spawn(process.execPath, [process.argv[1]!, '--serve', '--remotes', String(remotes)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const first = await new Promise<string>((done, fail) => {
    child.once('exit', (code) => fail(new Error(`peers process exited with ${code}`)));
    createInterface({ input: child.stdout! }).once('line', done);
  });
  const peers = JSON.parse(first) as {
    ca: string;
    withETags: string[];
    without: string[];
    controlPort: number;
  };
  try {
    const rows: string[] = [];
    for (const [label, endpoints] of [
      ['with conditional requests (peers send ETags)', peers.withETags],
      ['without (peers send no ETag, as Deckhouse)', peers.without],
    ] as const) {
      const federations: Federation[] = endpoints.map((endpoint, i) => ({
        name: `remote-${String(i).padStart(3, '0')}`,
        generation: 1,
        spec: { trustDomain: `remote-${i}.local`, metadataEndpoint: endpoint, metadata: { ca: peers.ca } },
        status: {},
      }));
      const cold = await runTick(federations, 'federations', peers.controlPort);
      rows.push(line(`first fetch, ${label}`, [cold]));
      const runs: Tick[] = [];
      for (let i = 0; i < ticks; i++) runs.push(await runTick(federations, FETCH_TICK, peers.controlPort));
      rows.push(line(`tick, ${label}`, runs));
    }
    console.log(
      `fetch hook, one run at ${remotes} healthy peers (compiled executable; medians of ${ticks} ticks; default refresh: every peer due on every tick)`,
    );
    console.log(
      '| run | requests | TLS connections | bytes on the wire | CPU (hook process) | wall | status writes |',
    );
    console.log('|---|---:|---:|---:|---:|---:|---:|');
    for (const row of rows) console.log(row);
  } finally {
    child.kill('SIGTERM');
  }
}

if (args.serve) await serve();
else await main();
