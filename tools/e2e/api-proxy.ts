import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { httpGet } from './http';
import { resourcePath, type KubeApi } from './kube-api';
import { ManagedProcess } from './processes';
import { API_PROXY_BINARY } from './tools';
import { pollUntil } from './wait';

/**
 * One cluster's api-proxy (dist/bin/api-proxy) as the chart runs it, on 127.0.0.1:
 *  - as the chart's ServiceAccount `multicluster-api-proxy` (a TokenRequest token in a file:
 *    the chart's RBAC is what every proxied request may do);
 *  - its peers file kept in step with the rendered Secret
 *    `d8-remote-multiclusters-public-metadata`, as the kubelet refreshes a mounted Secret
 *    (here: polled every 250 ms, written with a rename);
 *  - HTTPS with the cluster's ingress certificate (in production the proxy sits behind the
 *    ingress, whose CA peers put in spec.metadata.ca, as for the metadata exporter).
 * The port is chosen before the module is configured: it is the `multicluster.apiHost` the
 * cluster publishes.
 */

export const API_PROXY_NAMESPACE = 'd8-istio';
export const API_PROXY_SERVICE_ACCOUNT = 'multicluster-api-proxy';
export const PEERS_SECRET = 'd8-remote-multiclusters-public-metadata';
export const PEERS_KEY = 'remote-multiclusters-public-metadata.json';
/** Longer than any run: the token file is written once. */
const TOKEN_SECONDS = 6 * 3600;
const SYNC_INTERVAL_MS = 250;

export interface ApiProxyOptions {
  /** The cluster's name, for messages. */
  name: string;
  workDir: string;
  api: KubeApi;
  clusterUUID: string;
  /** The port the cluster publishes as its api host (127.0.0.1:<port>). */
  port: number;
  /** The serving certificate and key files (the cluster's ingress certificate) and its CA. */
  tls: { certFile: string; keyFile: string; caPem: string };
  apiServerCaFile: string;
}

export class ApiProxy {
  private proc: ManagedProcess | undefined;
  private syncTimer: NodeJS.Timeout | undefined;
  private syncedPeers: string | undefined;
  private syncError: string | undefined;
  private readonly files: Record<'token' | 'peers' | 'kubeconfig', string>;

  constructor(private readonly options: ApiProxyOptions) {
    const file = (base: string) => join(options.workDir, `api-proxy.${base}`);
    this.files = { token: file('token'), peers: file('peers.json'), kubeconfig: file('kubeconfig') };
  }

  get port(): number {
    return this.options.port;
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.proc?.alive ?? false;
  }

  /**
   * Starts once the chart has rendered the ServiceAccount and the peers Secret, and waits for
   * /ready (peers loaded, the apiserver accepts the proxy's token).
   */
  async start(timeoutMs: number, describe: () => string): Promise<void> {
    if (this.running) return;
    const saPath = resourcePath('v1', 'serviceaccounts', {
      namespace: API_PROXY_NAMESPACE,
      name: API_PROXY_SERVICE_ACCOUNT,
    });
    await pollUntil(async () => ((await this.options.api.get(saPath)) ? true : undefined), {
      what: `${this.options.name}: ServiceAccount ${API_PROXY_SERVICE_ACCOUNT} rendered`,
      timeoutMs,
      describe,
    });
    await pollUntil(async () => ((await this.syncPeers()) ? true : undefined), {
      what: `${this.options.name}: Secret ${PEERS_SECRET} rendered`,
      timeoutMs,
      describe,
    });
    const { status } = await this.options.api.create<{ status: { token: string } }>(`${saPath}/token`, {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      metadata: { name: API_PROXY_SERVICE_ACCOUNT },
      spec: { expirationSeconds: TOKEN_SECONDS },
    });
    writeFileSync(this.files.token, status.token, { mode: 0o600 });
    writeFileSync(this.files.kubeconfig, this.upstreamKubeconfig());
    this.proc = ManagedProcess.start({
      name: `${this.options.name} api-proxy`,
      command: API_PROXY_BINARY,
      args: [
        '--listen',
        this.address,
        '--peers-file',
        this.files.peers,
        '--kubeconfig',
        this.files.kubeconfig,
        '--token-file',
        this.files.token,
        '--tls-cert',
        this.options.tls.certFile,
        '--tls-key',
        this.options.tls.keyFile,
        '--reload-interval',
        '0.2',
      ],
      env: { CLUSTER_UUID: this.options.clusterUUID },
      logFile: join(this.options.workDir, 'api-proxy.log'),
    });
    const proc = this.proc;
    this.syncTimer = setInterval(() => void this.syncPeers(), SYNC_INTERVAL_MS);
    this.syncTimer.unref();
    await pollUntil(
      async () =>
        (await httpGet(`https://${this.address}/ready`, { ca: this.options.tls.caPem })).status === 200
          ? true
          : undefined,
      {
        what: `${this.options.name}: api-proxy ready on ${this.address}`,
        timeoutMs,
        abortIf: () => (proc.alive ? undefined : proc.describeExit()),
        describe: () => proc.logTail(20),
      },
    );
  }

  /** The proxy's upstream: this cluster's apiserver, its CA; the credential is the token file. */
  private upstreamKubeconfig(): string {
    const server = this.options.api.connection.server;
    return JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [
        { name: 'local', cluster: { server, 'certificate-authority': this.options.apiServerCaFile } },
      ],
      users: [{ name: 'proxy', user: {} }],
      contexts: [{ name: 'local', context: { cluster: 'local', user: 'proxy' } }],
      'current-context': 'local',
    });
  }

  /** Copies the rendered peers document to the file when it changed; true once a copy exists. */
  private async syncPeers(): Promise<boolean> {
    try {
      const secret = await this.options.api.get<{ data?: Record<string, string> }>(
        resourcePath('v1', 'secrets', { namespace: API_PROXY_NAMESPACE, name: PEERS_SECRET }),
      );
      const encoded = secret?.data?.[PEERS_KEY];
      if (encoded === undefined) return this.syncedPeers !== undefined;
      const text = Buffer.from(encoded, 'base64').toString('utf8');
      if (text !== this.syncedPeers) {
        writeFileSync(`${this.files.peers}.tmp`, text);
        renameSync(`${this.files.peers}.tmp`, this.files.peers);
        this.syncedPeers = text;
      }
      this.syncError = undefined;
      return true;
    } catch (error) {
      this.syncError = error instanceof Error ? error.message : String(error);
      return false;
    }
  }

  /** The peers (clusterUUIDs) in the file the proxy reads now. */
  get peers(): string[] {
    return Object.keys(JSON.parse(this.syncedPeers ?? '{}') as Record<string, unknown>);
  }

  get peersSyncError(): string | undefined {
    return this.syncError;
  }

  async stop(): Promise<void> {
    if (this.syncTimer) clearInterval(this.syncTimer);
    await this.proc?.stop();
  }

  logTail(lines = 30): string {
    return this.proc?.logTail(lines) ?? '(api-proxy not started)';
  }
}
