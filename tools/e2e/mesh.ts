import type { Cluster } from './cluster';
import {
  ISTIOD_NAMESPACE,
  clusterNamed,
  federationNetwork,
  istioMtls,
  listenerOnPort,
  outboundCluster,
  outboundSni,
  pemKey,
  trustBundleFingerprints,
  waitForIstiodXds,
  type ProxyIdentity,
  type ValidationResult,
  type XdsCluster,
  type XdsTransportSocket,
  type XdsSummary,
} from './istiod';
import { resourcePath, type KubeApi, type KubeObject } from './kube-api';

/**
 * The mesh side of the federation story: workloads istiod can see (a Pod and the
 * EndpointSlice a controller-manager would write: there is none here), the proxies a test
 * poses as, and what istiod must send them for the imported service.
 */

export const INJECTED_LABEL = 'security.istio.io/tlsMode';

export interface Workload {
  namespace: string;
  /** Service name; the pod gets `app: <service>` and serves the Service's ports. */
  service: string;
  pod: string;
  ip: string;
  serviceAccount: string;
  ports: { name: string; port: number }[];
  /** Sidecar-injected pods carry `security.istio.io/tlsMode=istio`. */
  injected: boolean;
  /** More pod labels, e.g. the `topology.istio.io/network` the injector adds in a multi-network mesh. */
  labels?: Record<string, string>;
}

/**
 * A running pod as a kubelet would report it, and the EndpointSlice the endpoint-slice
 * controller would write for its Service. istiod builds endpoints from the slice and
 * takes the pod's labels (tlsMode) and service account (identity) from the pod.
 */
export async function runWorkload(api: KubeApi, w: Workload): Promise<void> {
  const labels: Record<string, string> = {
    app: w.service,
    'service.istio.io/canonical-name': w.service,
    ...(w.injected ? { [INJECTED_LABEL]: 'istio' } : {}),
    ...w.labels,
  };
  const pod = await api.create<KubeObject & { metadata: { uid: string } }>(
    resourcePath('v1', 'pods', { namespace: w.namespace }),
    {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: w.pod, namespace: w.namespace, labels },
      spec: {
        serviceAccountName: w.serviceAccount,
        nodeName: 'node-1',
        containers: [
          {
            name: 'app',
            image: 'registry.example/app:1',
            ports: w.ports.map((p) => ({ name: p.name, containerPort: p.port })),
          },
        ],
      },
    },
  );
  const now = new Date().toISOString();
  await api.mergePatch(
    resourcePath('v1', 'pods', { namespace: w.namespace, name: w.pod, subresource: 'status' }),
    {
      status: {
        phase: 'Running',
        podIP: w.ip,
        podIPs: [{ ip: w.ip }],
        hostIP: '10.0.0.1',
        startTime: now,
        conditions: [
          { type: 'Ready', status: 'True', lastTransitionTime: now },
          { type: 'ContainersReady', status: 'True', lastTransitionTime: now },
        ],
      },
    },
  );
  await api.create(resourcePath('discovery.k8s.io/v1', 'endpointslices', { namespace: w.namespace }), {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name: `${w.service}-e2e`,
      namespace: w.namespace,
      labels: {
        'kubernetes.io/service-name': w.service,
        'endpointslice.kubernetes.io/managed-by': 'istio-federation-e2e',
      },
    },
    addressType: 'IPv4',
    endpoints: [
      {
        addresses: [w.ip],
        conditions: { ready: true, serving: true, terminating: false },
        nodeName: 'node-1',
        targetRef: { kind: 'Pod', namespace: w.namespace, name: w.pod, uid: pod.metadata.uid },
      },
    ],
    ports: w.ports.map((p) => ({ name: p.name, port: p.port, protocol: 'TCP' })),
  });
}

/** A sidecar in cluster-a's namespace `sleep` (any pod of the mesh would do). */
export const A_SIDECAR: ProxyIdentity = {
  type: 'sidecar',
  ip: '10.11.1.7',
  pod: 'sleep-0',
  namespace: 'sleep',
};

/** The chart's ingress gateway as its istio-proxy connects: router, its labels, cluster ID and network. */
export function gatewayProxy(clusterId: string, ip: string): ProxyIdentity {
  return {
    type: 'router',
    ip,
    pod: 'ingressgateway-0',
    namespace: ISTIOD_NAMESPACE,
    network: federationNetwork(clusterId),
    labels: { app: 'ingressgateway', istio: 'ingressgateway' },
  };
}

/** Istio objects the module rendered (its namespace), as the API server stores them. */
export async function renderedIstioObjects(api: KubeApi): Promise<KubeObject[]> {
  const kinds = [
    ['networking.istio.io/v1', 'serviceentries'],
    ['networking.istio.io/v1', 'destinationrules'],
    ['networking.istio.io/v1', 'gateways'],
  ] as const;
  const out: KubeObject[] = [];
  for (const [apiVersion, plural] of kinds) {
    const items = await api.list(resourcePath(apiVersion, plural, { namespace: ISTIOD_NAMESPACE }));
    // Lists do not carry apiVersion/kind per item; the admission request needs them.
    const kind = { serviceentries: 'ServiceEntry', destinationrules: 'DestinationRule', gateways: 'Gateway' }[
      plural
    ];
    out.push(...items.map((o) => ({ ...o, apiVersion, kind })));
  }
  return out;
}

/** Every rendered Istio object through istiod's own /validate. */
export async function validateRenderedObjects(
  cluster: Cluster,
): Promise<{ object: string; result: ValidationResult }[]> {
  const results: { object: string; result: ValidationResult }[] = [];
  for (const object of await renderedIstioObjects(cluster.api)) {
    results.push({
      object: `${object.kind} ${object.metadata.name}`,
      result: await cluster.mesh.validate(object),
    });
  }
  return results;
}

/** What a sidecar needs for one port of an imported service, or why it is not (yet) there. */
export interface ImportedPortView {
  port: number;
  cluster: XdsCluster;
  endpoints: string[];
  sni: string | undefined;
  sanMatchers: string[];
  /** The Istio mTLS transport socket (undefined: the cluster does not do Istio mTLS). */
  mtls: XdsTransportSocket | undefined;
}

export function importedPortViews(
  summary: XdsSummary,
  hostname: string,
  ports: readonly { port: number }[],
): ImportedPortView[] | undefined {
  const views: ImportedPortView[] = [];
  for (const { port } of ports) {
    const cluster = clusterNamed(summary, outboundCluster(port, hostname));
    if (!cluster) return undefined;
    const mtls = istioMtls(cluster);
    views.push({
      port,
      cluster,
      endpoints: cluster.endpoints.map((e) => `${e.address}:${e.port}`),
      sni: mtls?.sni,
      sanMatchers: mtls?.sanMatchers ?? [],
      mtls,
    });
  }
  return views;
}

/** True when every port has an mTLS cluster to exactly `gateway` with Istio's SNI for that port. */
export function importedThroughGateway(
  views: readonly ImportedPortView[],
  hostname: string,
  gateway: string,
): boolean {
  return views.every(
    (v) => v.endpoints.length === 1 && v.endpoints[0] === gateway && v.sni === outboundSni(v.port, hostname),
  );
}

/** A's sidecar view of an imported host, once istiod programs it through the peer's gateway. */
export async function waitForImportInSidecar(
  importer: Cluster,
  proxy: ProxyIdentity,
  hostname: string,
  ports: readonly { port: number }[],
  gateway: string,
  timeoutMs: number,
): Promise<{ summary: XdsSummary; views: ImportedPortView[] }> {
  return waitForIstiodXds(
    importer.mesh,
    proxy,
    (summary) => {
      const views = importedPortViews(summary, hostname, ports);
      return views && importedThroughGateway(views, hostname, gateway) ? { summary, views } : undefined;
    },
    `outbound clusters for ${hostname} ports ${ports.map((p) => p.port).join(',')} via ${gateway}`,
    timeoutMs,
  );
}

export async function waitForImportGoneFromSidecar(
  importer: Cluster,
  proxy: ProxyIdentity,
  hostname: string,
  timeoutMs: number,
): Promise<XdsSummary> {
  return waitForIstiodXds(
    importer.mesh,
    proxy,
    (summary) => (summary.clusters.some((c) => c.name.endsWith(`||${hostname}`)) ? undefined : summary),
    `no outbound cluster for ${hostname}`,
    timeoutMs,
  );
}

/** The gateway's 15443 listener: the filter chain for the SNI of each port, and the cluster it reaches. */
export interface GatewayPortView {
  port: number;
  serverNames: string[];
  cluster: XdsCluster;
  endpoints: string[];
}

export function gatewayPortViews(
  summary: XdsSummary,
  tlsPort: number,
  hostname: string,
  ports: readonly { port: number }[],
): GatewayPortView[] | undefined {
  const listener = listenerOnPort(summary, tlsPort);
  if (!listener) return undefined;
  const views: GatewayPortView[] = [];
  for (const { port } of ports) {
    const sni = outboundSni(port, hostname);
    const chain = listener.filterChains.find((fc) => (fc.serverNames ?? []).includes(sni));
    const clusterName = chain?.clusters?.[0];
    const cluster = clusterName ? clusterNamed(summary, clusterName) : undefined;
    if (!chain || !cluster) return undefined;
    views.push({
      port,
      serverNames: chain.serverNames ?? [],
      cluster,
      endpoints: cluster.endpoints.map((e) => `${e.address}:${e.port}`),
    });
  }
  return views;
}

/** Whether the trust bundle istiod sends a proxy holds each root (by fingerprint). */
export function trustBundleHolds(summary: XdsSummary, roots: readonly string[]): boolean {
  const have = new Set(trustBundleFingerprints(summary));
  return roots.every((pem) => have.has(pemKey(pem)));
}
