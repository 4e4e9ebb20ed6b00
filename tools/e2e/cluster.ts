import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { makeCertificate, makeServerPki, type TestCertificate } from '../../tests/fetch/certs';
import {
  AddonOperator,
  OPERATOR_NAMESPACE,
  writeOperatorConfig,
  type GlobalValues,
  type IstioSettings,
} from './addon-operator';
import { ApiProxy } from './api-proxy';
import { startApiServer, type ApiServer } from './control-plane';
import { DOCUMENTS_SECRET, Exporter, readRenderedDocuments } from './exporter';
import { applyMainMeshConfig, federationClusterId, Istiod } from './istiod';
import { resourcePath, type KubeApi, type KubeObject } from './kube-api';
import { istioCrdsYaml } from '../../tests/support/istio-crds';
import { moduleCrds } from '../../lib/crds/module-crds';
import { type UpstreamTools } from './tools';
import { pollUntil } from './wait';

/**
 * One local "cluster": kube-apiserver (on the shared etcd), the CRDs a Deckhouse cluster
 * with Istio has, a real istiod with the cluster's generated root CA plugged in (and the
 * root CA ConfigMap it writes), addon-operator running our module, the metadata exporter
 * watching the rendered Secret, and a stand-in cloud controller that writes the gateway
 * Service's load-balancer status.
 */

export const MODULE_NAMESPACE = 'd8-istio';
export const GATEWAY_SERVICE = 'ingressgateway';

/**
 * Kinds the chart renders whose CRDs a Deckhouse cluster gets from other modules
 * (prometheus-operator, cert-manager): minimal schema-less stand-ins, so Helm can apply them.
 */
const STAND_IN_CRDS: readonly { group: string; kind: string; plural: string; version: string }[] = [
  { group: 'monitoring.coreos.com', kind: 'PrometheusRule', plural: 'prometheusrules', version: 'v1' },
  { group: 'monitoring.coreos.com', kind: 'PodMonitor', plural: 'podmonitors', version: 'v1' },
  { group: 'cert-manager.io', kind: 'Certificate', plural: 'certificates', version: 'v1' },
];

export interface ClusterSpec {
  name: string;
  clusterDomain: string;
  clusterUUID: string;
  serviceCidr: string;
  settings: IstioSettings;
  /** Written to the gateway Service's status.loadBalancer.ingress, as a cloud would (IPs). */
  loadBalancerIPs?: string[];
  /** Run the api-proxy (multicluster) on this port of 127.0.0.1 once the chart has rendered it. */
  apiProxyPort?: number;
}

export type Log = (line: string) => void;

export function crdObject(group: string, kind: string, plural: string, version: string): KubeObject {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${plural}.${group}` },
    spec: {
      group,
      scope: 'Namespaced',
      names: { kind, plural, singular: kind.toLowerCase(), listKind: `${kind}List` },
      versions: [
        {
          name: version,
          served: true,
          storage: true,
          schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
        },
      ],
    },
  };
}

function crdsFromYaml(text: string): KubeObject[] {
  return parseAllDocuments(text)
    .map((doc) => doc.toJS() as KubeObject | null)
    .filter((o): o is KubeObject => o?.kind === 'CustomResourceDefinition');
}

/** What a Deckhouse cluster has before this module: Istio's CRDs and other modules' kinds. */
export function prerequisiteCrds(): KubeObject[] {
  const istio = crdsFromYaml(istioCrdsYaml());
  const standIns = STAND_IN_CRDS.map((c) => crdObject(c.group, c.kind, c.plural, c.version));
  return [...istio, ...standIns];
}

const crdPath = (name: string) =>
  resourcePath('apiextensions.k8s.io/v1', 'customresourcedefinitions', { name });

/** Every CRD, ours included: for tests that run istiod without addon-operator. */
export function allCrds(): KubeObject[] {
  return [...moduleCrds(), ...prerequisiteCrds()];
}

export async function installCrds(api: KubeApi, crds: readonly KubeObject[]): Promise<void> {
  for (const crd of crds) await api.apply(crdPath(crd.metadata.name), crd);
  await waitForCrdsEstablished(api, crds, 60_000);
}

async function waitForCrdsEstablished(
  api: KubeApi,
  crds: readonly KubeObject[],
  timeoutMs: number,
  describe?: () => string,
): Promise<void> {
  for (const crd of crds) {
    await pollUntil(
      async () => {
        const current = await api.get<{ status?: { conditions?: { type: string; status: string }[] } }>(
          crdPath(crd.metadata.name),
        );
        return current?.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')
          ? true
          : undefined;
      },
      {
        what: `CRD ${crd.metadata.name} established`,
        timeoutMs,
        intervalMs: 200,
        ...(describe ? { describe } : {}),
      },
    );
  }
}

export async function ensureNamespace(api: KubeApi, name: string): Promise<void> {
  await api.apply(resourcePath('v1', 'namespaces', { name }), {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name },
  });
}

export class Cluster {
  readonly api: KubeApi;
  readonly operator: AddonOperator;
  readonly exporter: Exporter;
  /** The cluster's api-proxy (multicluster), when the spec gives it a port. */
  readonly apiProxy: ApiProxy | undefined;
  /**
   * What the cluster's ingress serves with (a test CA and a certificate for 127.0.0.1): the
   * metadata exporter and the api-proxy sit behind it in production, so peers verify both
   * with the one CA of spec.metadata.ca.
   */
  readonly ingressPki: { ca: TestCertificate; server: TestCertificate };
  /** The mesh root CA: istiod signs with it (ROOT_CA_DIR), the exporter publishes it. */
  readonly rootCA: TestCertificate;
  /** istiod's CLUSTER_ID: what the chart's gateway claims (`istio.federation.clusterId`). */
  readonly clusterId: string;
  istiod: Istiod | undefined;
  private lbTimer: NodeJS.Timeout | undefined;
  private lbError: string | undefined;

  private constructor(
    readonly spec: ClusterSpec,
    readonly apiServer: ApiServer,
    tools: UpstreamTools,
    readonly dir: string,
  ) {
    this.api = apiServer.api;
    this.operator = new AddonOperator(spec.name, tools.addonOperator, dir, apiServer.kubeconfigPath);
    // `localhost` too: a peer may be told to reach the api-proxy by that name (a host change).
    this.ingressPki = makeServerPki(`${spec.name} ingress`, ['localhost']);
    this.exporter = new Exporter(spec.name, dir, this.api, this.ingressPki);
    this.apiProxy = spec.apiProxyPort ? this.makeApiProxy(spec.apiProxyPort) : undefined;
    this.rootCA = makeCertificate({
      commonName: `${spec.clusterDomain} Istio root CA`,
      isCA: true,
    });
    this.clusterId = federationClusterId(spec.clusterDomain, spec.clusterUUID);
  }

  private makeApiProxy(port: number): ApiProxy {
    const certFile = join(this.dir, 'ingress.crt');
    const keyFile = join(this.dir, 'ingress.key');
    writeFileSync(certFile, this.ingressPki.server.certPem);
    writeFileSync(keyFile, this.ingressPki.server.keyPem, { mode: 0o600 });
    return new ApiProxy({
      name: this.spec.name,
      workDir: this.dir,
      api: this.api,
      clusterUUID: this.spec.clusterUUID,
      port,
      tls: { certFile, keyFile, caPem: this.ingressPki.ca.certPem },
      apiServerCaFile: join(this.dir, 'ca.crt'),
    });
  }

  /** The running api-proxy (multicluster). */
  get proxy(): ApiProxy {
    if (!this.apiProxy) throw new Error(`${this.spec.name}: no api-proxy in this cluster's spec`);
    return this.apiProxy;
  }

  get rootCAPem(): string {
    return this.rootCA.certPem;
  }

  /** The running istiod (started with the cluster). */
  get mesh(): Istiod {
    if (!this.istiod) throw new Error(`${this.spec.name}: istiod is not running`);
    return this.istiod;
  }

  get globals(): GlobalValues {
    return {
      clusterDomain: this.spec.clusterDomain,
      clusterUUID: this.spec.clusterUUID,
      publicDomainTemplate: `%s.${this.spec.name}.example.com`,
      httpsMode: 'CertManager',
    };
  }

  /** Starts the API server and prepares it like a cluster where Istio runs; then addon-operator. */
  static async start(spec: ClusterSpec, tools: UpstreamTools, etcdUrl: string, runDir: string, log: Log) {
    const dir = join(runDir, spec.name);
    mkdirSync(dir, { recursive: true });
    const started = Date.now();
    const apiServer = await startApiServer({
      binary: tools.kubeApiserver,
      name: spec.name,
      dir,
      etcdUrl,
      serviceCidr: spec.serviceCidr,
    });
    log(`${spec.name}: kube-apiserver ready at ${apiServer.connection.server} (${Date.now() - started} ms)`);
    const cluster = new Cluster(spec, apiServer, tools, dir);
    await installCrds(cluster.api, prerequisiteCrds());
    // The module's own CRDs are the module's job (its ensure-CRDs hook), not the harness's.
    for (const crd of moduleCrds()) {
      if (await cluster.api.get(crdPath(crd.metadata.name)))
        throw new Error(`${crd.metadata.name} exists already`);
    }
    for (const ns of [OPERATOR_NAMESPACE, MODULE_NAMESPACE]) await ensureNamespace(cluster.api, ns);
    // What istiod writes into every namespace: the mesh root CA the module publishes.
    await cluster.api.apply(
      resourcePath('v1', 'configmaps', { namespace: MODULE_NAMESPACE, name: 'istio-ca-root-cert' }),
      {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'istio-ca-root-cert', namespace: MODULE_NAMESPACE },
        data: { 'root-cert.pem': cluster.rootCAPem },
      },
    );
    await applyMainMeshConfig(cluster.api, spec.clusterDomain);
    const istiodStarted = Date.now();
    cluster.istiod = await Istiod.start({
      name: spec.name,
      binary: tools.istiod,
      xdsClient: tools.xdsClient,
      dir,
      kubeconfigPath: apiServer.kubeconfigPath,
      clusterDomain: spec.clusterDomain,
      clusterId: cluster.clusterId,
      rootCA: cluster.rootCA,
    });
    log(
      `${spec.name}: istiod ready (cluster ID ${cluster.clusterId}, ADS on 127.0.0.1:${cluster.istiod.ports.grpc}, ${Date.now() - istiodStarted} ms)`,
    );
    await writeOperatorConfig(cluster.api, cluster.globals, spec.settings);
    await cluster.operator.start();
    await waitForCrdsEstablished(cluster.api, moduleCrds(), 60_000, () => cluster.operator.logTail(30));
    log(`${spec.name}: the module installed its CRDs`);
    cluster.startLoadBalancerController();
    log(`${spec.name}: addon-operator started (metrics on 127.0.0.1:${cluster.operator.metricsPort})`);
    return cluster;
  }

  /** New module settings in the operator's ConfigMap (what editing ModuleConfig does). */
  async configure(settings: IstioSettings): Promise<void> {
    this.spec.settings = settings;
    await writeOperatorConfig(this.api, this.globals, settings);
  }

  /** The exporter starts once the module has rendered its documents (these keys of the Secret). */
  async startExporter(timeoutMs: number, keys?: readonly string[]): Promise<void> {
    await pollUntil(async () => ((await readRenderedDocuments(this.api, keys)) ? true : undefined), {
      what: `${this.spec.name}: Secret ${DOCUMENTS_SECRET} rendered`,
      timeoutMs,
      describe: () => this.operator.logTail(30),
      abortIf: () => this.operator.describeExit(),
    });
    await this.exporter.start();
  }

  /** The api-proxy starts once the module has rendered its ServiceAccount, RBAC and peers Secret. */
  async startApiProxy(timeoutMs: number): Promise<void> {
    await this.proxy.start(timeoutMs, () => this.operator.logTail(30));
  }

  private startLoadBalancerController(): void {
    const ips = this.spec.loadBalancerIPs;
    if (!ips?.length) return;
    const path = resourcePath('v1', 'services', { namespace: MODULE_NAMESPACE, name: GATEWAY_SERVICE });
    const wanted = ips.map((ip) => ({ ip }));
    const reconcile = async (): Promise<void> => {
      try {
        const svc = await this.api.get<{ spec?: { type?: string }; status?: { loadBalancer?: unknown } }>(
          path,
        );
        if (!svc || svc.spec?.type !== 'LoadBalancer') return;
        const current = (svc.status?.loadBalancer as { ingress?: { ip?: string }[] } | undefined)?.ingress;
        // The API server adds fields of its own (ipMode): compare the addresses only.
        if ((current ?? []).map((i) => i.ip).join() === ips.join()) return;
        await this.api.mergePatch(`${path}/status`, { status: { loadBalancer: { ingress: wanted } } });
        this.lbError = undefined;
      } catch (error) {
        this.lbError = error instanceof Error ? error.message : String(error);
      }
    };
    this.lbTimer = setInterval(() => void reconcile(), 500);
    this.lbTimer.unref();
  }

  get loadBalancerControllerError(): string | undefined {
    return this.lbError;
  }

  /** Operator and exporter logs, for failure messages. */
  diagnostics(lines = 40): string {
    return [
      `---- ${this.spec.name} addon-operator log (last ${lines} lines)`,
      this.operator.logTail(lines),
      `---- ${this.spec.name} metadata-exporter log`,
      this.exporter.logTail(15),
      ...(this.apiProxy ? [`---- ${this.spec.name} api-proxy log`, this.apiProxy.logTail(15)] : []),
      `---- ${this.spec.name} istiod log`,
      this.istiod?.logTail(15) ?? '(not started)',
    ].join('\n');
  }

  async stop(): Promise<void> {
    if (this.lbTimer) clearInterval(this.lbTimer);
    // istiod first: its watches on the peer's api-proxy would hold that proxy's graceful
    // shutdown (clusters stop side by side) for its whole bound.
    await this.istiod?.stop();
    await this.apiProxy?.stop();
    await this.exporter.stop();
    await this.operator.stop();
    await this.apiServer.process.stop();
  }
}
