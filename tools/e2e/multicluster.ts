import { randomUUID } from 'node:crypto';
import { parse as parseYaml } from 'yaml';
import { crdObject, installCrds, type Cluster } from './cluster';
import { federationNetwork } from './istiod';
import { resourcePath, type KubeApi, type KubeObject } from './kube-api';
import { runWorkload, type Workload } from './mesh';
import {
  A_ADVERTISED,
  B_LOAD_BALANCER_IP,
  STEP_TIMEOUT_MS,
  startTwoClusters,
  stopRun,
  type Condition,
  type FederationRun,
  type StartOptions,
} from './scenario';
import { freePort, pollUntil } from './wait';

/**
 * The multicluster story on two local clusters that share the cluster domain
 * (`cluster.local`), each with its own UUID, root CA, istiod, exporter and api-proxy: steps
 * shared by tests/e2e/multicluster.e2e.test.ts and the demo (tools/demo-multicluster.ts).
 * Every wait is a bounded poll that fails with both clusters' state and log tails.
 */

export type MulticlusterRun = FederationRun;

export const MESH_DOMAIN = 'cluster.local';
export const MULTICLUSTERS_PATH = resourcePath('deckhouse.io/v1alpha1', 'istiomulticlusters');
export const multiclusterPath = (name: string): string =>
  resourcePath('deckhouse.io/v1alpha1', 'istiomulticlusters', { name });
/** What the exporter must have rendered before it starts, in a multicluster-only cluster. */
export const MULTICLUSTER_DOCUMENT_KEYS = ['public.json', 'multicluster.json'] as const;
export const REMOTE_SECRET_LABEL = 'istio/multiCluster';
export const remoteSecretName = (name: string): string => `istio-remote-secret-${name}`;
/** The pod label the sidecar injector adds in a multi-network mesh. */
export const NETWORK_LABEL = 'topology.istio.io/network';

/** A Service whose pods run only in cluster-b (hostname under the shared domain). */
export const REMOTE = { namespace: 'xyz', name: 'bar', hostname: `bar.xyz.svc.${MESH_DOMAIN}` };
export const REMOTE_PORTS = [{ name: 'http', port: 8080 }];
/**
 * A second Service of cluster-b whose pod has NO network label (an injector without
 * values.global.network): istiod must place it on B's network from meshNetworks'
 * `fromRegistry: cluster-b` alone.
 */
export const UNLABELLED = { namespace: 'xyz', name: 'baz', hostname: `baz.xyz.svc.${MESH_DOMAIN}` };

export interface MulticlusterObject extends KubeObject {
  spec: { metadataEndpoint: string; enableIngressGateway?: boolean; metadata?: { ca?: string } };
  status?: {
    observedGeneration?: number;
    conditions?: Condition[];
    metadataCache?: {
      public?: { clusterUUID?: string; rootCA?: string };
      private?: {
        ingressGateways?: { address: string; port: number }[];
        apiHost?: string;
        networkName?: string;
      };
    };
  };
}

export const multiclusterCondition = (
  m: MulticlusterObject | undefined,
  type: string,
): Condition | undefined => m?.status?.conditions?.find((c) => c.type === type);

/** The network of a cluster's own endpoints (`istio.federation.network`). */
export const networkOf = (cluster: Cluster): string => federationNetwork(cluster.clusterId);

/** bar's pod in cluster-b: sidecar-injected, labelled with B's network as the injector would. */
export function remoteWorkload(b: Cluster): Workload {
  return {
    namespace: REMOTE.namespace,
    service: REMOTE.name,
    pod: 'bar-0',
    ip: '10.22.1.5',
    serviceAccount: 'bar',
    ports: REMOTE_PORTS,
    injected: true,
    labels: { [NETWORK_LABEL]: networkOf(b) },
  };
}

/** baz's pod in cluster-b: sidecar-injected, without a network label. */
export const UNLABELLED_WORKLOAD: Workload = {
  namespace: UNLABELLED.namespace,
  service: UNLABELLED.name,
  pod: 'baz-0',
  ip: '10.22.1.6',
  serviceAccount: 'baz',
  ports: REMOTE_PORTS,
  injected: true,
};

// ------------------------------------------------------------------ reading state

export async function getMulticluster(api: KubeApi, name: string): Promise<MulticlusterObject | undefined> {
  return api.get<MulticlusterObject>(multiclusterPath(name));
}

export interface RemoteSecret {
  name: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  resourceVersion: string;
  /** data keys (each a cluster ID for istiod) */
  keys: string[];
  /** The kubeconfig under the data key named like the IstioMulticluster, as text. */
  kubeconfig: string | undefined;
}

export async function readRemoteSecret(api: KubeApi, name: string): Promise<RemoteSecret | undefined> {
  const secret = await api.get<KubeObject & { data?: Record<string, string> }>(
    resourcePath('v1', 'secrets', { namespace: 'd8-istio', name: remoteSecretName(name) }),
  );
  if (!secret) return undefined;
  const meta = secret.metadata as { annotations?: Record<string, string>; resourceVersion?: string };
  const encoded = secret.data?.[name];
  return {
    name: secret.metadata.name,
    labels: secret.metadata.labels ?? {},
    annotations: meta.annotations ?? {},
    resourceVersion: meta.resourceVersion ?? '',
    keys: Object.keys(secret.data ?? {}),
    kubeconfig: encoded === undefined ? undefined : Buffer.from(encoded, 'base64').toString('utf8'),
  };
}

export interface KubeconfigView {
  server: string;
  token: string;
  caPem: string | undefined;
  insecure: boolean | undefined;
  names: { cluster: string; context: string; user: string; current: string };
}

/** The parts of a remote-secret kubeconfig a test asserts on. */
export function viewKubeconfig(text: string): KubeconfigView {
  const doc = parseYaml(text) as {
    clusters?: { name: string; cluster: Record<string, unknown> }[];
    contexts?: { name: string }[];
    users?: { name: string; user: { token?: string } }[];
    'current-context'?: string;
  };
  const cluster = doc.clusters?.[0]?.cluster ?? {};
  const caData = cluster['certificate-authority-data'];
  return {
    server: String(cluster.server ?? ''),
    token: doc.users?.[0]?.user.token ?? '',
    caPem: typeof caData === 'string' ? Buffer.from(caData, 'base64').toString('utf8') : undefined,
    insecure: cluster['insecure-skip-tls-verify'] as boolean | undefined,
    names: {
      cluster: doc.clusters?.[0]?.name ?? '',
      context: doc.contexts?.[0]?.name ?? '',
      user: doc.users?.[0]?.name ?? '',
      current: doc['current-context'] ?? '',
    },
  };
}

/** Everything relevant about one cluster's multicluster state, for failure messages. */
export async function describeMulticlusterCluster(cluster: Cluster): Promise<string> {
  const parts: string[] = [`==== ${cluster.spec.name}`];
  try {
    for (const m of await cluster.api.list<MulticlusterObject>(MULTICLUSTERS_PATH)) {
      parts.push(`IstioMulticluster ${m.metadata.name} status: ${JSON.stringify(m.status ?? {})}`);
    }
    const secrets = await cluster.api.list(
      resourcePath('v1', 'secrets', { namespace: 'd8-istio' }),
      `${REMOTE_SECRET_LABEL}=true`,
    );
    parts.push(`remote Secrets: ${secrets.map((s) => s.metadata.name).join(', ') || 'none'}`);
    parts.push(`istiod clusterz: ${JSON.stringify(await cluster.mesh.remoteClusters())}`);
  } catch (error) {
    parts.push(`(read failed: ${error instanceof Error ? error.message : String(error)})`);
  }
  parts.push(cluster.diagnostics());
  return parts.join('\n');
}

export function describeMulticlusterRun(run: MulticlusterRun): () => Promise<string> {
  return async () =>
    [await describeMulticlusterCluster(run.a), await describeMulticlusterCluster(run.b)].join('\n');
}

const abortIfOperatorsDied = (run: MulticlusterRun) => (): string | undefined =>
  run.a.operator.describeExit() ?? run.b.operator.describeExit();

// ------------------------------------------------------------------ steps

/**
 * The Gateway API's Gateway kind (a schema-less stand-in: istiod only needs the CRD to exist,
 * and `gateways` has no minimum bundle version). With it, istiod watches every remote
 * cluster's Gateways through the api-proxy and waits for that informer before it serves the
 * remote: the proxy's RBAC must allow it (without, the remote stays `timeout`).
 */
export const GATEWAY_API_GATEWAYS: KubeObject = (() => {
  const crd = crdObject('gateway.networking.k8s.io', 'Gateway', 'gateways', 'v1');
  // A *.k8s.io group needs the approval annotation; the bundle version as the real CRDs carry it.
  crd.metadata.annotations = {
    'api-approved.kubernetes.io': 'https://github.com/kubernetes-sigs/gateway-api/pull/4530',
    'gateway.networking.k8s.io/bundle-version': 'v1.6.0',
  };
  return crd;
})();

/**
 * Step 1: two clusters with the same domain and different UUIDs (so different root CAs,
 * cluster IDs and networks), multicluster on, federation off; each publishes its api-proxy's
 * loopback port as `multicluster.apiHost`. B's gateway gets a load-balancer address, A
 * advertises one. Both have the Gateway API's Gateway CRD.
 */
export async function startMulticlusterClusters(options: StartOptions): Promise<MulticlusterRun> {
  const [portA, portB] = [await freePort(), await freePort()];
  const settings = (port: number, ingressGateway: Record<string, unknown>) => ({
    federation: { enabled: false },
    multicluster: { enabled: true, apiHost: `127.0.0.1:${port}` },
    alliance: { ingressGateway },
  });
  const run = await startTwoClusters(
    [
      {
        name: 'cluster-a',
        clusterDomain: MESH_DOMAIN,
        clusterUUID: randomUUID(),
        serviceCidr: '10.111.0.0/24',
        settings: settings(portA, { inlet: 'LoadBalancer', advertise: [A_ADVERTISED] }),
        apiProxyPort: portA,
      },
      {
        name: 'cluster-b',
        clusterDomain: MESH_DOMAIN,
        clusterUUID: randomUUID(),
        serviceCidr: '10.222.0.0/24',
        settings: settings(portB, { inlet: 'LoadBalancer' }),
        loadBalancerIPs: [B_LOAD_BALANCER_IP],
        apiProxyPort: portB,
      },
    ],
    { ...options, runDirPrefix: 'istio-multicluster-e2e-' },
  );
  try {
    // Clusters with Istio usually have the Gateway API CRDs too.
    await Promise.all([run.a, run.b].map((cluster) => installCrds(cluster.api, [GATEWAY_API_GATEWAYS])));
  } catch (error) {
    // The caller never gets the run: stop it (and remove its directory) here.
    await stopRun(run, options.keepRunDir);
    throw error;
  }
  return run;
}

/** Step 2: exporters and api-proxies up once the chart has rendered what they read. */
export async function startMulticlusterServers(run: MulticlusterRun): Promise<void> {
  await Promise.all(
    [run.a, run.b].map(async (cluster) => {
      await cluster.startExporter(STEP_TIMEOUT_MS, MULTICLUSTER_DOCUMENT_KEYS);
      await cluster.startApiProxy(STEP_TIMEOUT_MS);
    }),
  );
  run.log(
    `exporters: ${run.a.exporter.endpoint}, ${run.b.exporter.endpoint}; api-proxies: ${run.a.proxy.address}, ${run.b.proxy.address}`,
  );
}

/** Step 3: Services bar (pod on B's network) and baz (pod without network label), in cluster-b only. */
export async function runRemoteService(run: MulticlusterRun): Promise<void> {
  const api = run.b.api;
  await api.apply(resourcePath('v1', 'namespaces', { name: REMOTE.namespace }), {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: REMOTE.namespace },
  });
  for (const workload of [remoteWorkload(run.b), UNLABELLED_WORKLOAD]) {
    await api.create(resourcePath('v1', 'services', { namespace: workload.namespace }), {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: workload.service, namespace: workload.namespace },
      spec: {
        selector: { app: workload.service },
        ports: workload.ports.map((p) => ({
          name: p.name,
          port: p.port,
          targetPort: p.port,
          protocol: 'TCP',
        })),
      },
    });
    await runWorkload(api, workload);
  }
  run.log(
    `cluster-b: Services ${REMOTE.namespace}/${REMOTE.name} (pod on ${networkOf(run.b)}) and ${UNLABELLED.namespace}/${UNLABELLED.name} (pod without network label)`,
  );
}

export const multiclusterObject = (name: string, peer: Cluster): KubeObject => ({
  apiVersion: 'deckhouse.io/v1alpha1',
  kind: 'IstioMulticluster',
  metadata: { name },
  spec: { metadataEndpoint: peer.exporter.endpoint, metadata: { ca: peer.ingressPki.ca.certPem } },
});

/** Step 4: IstioMulticluster cluster-b in A and cluster-a in B (endpoint and ingress CA of the peer). */
export async function createMulticlusters(run: MulticlusterRun): Promise<void> {
  await run.a.api.create(MULTICLUSTERS_PATH, multiclusterObject('cluster-b', run.b));
  await run.b.api.create(MULTICLUSTERS_PATH, multiclusterObject('cluster-a', run.a));
  run.marks.multiclustersCreated = Date.now();
  run.log('IstioMulticluster cluster-b created in cluster-a, cluster-a in cluster-b');
}

export async function waitForMulticluster(
  run: MulticlusterRun,
  cluster: Cluster,
  name: string,
  test: (m: MulticlusterObject) => boolean,
  what: string,
  timeoutMs = STEP_TIMEOUT_MS,
): Promise<MulticlusterObject> {
  return pollUntil(
    async () => {
      const m = await getMulticluster(cluster.api, name);
      return m && test(m) ? m : undefined;
    },
    {
      what: `${cluster.spec.name}: IstioMulticluster ${name}: ${what}`,
      timeoutMs,
      describe: describeMulticlusterRun(run),
      abortIf: abortIfOperatorsDied(run),
    },
  );
}

export const isMulticlusterReady = (m: MulticlusterObject): boolean =>
  multiclusterCondition(m, 'Ready')?.status === 'True' &&
  multiclusterCondition(m, 'RemoteAPIReachable')?.status === 'True';

export async function waitForRemoteSecret(
  run: MulticlusterRun,
  cluster: Cluster,
  name: string,
  test: (s: RemoteSecret) => boolean = () => true,
  what = 'rendered',
  timeoutMs = STEP_TIMEOUT_MS,
): Promise<RemoteSecret> {
  return pollUntil(
    async () => {
      const s = await readRemoteSecret(cluster.api, name);
      return s && test(s) ? s : undefined;
    },
    {
      what: `${cluster.spec.name}: Secret ${remoteSecretName(name)} ${what}`,
      timeoutMs,
      describe: describeMulticlusterRun(run),
      abortIf: abortIfOperatorsDied(run),
    },
  );
}

/**
 * A real reason for the module to reissue the remote Secret: `cluster` publishes another api
 * host (here `localhost:<same port>`, which its ingress certificate also covers). Its
 * exporter serves the new host, the peer's fetch hook caches it, the merge hook renders a
 * kubeconfig with the new server and a token reissued for it.
 */
export async function publishApiHost(cluster: Cluster, apiHost: string): Promise<void> {
  const settings = cluster.spec.settings;
  await cluster.configure({
    ...settings,
    multicluster: { enabled: true, ...settings.multicluster, apiHost },
  });
}
