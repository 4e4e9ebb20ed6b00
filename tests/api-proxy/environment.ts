// A real kube-apiserver (with etcd) on 127.0.0.1, the module's api-proxy RBAC rendered by
// real Helm and applied to it, a service-account token from the TokenRequest API, and the
// COMPILED api-proxy in front of it serving HTTPS on loopback.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { startApiServer, startEtcd, type ApiServer, type Etcd } from '../../tools/e2e/control-plane';
import { resourcePath, type KubeObject } from '../../tools/e2e/kube-api';
import { stopAll } from '../../tools/e2e/processes';
import { ensureUpstreamTools } from '../../tools/e2e/tools';
import { pollUntil } from '../../tools/e2e/wait';
import { RunningExporter as RunningProcess } from '../exporter/exporter-process';
import { testCluster, type TestCluster } from '../exporter/fixtures';
import { makeCertificate, type TestCertificate } from '../fetch/certs';
import { FULL_SCENARIO, scenarioValues } from '../helm/fixtures';
import { render } from '../helm/render';

export const API_PROXY_BINARY =
  process.env.API_PROXY_BINARY ?? join(__dirname, '..', '..', 'dist', 'bin', 'api-proxy');
export const MODULE_NAMESPACE = 'd8-istio';
export const PROXY_SA = 'multicluster-api-proxy';
export const PROXY_USER = `system:serviceaccount:${MODULE_NAMESPACE}:${PROXY_SA}`;
const BUN = join(__dirname, '..', '..', 'node_modules', '.bin', 'bun');

export const TOOLS_TIMEOUT_MS = 30 * 60_000;

/** Plural resource names of the kinds the RBAC template renders. */
const PLURALS: Record<string, string> = {
  ServiceAccount: 'serviceaccounts',
  ClusterRole: 'clusterroles',
  ClusterRoleBinding: 'clusterrolebindings',
  Role: 'roles',
  RoleBinding: 'rolebindings',
};

/** The api-proxy's identity and RBAC exactly as the chart renders them (multicluster on). */
export async function renderedProxyRbac(): Promise<KubeObject[]> {
  const values = scenarioValues(FULL_SCENARIO);
  values.istio.multicluster = { enabled: true };
  const objects = await render(values);
  return objects.filter(
    (o) => o.kind in PLURALS && o.metadata.labels?.app === 'api-proxy',
  ) as unknown as KubeObject[];
}

export interface ProxyEnvironment {
  dir: string;
  etcd: Etcd;
  apiServer: ApiServer;
  local: TestCluster;
  /** A multicluster peer: its tokens are accepted. */
  peer: TestCluster;
  /** A federation-only peer: known to the cluster, but not as a multicluster peer. */
  federationPeer: TestCluster;
  /** A cluster nobody knows. */
  stranger: TestCluster;
  proxyCa: TestCertificate;
  proxyServing: TestCertificate;
  tokenFile: string;
  peersFile: string;
  upstreamKubeconfig: string;
  rbac: KubeObject[];
}

export async function post(
  env: ProxyEnvironment,
  path: string,
  body: unknown,
): Promise<Record<string, unknown>> {
  const res = await env.apiServer.api.raw('POST', path, JSON.stringify(body), {
    'Content-Type': 'application/json',
  });
  if (res.status < 200 || res.status >= 300) throw new Error(`POST ${path}: ${res.status} ${res.body}`);
  return JSON.parse(res.body) as Record<string, unknown>;
}

/**
 * A token for the proxy's ServiceAccount, bound to a Secret: deleting that Secret revokes
 * the token at once, which is how the rotation test proves the proxy re-reads its file.
 */
export async function serviceAccountToken(env: ProxyEnvironment, anchor: string): Promise<string> {
  const secret = await post(env, resourcePath('v1', 'secrets', { namespace: MODULE_NAMESPACE }), {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: anchor, namespace: MODULE_NAMESPACE },
  });
  const uid = (secret.metadata as { uid: string }).uid;
  const review = await post(
    env,
    resourcePath('v1', 'serviceaccounts', {
      namespace: MODULE_NAMESPACE,
      name: PROXY_SA,
      subresource: 'token',
    }),
    {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      spec: {
        expirationSeconds: 3600,
        boundObjectRef: { apiVersion: 'v1', kind: 'Secret', name: anchor, uid },
      },
    },
  );
  return (review.status as { token: string }).token;
}

/** Replaces the token file the way the kubelet does: a new file renamed over the old one. */
export function writeTokenFile(path: string, token: string): void {
  writeFileSync(`${path}.tmp`, token);
  renameSync(`${path}.tmp`, path);
}

export function writePeers(path: string, peers: readonly TestCluster[]): void {
  const content = JSON.stringify(
    Object.fromEntries(
      peers.map((p) => [
        p.clusterUUID,
        { clusterUUID: p.clusterUUID, authnKeyPub: p.keypair.pub, rootCA: p.rootCA },
      ]),
    ),
  );
  writeFileSync(`${path}.tmp`, content);
  renameSync(`${path}.tmp`, path);
}

export async function startEnvironment(log: (line: string) => void): Promise<ProxyEnvironment> {
  if (!existsSync(API_PROXY_BINARY))
    throw new Error(`${API_PROXY_BINARY} is missing: run \`npm run build\` first`);
  const tools = await ensureUpstreamTools(log);
  const dir = mkdtempSync(join(tmpdir(), 'api-proxy-e2e-'));
  const etcd = await startEtcd(tools.etcd, dir);
  const apiServer = await startApiServer({
    binary: tools.kubeApiserver,
    name: 'proxied',
    dir: join(dir, 'apiserver'),
    etcdUrl: etcd.url,
    serviceCidr: '10.96.0.0/16',
  });
  const api = apiServer.api;
  for (const name of [MODULE_NAMESPACE, 'workloads']) {
    await api.apply(resourcePath('v1', 'namespaces', { name }), {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name },
    });
  }
  const rbac = await renderedProxyRbac();
  for (const object of rbac) {
    const namespace = object.metadata.namespace;
    await api.apply(
      resourcePath(object.apiVersion, PLURALS[object.kind]!, {
        ...(namespace ? { namespace } : {}),
        name: object.metadata.name,
      }),
      object,
    );
  }
  const local = testCluster('cluster.local');
  const env: ProxyEnvironment = {
    dir,
    etcd,
    apiServer,
    local,
    peer: testCluster('cluster.local'),
    federationPeer: testCluster('cluster-f.local'),
    stranger: testCluster('cluster.local'),
    proxyCa: makeCertificate({ commonName: 'api-proxy test CA', isCA: true }),
    proxyServing: undefined as unknown as TestCertificate,
    tokenFile: join(dir, 'sa', 'token'),
    peersFile: join(dir, 'remote-multiclusters-public-metadata.json'),
    upstreamKubeconfig: join(dir, 'upstream.kubeconfig'),
    rbac,
  };
  env.proxyServing = makeCertificate({
    commonName: 'api-proxy',
    isCA: false,
    issuer: env.proxyCa,
    ipAddresses: ['127.0.0.1'],
  });
  mkdirSync(join(dir, 'sa'));
  writeTokenFile(env.tokenFile, await serviceAccountToken(env, 'proxy-token-anchor-1'));
  writePeers(env.peersFile, [env.peer]);
  writeFileSync(
    env.upstreamKubeconfig,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [
        {
          name: 'local',
          cluster: {
            server: apiServer.connection.server,
            'certificate-authority': join(dir, 'apiserver', 'ca.crt'),
          },
        },
      ],
      users: [{ name: 'proxy', user: {} }],
      contexts: [{ name: 'local', context: { cluster: 'local', user: 'proxy' } }],
      'current-context': 'local',
    }),
  );
  writeFileSync(join(dir, 'proxy-ca.crt'), env.proxyCa.certPem);
  process.env.API_PROXY_TEST_CA_FILE = join(dir, 'proxy-ca.crt');
  writeFileSync(join(dir, 'proxy.crt'), env.proxyServing.certPem);
  writeFileSync(join(dir, 'proxy.key'), env.proxyServing.keyPem);
  return env;
}

export async function stopEnvironment(env: ProxyEnvironment | undefined): Promise<void> {
  await stopAll();
  if (env) rmSync(env.dir, { recursive: true, force: true });
}

export class RunningProxy extends RunningProcess {}

export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/**
 * Writes the service-account files under `prefix` the way the kubelet projects them: the
 * files in a fresh `..<generation>` directory, `..data` swapped to it in one rename, and
 * stable per-file links through `..data`. Call again to rotate.
 */
export function writeServiceAccountDir(prefix: string, files: { token: string; 'ca.crt': string }): void {
  const dir = join(prefix, SERVICE_ACCOUNT_DIR);
  mkdirSync(dir, { recursive: true });
  const generation = `..${Date.now()}_${Math.random().toString(36).slice(2)}`;
  mkdirSync(join(dir, generation));
  for (const [name, content] of Object.entries({ ...files, namespace: MODULE_NAMESPACE })) {
    writeFileSync(join(dir, generation, name), content);
  }
  symlinkSync(generation, join(dir, '..data_tmp'));
  renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
  for (const name of ['token', 'ca.crt', 'namespace']) {
    if (!existsSync(join(dir, name))) symlinkSync(join('..data', name), join(dir, name));
  }
}

export interface ProxyStartOptions {
  /**
   * Run the in-cluster path: no kubeconfig, no token file; KUBERNETES_SERVICE_HOST/PORT and
   * the service-account files under this prefix.
   */
  inClusterPrefix?: string;
}

/** Starts the compiled api-proxy (HTTPS, port 0) in front of the environment's apiserver. */
export async function startProxy(
  env: ProxyEnvironment,
  extraArgs: string[] = [],
  options: ProxyStartOptions = {},
): Promise<RunningProxy> {
  const upstream = options.inClusterPrefix
    ? ['--in-cluster-prefix', options.inClusterPrefix]
    : ['--kubeconfig', env.upstreamKubeconfig, '--token-file', env.tokenFile];
  const server = new URL(env.apiServer.connection.server);
  const args = [
    '--listen',
    '127.0.0.1:0',
    '--cluster-uuid',
    env.local.clusterUUID,
    '--peers-file',
    env.peersFile,
    ...upstream,
    // The test CA's serving certificate, unless the test asks for the one made at start.
    ...(extraArgs.includes('--tls-self-signed')
      ? []
      : ['--tls-cert', join(env.dir, 'proxy.crt'), '--tls-key', join(env.dir, 'proxy.key')]),
    '--reload-interval',
    '0.2',
    ...extraArgs,
  ];
  const processEnv: NodeJS.ProcessEnv = { ...process.env };
  delete processEnv.KUBERNETES_SERVICE_HOST;
  delete processEnv.KUBERNETES_SERVICE_PORT;
  if (options.inClusterPrefix) {
    processEnv.KUBERNETES_SERVICE_HOST = server.hostname;
    processEnv.KUBERNETES_SERVICE_PORT = server.port;
  }
  const proxy = new RunningProxy(
    spawn(API_PROXY_BINARY, args, { stdio: ['ignore', 'pipe', 'pipe'], env: processEnv }),
  );
  const listening = await proxy.waitForLog((r) => r.msg === 'listening', 15_000);
  proxy.port = listening.port as number;
  await proxy.waitForLog((r) => r.msg === 'peers loaded');
  return proxy;
}

/** A kubeconfig as a remote istiod gets it: server = the proxy, inline bearer token, CA data. */
export function kubeconfigFor(
  env: ProxyEnvironment,
  proxy: RunningProxy,
  token: string,
  name = 'remote',
): string {
  const path = join(env.dir, `${name}-${Math.random().toString(36).slice(2)}.kubeconfig`);
  writeFileSync(
    path,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [
        {
          name,
          cluster: {
            server: `https://127.0.0.1:${proxy.port}`,
            'certificate-authority-data': Buffer.from(env.proxyCa.certPem).toString('base64'),
          },
        },
      ],
      users: [{ name, user: { token } }],
      contexts: [{ name, context: { cluster: name, user: name } }],
      'current-context': name,
      preferences: {},
    }),
  );
  return path;
}

/** The client-node process (tests/api-proxy/kube-client.ts under Bun), read line by line. */
export class KubeClient {
  readonly lines: Record<string, unknown>[] = [];
  private stderr = '';
  private waiters: {
    predicate: (l: Record<string, unknown>) => boolean;
    resolve: (l: Record<string, unknown>) => void;
  }[] = [];
  readonly exited: Promise<number | null>;
  private readonly proc: ChildProcess;

  /**
   * `caFile`: under Bun, client-node's https.Agent `ca` option (from the kubeconfig's
   * certificate-authority-data) is not applied to its fetch, so the same CA is also given
   * through NODE_EXTRA_CA_CERTS, which Bun honours. The kubeconfig still carries it.
   */
  constructor(kubeconfig: string, args: string[], caFile = process.env.API_PROXY_TEST_CA_FILE) {
    this.proc = spawn(BUN, [join(__dirname, 'kube-client.ts'), kubeconfig, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        NO_PROXY: '127.0.0.1',
        no_proxy: '127.0.0.1',
        ...(caFile ? { NODE_EXTRA_CA_CERTS: caFile } : {}),
      },
    });
    this.exited = new Promise((resolve) => this.proc.once('exit', (code) => resolve(code)));
    this.proc.stderr!.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
    createInterface({ input: this.proc.stdout! }).on('line', (line) => {
      const record = JSON.parse(line) as Record<string, unknown>;
      this.lines.push(record);
      this.waiters = this.waiters.filter((w) => {
        if (!w.predicate(record)) return true;
        w.resolve(record);
        return false;
      });
    });
  }

  /** The first line (seen or future) that matches, within a bound. */
  next(
    predicate: (l: Record<string, unknown>) => boolean,
    deadlineMs = 20_000,
  ): Promise<Record<string, unknown>> {
    const seen = this.lines.find(predicate);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(
          new Error(
            `no matching client line in ${deadlineMs} ms; lines: ${JSON.stringify(this.lines)}; stderr: ${this.stderr.slice(-2000)}`,
          ),
        );
      }, deadlineMs);
      this.waiters.push({
        predicate,
        resolve: (l) => {
          clearTimeout(timer);
          resolve(l);
        },
      });
    });
  }

  async result(): Promise<Record<string, unknown>> {
    const code = await this.exited;
    const last = this.lines.at(-1);
    if (!last) throw new Error(`kube client exited ${code} without output: ${this.stderr.slice(-2000)}`);
    return last;
  }

  stop(): void {
    if (this.proc.exitCode === null) this.proc.kill('SIGKILL');
  }
}

/** One client invocation to completion. */
export function runClient(kubeconfig: string, ...args: string[]): Promise<Record<string, unknown>> {
  return new KubeClient(kubeconfig, args).result();
}

export interface ProxyResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One raw HTTPS request to the proxy; the path is sent verbatim. */
export function proxyRequest(
  env: ProxyEnvironment,
  proxy: RunningProxy,
  path: string,
  options: { method?: string; headers?: Record<string, string | string[]>; body?: string } = {},
): Promise<ProxyResponse> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: '127.0.0.1',
        port: proxy.port,
        path,
        method: options.method ?? 'GET',
        headers: options.headers ?? {},
        ca: env.proxyCa.certPem,
        agent: false,
        timeout: 15_000,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('client timeout')));
    req.on('error', reject);
    if (options.body !== undefined) req.write(options.body);
    req.end();
  });
}

/** A streaming response (a watch) as it arrives: resolves once the response head is in. */
export interface OpenStream {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** Everything received so far. */
  received(): string;
  /** Whether the response has ended or the connection closed. */
  closed(): boolean;
  /** Resolves with the whole body when the server ends the response cleanly. */
  ended: Promise<string>;
  stop(): void;
}

export function openStream(
  target: { port: number; ca: string },
  path: string,
  headers: Record<string, string> = {},
): Promise<OpenStream> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      { host: '127.0.0.1', port: target.port, path, headers, ca: target.ca, agent: false },
      (res) => {
        let body = '';
        let closed = false;
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        const ended = new Promise<string>((resolveEnd, rejectEnd) => {
          res.on('end', () => resolveEnd(body));
          res.on('error', rejectEnd);
          res.on('close', () => {
            closed = true;
            if (!res.complete)
              rejectEnd(new Error(`stream cut before its end; received ${JSON.stringify(body)}`));
          });
        });
        ended.catch(() => undefined);
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          received: () => body,
          closed: () => closed,
          ended,
          stop: () => req.destroy(),
        });
      },
    );
    req.on('error', reject);
    req.end();
  });
}

export { pollUntil };
