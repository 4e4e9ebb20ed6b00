// Start time, throughput and latency of the compiled api-proxy in front of a real
// kube-apiserver on loopback (wrk, 1 thread), next to the same GET sent straight to the
// apiserver with the proxy's own token. A figure, not a test.
//   npm run build && npx bun tools/bench/api-proxy.ts [--duration 10] [--connections 8]
import { spawnSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { eddsaToken } from '../../tests/exporter/tokens';
import {
  API_PROXY_BINARY,
  startEnvironment,
  startProxy,
  stopEnvironment,
  type ProxyEnvironment,
} from '../../tests/api-proxy/environment';
import { resourcePath } from '../e2e/kube-api';

function flag(name: string, fallback: number): number {
  const index = process.argv.indexOf(`--${name}`);
  const value = index >= 0 ? Number(process.argv[index + 1]) : NaN;
  return Number.isFinite(value) && value > 0 ? value : fallback;
}
const duration = flag('duration', 10);
const connections = flag('connections', 8);
const STARTS = 10;

function wrk(url: string, token: string): string {
  const run = spawnSync(
    'wrk',
    ['-t1', `-c${connections}`, `-d${duration}s`, '--latency', '-H', `Authorization: Bearer ${token}`, url],
    { encoding: 'utf8' },
  );
  if (run.status !== 0) throw new Error(`wrk failed: ${run.stderr}`);
  const pick = (re: RegExp) => re.exec(run.stdout)?.[1] ?? '?';
  const non2xx = pick(/Non-2xx or 3xx responses: (\d+)/);
  return `${pick(/Requests\/sec:\s+([\d.]+)/)} req/s, p50 ${pick(/\s50%\s+(\S+)/)}, p99 ${pick(/\s99%\s+(\S+)/)}${non2xx === '?' ? '' : `, NON-2xx ${non2xx}`}`;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

async function main(): Promise<void> {
  let env: ProxyEnvironment | undefined;
  try {
    env = await startEnvironment((line) => process.stderr.write(`${line}\n`));
    console.log(
      `binary: ${API_PROXY_BINARY} ${(statSync(API_PROXY_BINARY).size / 1024 / 1024).toFixed(1)} MiB`,
    );
    const starts: number[] = [];
    for (let i = 0; i < STARTS; i++) {
      const started = performance.now();
      const proxy = await startProxy(env);
      starts.push(performance.now() - started);
      await proxy.stop();
    }
    console.log(
      `start to "listening" + peers loaded, ${STARTS} runs: median ${median(starts).toFixed(0)} ms, max ${Math.max(...starts).toFixed(0)} ms`,
    );
    await env.apiServer.api.create(resourcePath('v1', 'services', { namespace: 'workloads' }), {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'bench', namespace: 'workloads' },
      spec: { ports: [{ port: 80 }] },
    });
    const proxy = await startProxy(env);
    const now = Math.floor(Date.now() / 1000);
    const token = eddsaToken(
      env.peer.keypair.priv,
      {
        iss: 'd8-istio',
        aud: env.local.clusterUUID,
        sub: env.peer.clusterUUID,
        scope: 'api',
        nbf: now,
        exp: now + 366 * 86400,
      },
      { alg: 'EdDSA' },
    );
    const path = '/api/v1/namespaces/workloads/services/bench';
    const saToken = readFileSync(env.tokenFile, 'utf8');
    console.log(`GET ${path}, ${connections} connections, ${duration} s:`);
    console.log(
      `  straight to kube-apiserver (SA token): ${wrk(`${env.apiServer.connection.server}${path}`, saToken)}`,
    );
    console.log(
      `  through the api-proxy (peer JWT):      ${wrk(`https://127.0.0.1:${proxy.port}${path}`, token)}`,
    );
    const rss = readFileSync(`/proc/${proxy.proc.pid}/status`, 'utf8').match(/VmRSS:\s+(\d+)/)?.[1];
    console.log(`api-proxy RSS after the run: ${Math.round(Number(rss) / 1024)} MiB`);
    await proxy.stop();
  } finally {
    await stopEnvironment(env);
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
