import { execFile } from 'node:child_process';
import { randomUUID, X509Certificate } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import type { TestCertificate } from '../../tests/fetch/certs';
import { httpGet } from './http';
import { resourcePath, type KubeApi, type KubeObject } from './kube-api';
import { ManagedProcess } from './processes';
import { freePort, lostBindRace, pollUntil } from './wait';
import { istioClusterId } from '../../lib/istio/cluster-id';

/**
 * A real istiod (pilot-discovery, tools/upstream/istiod.sh) per local cluster, run the way
 * /work/shared/ISTIOD.md describes: against the cluster's kube-apiserver, with the root CA
 * the test generated plugged in (ROOT_CA_DIR, the `cacerts` layout), the module's shared
 * mesh config (SHARED_MESH_CONFIG) and several trusted roots (ISTIO_MULTIROOT_MESH), every
 * port on 127.0.0.1. What a test reads from it: /validate (the admission webhook's own
 * validation), /debug endpoints, metrics, and xDS through tools/xds-client.
 */

export const ISTIOD_NAMESPACE = 'd8-istio';
/** The ConfigMap the chart renders (templates/federation/trust.yaml) and istiod merges under its own. */
export const SHARED_MESH_CONFIG = 'd8-istio-federation-mesh-config';
const READY_TIMEOUT_MS = 120_000;
const BIND_ATTEMPTS = 3;

/** The cluster ID the chart's gateway claims (`istio.federation.clusterId`); istiod's CLUSTER_ID must equal it. */
export const federationClusterId = istioClusterId;

/** The network the chart's gateway is in (`istio.federation.network`). */
export function federationNetwork(clusterId: string): string {
  return `network-${clusterId}`;
}

/**
 * The main mesh config Deckhouse's istio module renders (ConfigMap `istio`, key `mesh`):
 * only what istiod needs here, plus proxyMetadata of its own, as a real main config has
 * (istiod must merge the module's proxyMetadata with it, not drop either). It must not set
 * caCertificates: the module's shared mesh config provides them, and a main-config list
 * would replace the shared one.
 */
export const MAIN_PROXY_METADATA = { ISTIO_META_DNS_CAPTURE: 'true' };

export async function applyMainMeshConfig(api: KubeApi, trustDomain: string): Promise<void> {
  await api.apply(resourcePath('v1', 'configmaps', { namespace: ISTIOD_NAMESPACE, name: 'istio' }), {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'istio', namespace: ISTIOD_NAMESPACE },
    data: {
      mesh: [
        `trustDomain: ${trustDomain}`,
        `rootNamespace: ${ISTIOD_NAMESPACE}`,
        'defaultConfig:',
        '  proxyMetadata:',
        ...Object.entries(MAIN_PROXY_METADATA).map(([k, v]) => `    ${k}: ${JSON.stringify(v)}`),
        '',
      ].join('\n'),
    },
  });
}

export interface IstiodOptions {
  name: string;
  binary: string;
  /** Run directory of the cluster (logs, cacerts). */
  dir: string;
  kubeconfigPath: string;
  clusterDomain: string;
  clusterId: string;
  /** The mesh root CA (certificate and key): istiod signs with it, the exporter publishes it. */
  rootCA: TestCertificate;
}

export interface IstiodPorts {
  http: number;
  https: number;
  grpc: number;
  secureGrpc: number;
  monitoring: number;
  ctrlz: number;
}

/** The proxy an xDS client poses as. */
export interface ProxyIdentity {
  type: 'sidecar' | 'router';
  ip: string;
  pod: string;
  namespace: string;
  network?: string;
  labels?: Record<string, string>;
}

// The JSON document tools/xds-client prints (see its main.go).
export interface XdsEndpoint {
  address: string;
  port: number;
  health?: string;
  metadata?: Record<string, string>;
}
export interface XdsTransportSocket {
  match?: Record<string, string>;
  name: string;
  sni?: string;
  alpn?: string[];
  certificateSds?: string[];
  validationSds?: string;
  sanMatchers: string[];
  trustedCaInline?: boolean;
}
export interface XdsCluster {
  name: string;
  type: string;
  edsServiceName?: string;
  endpoints: XdsEndpoint[];
  transportSockets: XdsTransportSocket[];
}
export interface XdsFilterChain {
  name?: string;
  serverNames?: string[];
  transportProtocol?: string;
  destinationPort?: number;
  filters: string[];
  clusters?: string[];
  routeConfig?: string;
  downstreamTls?: boolean;
}
export interface XdsListener {
  name: string;
  address: string;
  port: number;
  useOriginalDst?: boolean;
  filterChains: XdsFilterChain[];
}
export interface XdsRouteConfig {
  name: string;
  virtualHosts: { name: string; domains: string[]; clusters: string[] }[];
}
export interface XdsSummary {
  node: string;
  complete: boolean;
  missing?: string[];
  versions: Record<string, string>;
  clusters: XdsCluster[];
  listeners: XdsListener[];
  routes: XdsRouteConfig[];
  trustBundle?: { caCertificatesPem: string[] | null };
}

/** One entry of `/debug/clusterz` (Istio's cluster.DebugInfo). */
export interface RemoteClusterInfo {
  id: string;
  secretName: string;
  syncStatus: string;
}

export interface ValidationResult {
  allowed: boolean;
  message: string;
  warnings: string[];
}

/** Istio kinds istiod validates, with their resource (plural) names for the AdmissionReview. */
const ISTIO_RESOURCES: Record<string, string> = {
  ServiceEntry: 'serviceentries',
  DestinationRule: 'destinationrules',
  Gateway: 'gateways',
  VirtualService: 'virtualservices',
  Sidecar: 'sidecars',
  PeerAuthentication: 'peerauthentications',
  AuthorizationPolicy: 'authorizationpolicies',
  RequestAuthentication: 'requestauthentications',
  EnvoyFilter: 'envoyfilters',
  WorkloadEntry: 'workloadentries',
};

export function isIstioObject(object: KubeObject): boolean {
  return /\.istio\.io\//.test(object.apiVersion) && object.kind in ISTIO_RESOURCES;
}

/** A certificate's identity for comparisons (SHA-256 fingerprint): PEM text differs between writers. */
export function pemKey(pem: string): string {
  return new X509Certificate(pem).fingerprint256;
}

export class Istiod {
  private constructor(
    readonly options: IstiodOptions,
    readonly ports: IstiodPorts,
    readonly process: ManagedProcess,
    private readonly xdsClientBinary: string | undefined,
  ) {}

  static async start(options: IstiodOptions & { xdsClient?: string }): Promise<Istiod> {
    const cacerts = join(options.dir, 'cacerts');
    mkdirSync(cacerts, { recursive: true });
    // The `cacerts` layout: the generated root signs workload certificates directly.
    writeFileSync(join(cacerts, 'ca-cert.pem'), options.rootCA.certPem);
    writeFileSync(join(cacerts, 'ca-key.pem'), options.rootCA.keyPem, { mode: 0o600 });
    writeFileSync(join(cacerts, 'root-cert.pem'), options.rootCA.certPem);
    writeFileSync(join(cacerts, 'cert-chain.pem'), options.rootCA.certPem);
    for (let attempt = 1; ; attempt++) {
      const ports: IstiodPorts = {
        http: await freePort(),
        https: await freePort(),
        grpc: await freePort(),
        secureGrpc: await freePort(),
        monitoring: await freePort(),
        ctrlz: await freePort(),
      };
      const proc = ManagedProcess.start({
        name: `${options.name} istiod`,
        command: options.binary,
        args: [
          'discovery',
          `--kubeconfig=${options.kubeconfigPath}`,
          `--domain=${options.clusterDomain}`,
          `--clusterID=${options.clusterId}`,
          // No files: the mesh config comes from the ConfigMaps (`istio` + the shared one).
          '--meshConfig=/nonexistent',
          '--networksConfig=/nonexistent',
          `--httpAddr=127.0.0.1:${ports.http}`,
          `--httpsAddr=127.0.0.1:${ports.https}`,
          `--grpcAddr=127.0.0.1:${ports.grpc}`,
          `--secureGRPCAddr=127.0.0.1:${ports.secureGrpc}`,
          `--monitoringAddr=127.0.0.1:${ports.monitoring}`,
          `--ctrlz_port=${ports.ctrlz}`,
          '--ctrlz_address=127.0.0.1',
          '--log_output_level=default:info',
        ],
        env: {
          POD_NAMESPACE: ISTIOD_NAMESPACE,
          POD_NAME: 'istiod-0',
          CLUSTER_ID: options.clusterId,
          SHARED_MESH_CONFIG,
          ISTIO_MULTIROOT_MESH: 'true',
          ROOT_CA_DIR: cacerts,
          ISTIOD_CUSTOM_HOST: 'localhost',
          // No in-cluster config can apply: the kubeconfig is the only way to the API.
          KUBERNETES_SERVICE_HOST: undefined,
          KUBERNETES_SERVICE_PORT: undefined,
        },
        logFile: join(options.dir, 'istiod.log'),
      });
      const istiod = new Istiod(options, ports, proc, options.xdsClient);
      try {
        await pollUntil(
          async () =>
            (await httpGet(istiod.url('/ready'), { timeoutMs: 2000 })).status === 200 ? true : undefined,
          {
            what: `${options.name}: istiod ready on /ready`,
            timeoutMs: READY_TIMEOUT_MS,
            abortIf: () => (proc.alive ? undefined : proc.describeExit()),
            describe: () => proc.logTail(30),
          },
        );
        return istiod;
      } catch (error) {
        await proc.stop();
        if (attempt >= BIND_ATTEMPTS || !lostBindRace(proc.logTail(80))) throw error;
      }
    }
  }

  url(path: string): string {
    return `http://127.0.0.1:${this.ports.http}${path}`;
  }

  /** A /debug endpoint's JSON. */
  async debug<T = unknown>(path: string): Promise<T> {
    const res = await httpGet(this.url(`/debug/${path}`), { timeoutMs: 10_000 });
    if (res.status !== 200)
      throw new Error(`istiod /debug/${path}: HTTP ${res.status}: ${res.body.slice(0, 300)}`);
    return JSON.parse(res.body) as T;
  }

  /** The mesh config istiod runs with (main merged over the shared one). */
  async mesh(): Promise<Record<string, unknown>> {
    return this.debug<Record<string, unknown>>('mesh');
  }

  /** Prometheus text of istiod's monitoring port. */
  async metrics(): Promise<string> {
    const res = await httpGet(`http://127.0.0.1:${this.ports.monitoring}/metrics`, { timeoutMs: 10_000 });
    if (res.status !== 200) throw new Error(`istiod /metrics: HTTP ${res.status}`);
    return res.body;
  }

  /**
   * The admission webhook's own validation: an AdmissionReview for creating `object`,
   * POSTed to istiod's /validate over TLS (its serving certificate is signed by the root
   * we plugged in, for the ISTIOD_CUSTOM_HOST name).
   */
  async validate(object: KubeObject): Promise<ValidationResult> {
    const [group, version] = object.apiVersion.split('/');
    const resource = ISTIO_RESOURCES[object.kind];
    if (!group || !version || !resource)
      throw new Error(`not an Istio kind: ${object.apiVersion} ${object.kind}`);
    const review = {
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      request: {
        uid: randomUUID(),
        kind: { group, version, kind: object.kind },
        resource: { group, version, resource },
        name: object.metadata.name,
        namespace: object.metadata.namespace,
        operation: 'CREATE',
        userInfo: { username: 'istio-federation-e2e' },
        object,
      },
    };
    const body = await this.postJson('/validate', review);
    const response = (
      JSON.parse(body) as {
        response?: { allowed?: boolean; result?: { message?: string }; warnings?: string[] };
      }
    ).response;
    if (!response) throw new Error(`istiod /validate answered without a response: ${body.slice(0, 300)}`);
    return {
      allowed: response.allowed === true,
      message: response.result?.message ?? '',
      warnings: response.warnings ?? [],
    };
  }

  private postJson(path: string, payload: unknown): Promise<string> {
    const data = Buffer.from(JSON.stringify(payload));
    return new Promise((resolve, reject) => {
      const req = httpsRequest(
        {
          host: '127.0.0.1',
          port: this.ports.https,
          path,
          method: 'POST',
          servername: 'localhost',
          ca: this.options.rootCA.certPem,
          timeout: 10_000,
          headers: { 'content-type': 'application/json', 'content-length': data.length },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            if (res.statusCode === 200) resolve(text);
            else reject(new Error(`istiod ${path}: HTTP ${String(res.statusCode)}: ${text.slice(0, 300)}`));
          });
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`istiod ${path}: no answer in 10 s`)));
      req.on('error', reject);
      req.end(data);
    });
  }

  /**
   * What istiod sends to one proxy right now: tools/xds-client connects to the plaintext
   * ADS port, subscribes to CDS, EDS, LDS, RDS and PCDS, and prints a summary.
   */
  async xds(proxy: ProxyIdentity, timeoutMs = 30_000): Promise<XdsSummary> {
    if (!this.xdsClientBinary) throw new Error('istiod was started without an xDS client binary');
    const args = [
      `--addr=127.0.0.1:${this.ports.grpc}`,
      `--type=${proxy.type}`,
      `--ip=${proxy.ip}`,
      `--pod=${proxy.pod}`,
      `--namespace=${proxy.namespace}`,
      `--domain=${this.options.clusterDomain}`,
      `--cluster-id=${this.options.clusterId}`,
      `--timeout=${Math.round(timeoutMs / 1000)}s`,
      ...(proxy.network ? [`--network=${proxy.network}`] : []),
      ...Object.entries(proxy.labels ?? {}).map(([k, v]) => `--label=${k}=${v}`),
    ];
    const stdout = await new Promise<string>((resolve, reject) => {
      execFile(
        this.xdsClientBinary as string,
        args,
        { timeout: timeoutMs + 10_000, maxBuffer: 64 * 1024 * 1024, env: { PATH: process.env.PATH ?? '' } },
        (error, out, err) => {
          if (error && !out) reject(new Error(`xds-client failed: ${error.message}\n${err}`));
          else resolve(out);
        },
      );
    });
    const summary = JSON.parse(stdout) as XdsSummary;
    if (!summary.complete)
      throw new Error(`xds-client: incomplete answer, missing ${(summary.missing ?? []).join(', ')}`);
    return summary;
  }

  logTail(lines = 40): string {
    return this.process.logTail(lines);
  }

  /** Lines of istiod's log (whole run) that contain `text`. */
  logLines(text: string): string[] {
    try {
      return readFileSync(this.process.logFile, 'utf8')
        .split('\n')
        .filter((line) => line.includes(text));
    } catch {
      return [];
    }
  }

  /** Remote clusters istiod reads endpoints from (`/debug/clusterz`). */
  async remoteClusters(): Promise<RemoteClusterInfo[]> {
    return (await this.debug<RemoteClusterInfo[] | null>('clusterz')) ?? [];
  }

  async stop(): Promise<void> {
    await this.process.stop();
  }
}

// ------------------------------------------------------------------ reading xDS

export function clusterNamed(summary: XdsSummary, name: string): XdsCluster | undefined {
  return summary.clusters.find((c) => c.name === name);
}

export function listenerOnPort(summary: XdsSummary, port: number): XdsListener | undefined {
  return summary.listeners.find((l) => l.port === port && l.address === '0.0.0.0');
}

/** Istio's outbound cluster name for a service port (`outbound|8080||host`). */
export const outboundCluster = (port: number, host: string): string => `outbound|${port}||${host}`;
/** The SNI Istio uses for mTLS to that service port, and the gateway's SNI cluster name. */
export const outboundSni = (port: number, host: string): string => `outbound_.${port}_._.${host}`;

/** The Istio mTLS transport socket of a cluster (direct, or the `tlsMode-istio` match). */
export function istioMtls(cluster: XdsCluster): XdsTransportSocket | undefined {
  return cluster.transportSockets.find(
    (t) =>
      t.name === 'envoy.transport_sockets.tls' &&
      (t.match === undefined || t.match.tlsMode === 'istio') &&
      (t.certificateSds ?? []).includes('default') &&
      t.validationSds === 'ROOTCA',
  );
}

/** Fingerprints of the trust bundle's certificates (PCDS caCertificatesPem). */
export function trustBundleFingerprints(summary: XdsSummary): string[] {
  return (summary.trustBundle?.caCertificatesPem ?? []).map(pemKey);
}

// ------------------------------------------------------------------ metrics

/** Sum of every sample of the metrics whose name starts with `prefix` (0 when absent). */
export function metricSum(text: string, prefix: string): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(prefix)) continue;
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (Number.isFinite(value)) sum += value;
  }
  return sum;
}

/** The counters a healthy control plane keeps at zero. */
export function istiodProblemCounters(text: string): Record<string, number> {
  return {
    galley_validation_failed: metricSum(text, 'galley_validation_failed'),
    pilot_total_xds_rejects: metricSum(text, 'pilot_total_xds_rejects'),
    pilot_conflict: metricSum(text, 'pilot_conflict_'),
    pilot_duplicate_envoy_clusters: metricSum(text, 'pilot_duplicate_envoy_clusters'),
    pilot_xds_push_context_errors: metricSum(text, 'pilot_xds_push_context_errors'),
  };
}

export async function waitForIstiodXds<T>(
  istiod: Istiod,
  proxy: ProxyIdentity,
  test: (summary: XdsSummary) => T | undefined,
  what: string,
  timeoutMs: number,
): Promise<T> {
  let last: XdsSummary | undefined;
  return pollUntil(
    async () => {
      last = await istiod.xds(proxy);
      return test(last);
    },
    {
      what: `${istiod.options.name} istiod xDS for ${proxy.type} ${proxy.namespace}/${proxy.pod}: ${what}`,
      timeoutMs,
      intervalMs: 1000,
      describe: () =>
        `clusters: ${JSON.stringify(last?.clusters.map((c) => c.name))}\nistiod log:\n${istiod.logTail(20)}`,
      abortIf: () => (istiod.process.alive ? undefined : istiod.process.describeExit()),
    },
  );
}
