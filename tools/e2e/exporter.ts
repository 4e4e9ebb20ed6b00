import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeServerPki, type TestCertificate } from '../../tests/fetch/certs';
import { httpGet } from './http';
import { resourcePath, type ApiConnection, type KubeApi } from './kube-api';
import { ManagedProcess } from './processes';
import { EXPORTER_BINARY } from './tools';
import { freePort, lostBindRace, pollUntil } from './wait';

/** Where the chart renders the exporter's documents, and the account it runs as. */
export const DOCUMENTS_NAMESPACE = 'd8-istio';
export const DOCUMENTS_SECRET = 'd8-istio-federation-documents';
export const DOCUMENT_KEYS = ['public.json', 'federation.json', 'remote-public-metadata.json'] as const;
const EXPORTER_SERVICE_ACCOUNT = 'metadata-exporter';
/** Longer than any run; the exporter reads the token from its kubeconfig once. */
const TOKEN_SECONDS = 6 * 3600;

export type DocumentFiles = Record<string, string>;

/** The documents as the rendered Secret holds them now, or undefined while it is absent or incomplete. */
export async function readRenderedDocuments(
  api: KubeApi,
  keys: readonly string[] = DOCUMENT_KEYS,
): Promise<DocumentFiles | undefined> {
  const secret = await api.get<{ data?: Record<string, string> }>(
    resourcePath('v1', 'secrets', { namespace: DOCUMENTS_NAMESPACE, name: DOCUMENTS_SECRET }),
  );
  const files: DocumentFiles = {};
  for (const key of keys) {
    const value = secret?.data?.[key];
    if (value === undefined) return undefined;
    files[key] = Buffer.from(value, 'base64').toString('utf8');
  }
  return files;
}

/** A kubeconfig for `token` on the API server of `connection` (CA inline). */
export function exporterKubeconfig(connection: ApiConnection, token: string): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      {
        name: 'cluster',
        cluster: {
          server: connection.server,
          'certificate-authority-data': Buffer.from(connection.caPem).toString('base64'),
        },
      },
    ],
    users: [{ name: EXPORTER_SERVICE_ACCOUNT, user: { token } }],
    contexts: [{ name: 'cluster', context: { cluster: 'cluster', user: EXPORTER_SERVICE_ACCOUNT } }],
    'current-context': 'cluster',
  });
}

/**
 * One cluster's metadata exporter as a local process: serves HTTPS on 127.0.0.1 and watches
 * the rendered documents Secret on the cluster's API server as the chart runs it
 * (--documents-secret), with a token of the chart's ServiceAccount, so the chart's Role is
 * what lets it read. The CA of its serving certificate is what peers put in spec.metadata.ca.
 */
export class Exporter {
  private proc: ManagedProcess | undefined;
  readonly caPem: string;
  /** Its serving certificate, so an impostor on the same port looks like it to peers. */
  readonly serverCertificate: { certPem: string; keyPem: string };
  private readonly certFile: string;
  private readonly keyFile: string;
  private readonly kubeconfigFile: string;
  private readonly fixedDocumentsDir: string;
  private tokenRequested = false;
  port = 0;
  starts = 0;

  constructor(
    private readonly name: string,
    private readonly workDir: string,
    private readonly api: KubeApi,
    /** Its serving certificate and CA: in a cluster, the ingress's (shared with the api-proxy). */
    pki: { ca: TestCertificate; server: TestCertificate } = makeServerPki(`${name} metadata-exporter`),
    private readonly binary = EXPORTER_BINARY,
  ) {
    this.caPem = pki.ca.certPem;
    this.serverCertificate = pki.server;
    this.certFile = join(workDir, 'exporter.crt');
    this.keyFile = join(workDir, 'exporter.key');
    writeFileSync(this.certFile, pki.server.certPem);
    writeFileSync(this.keyFile, pki.server.keyPem, { mode: 0o600 });
    this.kubeconfigFile = join(workDir, 'metadata-exporter.kubeconfig');
    this.fixedDocumentsDir = join(workDir, 'fixed-documents');
  }

  /** What an IstioFederation in another cluster puts in spec.metadataEndpoint. */
  get endpoint(): string {
    return `https://127.0.0.1:${this.port}/metadata/`;
  }

  get running(): boolean {
    return this.proc?.alive ?? false;
  }

  /**
   * Starts (or restarts on the same port, so peers' endpoints stay valid) and waits for
   * /healthz, i.e. until it has loaded the rendered Secret. With `documents`, it serves
   * those instead, from a directory (e.g. a hostile document B's chart would never render).
   * The first start retries with another port if it lost a bind race.
   */
  async start(timeoutMs = 60_000, documents?: DocumentFiles): Promise<void> {
    if (this.running) return;
    if (documents) this.writeFixedDocuments(documents);
    else await this.writeKubeconfig();
    const portChosenHere = !this.port;
    for (let attempt = 1; ; attempt++) {
      if (!this.port) this.port = await freePort();
      try {
        return await this.startOnce(timeoutMs, documents !== undefined);
      } catch (error) {
        await this.proc?.stop();
        if (!portChosenHere || attempt >= 3 || !lostBindRace(this.logTail(20))) throw error;
        this.port = 0;
      }
    }
  }

  /** A token of the chart's ServiceAccount (Helm has created it by the time documents exist). */
  private async writeKubeconfig(): Promise<void> {
    if (this.tokenRequested) return;
    const { status } = await this.api.create<{ status: { token: string } }>(
      resourcePath('v1', 'serviceaccounts', {
        namespace: DOCUMENTS_NAMESPACE,
        name: EXPORTER_SERVICE_ACCOUNT,
        subresource: 'token',
      }),
      {
        apiVersion: 'authentication.k8s.io/v1',
        kind: 'TokenRequest',
        metadata: { name: EXPORTER_SERVICE_ACCOUNT },
        spec: { expirationSeconds: TOKEN_SECONDS },
      },
    );
    writeFileSync(this.kubeconfigFile, exporterKubeconfig(this.api.connection, status.token), {
      mode: 0o600,
    });
    this.tokenRequested = true;
  }

  /** These options (each with its value) as the chart's Deployment passes them, when it does. */
  private async chartArgs(names: readonly string[]): Promise<string[]> {
    const deployment = await this.api.get<{
      spec?: { template?: { spec?: { containers?: { args?: string[] }[] } } };
    }>(resourcePath('apps/v1', 'deployments', { namespace: DOCUMENTS_NAMESPACE, name: 'metadata-exporter' }));
    const args = deployment?.spec?.template?.spec?.containers?.[0]?.args ?? [];
    return args.flatMap((arg, i) =>
      names.includes(arg) && args[i + 1] !== undefined ? [arg, args[i + 1]!] : [],
    );
  }

  private writeFixedDocuments(documents: DocumentFiles): void {
    rmSync(this.fixedDocumentsDir, { recursive: true, force: true });
    mkdirSync(this.fixedDocumentsDir, { recursive: true });
    for (const [name, content] of Object.entries(documents))
      writeFileSync(join(this.fixedDocumentsDir, name), content);
  }

  private async startOnce(timeoutMs: number, fixedDocuments: boolean): Promise<void> {
    const source = fixedDocuments
      ? ['--documents-dir', this.fixedDocumentsDir]
      : [
          '--documents-secret',
          `${DOCUMENTS_NAMESPACE}/${DOCUMENTS_SECRET}`,
          '--kubeconfig',
          this.kubeconfigFile,
          ...(await this.chartArgs(['--private-documents'])),
        ];
    const proc = ManagedProcess.start({
      name: `${this.name} metadata-exporter`,
      command: this.binary,
      args: [
        ...source,
        '--listen',
        `127.0.0.1:${this.port}`,
        '--tls-cert',
        this.certFile,
        '--tls-key',
        this.keyFile,
      ],
      logFile: join(this.workDir, 'metadata-exporter.log'),
    });
    this.proc = proc;
    this.starts++;
    await pollUntil(
      async () => {
        const res = await httpGet(`https://127.0.0.1:${this.port}/healthz`, { ca: this.caPem });
        return res.status === 200 ? true : undefined;
      },
      {
        what: `${this.name} metadata-exporter healthy on 127.0.0.1:${this.port}`,
        timeoutMs,
        abortIf: () => (proc.alive ? undefined : proc.describeExit()),
        describe: () => proc.logTail(20),
      },
    );
  }

  async stop(): Promise<void> {
    await this.proc?.stop();
  }

  /** GET a path of its metadata tree (public documents need no token). */
  get(path: string): Promise<{ status: number; body: string }> {
    return httpGet(`https://127.0.0.1:${this.port}/metadata${path}`, { ca: this.caPem });
  }

  logTail(lines = 30): string {
    return this.proc?.logTail(lines) ?? '(exporter not started)';
  }
}
