import { randomUUID, X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { toPem } from '../../lib/pki/ca-certificates';
import { Cluster, MODULE_NAMESPACE, type ClusterSpec, type Log } from './cluster';
import { startEtcd, type Etcd } from './control-plane';
import { ApiError, resourcePath, type KubeApi, type KubeObject } from './kube-api';
import { runWorkload, type Workload } from './mesh';
import { removeOnInterrupt, stopAll } from './processes';
import { ensureUpstreamTools, missingBuildOutputs } from './tools';
import { pollUntil } from './wait';

/**
 * The federation story on two local clusters, as steps shared by the end-to-end test and
 * the demo. Every wait is a bounded poll of the API that fails with the objects' state
 * and the operators' log tails.
 */

export const STEP_TIMEOUT_MS = 120_000;

export const PUBLIC_LABEL = 'federation.istio.deckhouse.io/public-service';
export const IMPORTED_LABEL = 'federation.istio.deckhouse.io/imported=true';
/** Gateway addresses are data only (no traffic): documentation ranges, as a cloud would assign. */
export const B_LOAD_BALANCER_IP = '203.0.113.20';
export const A_ADVERTISED = { address: '198.51.100.10', port: 15443 };
export const GATEWAY_TLS_PORT = 15443;

export const BAR = { namespace: 'xyz', name: 'bar', hostname: 'bar.xyz.svc.cluster-b.local' };
export const FOO = { namespace: 'abc', name: 'foo', hostname: 'foo.abc.svc.cluster-a.local' };
/** A public Service in B whose pod has no sidecar: unreachable through the gateway, so not exported. */
export const PLAIN = { namespace: 'xyz', name: 'plain', hostname: 'plain.xyz.svc.cluster-b.local' };

export const FEDERATIONS_PATH = resourcePath('deckhouse.io/v1alpha1', 'istiofederations');
export const federationPath = (name: string): string =>
  resourcePath('deckhouse.io/v1alpha1', 'istiofederations', { name });

export interface Condition {
  type: string;
  status: string;
  reason: string;
  message: string;
  lastTransitionTime: string;
}

export interface FederationObject extends KubeObject {
  spec: { trustDomain: string; metadataEndpoint: string };
  status?: {
    conditions?: Condition[];
    importedServices?: number;
    lastError?: string;
    rejectedItems?: string[];
    metadataCache?: {
      public?: { clusterUUID?: string };
      private?: unknown;
      privateLastFetchTimestamp?: string;
    };
  };
}

export interface ServiceEntryObject extends KubeObject {
  spec: {
    hosts: string[];
    resolution: string;
    location?: string;
    ports: { number: number; name: string; protocol: string }[];
    endpoints: { address: string; ports?: Record<string, number> }[];
    subjectAltNames?: string[];
  };
}

export interface FederationRun {
  runDir: string;
  etcd: Etcd;
  a: Cluster;
  b: Cluster;
  log: Log;
  /** Named instants (Date.now()) and durations (ms) measured along the way. */
  marks: Record<string, number>;
  figures: Record<string, number>;
}

// ------------------------------------------------------------------ reading state

export async function getFederation(api: KubeApi, name: string): Promise<FederationObject | undefined> {
  return api.get<FederationObject>(federationPath(name));
}

export function condition(f: FederationObject | undefined, type: string): Condition | undefined {
  return f?.status?.conditions?.find((c) => c.type === type);
}

export async function importedServiceEntries(api: KubeApi): Promise<ServiceEntryObject[]> {
  return api.list<ServiceEntryObject>(
    resourcePath('networking.istio.io/v1', 'serviceentries', { namespace: MODULE_NAMESPACE }),
    IMPORTED_LABEL,
  );
}

export async function serviceEntryFor(
  api: KubeApi,
  hostname: string,
): Promise<ServiceEntryObject | undefined> {
  return (await importedServiceEntries(api)).find((se) => se.spec.hosts.includes(hostname));
}

interface DestinationRuleObject extends KubeObject {
  spec: { host: string; trafficPolicy?: { tls?: { mode?: string } } };
}

function hostMatches(pattern: string, hostname: string): boolean {
  return pattern === hostname || (pattern.startsWith('*.') && hostname.endsWith(pattern.slice(1)));
}

export async function destinationRuleFor(
  api: KubeApi,
  hostname: string,
): Promise<DestinationRuleObject | undefined> {
  const rules = await api.list<DestinationRuleObject>(
    resourcePath('networking.istio.io/v1', 'destinationrules', { namespace: MODULE_NAMESPACE }),
  );
  return rules.find((r) => hostMatches(r.spec.host, hostname));
}

export interface TrustEntry {
  pem: string;
  trustDomains: string[];
}

/** The mesh-config caCertificates the module renders for istiod. */
export async function trustedRoots(api: KubeApi): Promise<TrustEntry[]> {
  const cm = await api.get<{ data?: { mesh?: string } }>(
    resourcePath('v1', 'configmaps', {
      namespace: MODULE_NAMESPACE,
      name: 'd8-istio-federation-mesh-config',
    }),
  );
  const mesh = cm?.data?.mesh;
  if (!mesh) return [];
  return ((parseYaml(mesh) as { caCertificates?: TrustEntry[] } | null)?.caCertificates ?? []).map((e) => ({
    pem: e.pem,
    trustDomains: e.trustDomains,
  }));
}

export async function printerColumns(
  api: KubeApi,
): Promise<{ columns: string[]; rows: Record<string, unknown>[] }> {
  const table = await api.table(FEDERATIONS_PATH);
  return {
    columns: table.columns,
    rows: table.rows.map((cells) => Object.fromEntries(table.columns.map((c, i) => [c, cells[i]]))),
  };
}

/** Everything relevant about one cluster's federation state, for failure messages. */
export async function describeCluster(cluster: Cluster): Promise<string> {
  const api = cluster.api;
  const parts: string[] = [`==== ${cluster.spec.name}`];
  try {
    const federations = await api.list<FederationObject>(FEDERATIONS_PATH);
    for (const f of federations) {
      parts.push(
        `IstioFederation ${f.metadata.name} status: ${JSON.stringify({ ...f.status, metadataCache: undefined })}`,
      );
    }
    const entries = await importedServiceEntries(api);
    parts.push(
      `ServiceEntries: ${JSON.stringify(entries.map((e) => ({ name: e.metadata.name, spec: e.spec })))}`,
    );
  } catch (error) {
    parts.push(`(API read failed: ${error instanceof Error ? error.message : String(error)})`);
  }
  parts.push(cluster.diagnostics());
  return parts.join('\n');
}

export function describeRun(run: FederationRun): () => Promise<string> {
  return async () => [await describeCluster(run.a), await describeCluster(run.b)].join('\n');
}

function abortIfOperatorsDied(run: FederationRun): () => string | undefined {
  return () => run.a.operator.describeExit() ?? run.b.operator.describeExit();
}

// ------------------------------------------------------------------ step 1

export interface StartOptions {
  log: Log;
  /** Keep the run directory (logs) after stopping. */
  keepRunDir?: boolean;
}

/**
 * etcd and two clusters (started side by side) in a fresh run directory: the start of every
 * scenario of this harness (federation here, multicluster in multicluster.ts).
 */
export async function startTwoClusters(
  specs: readonly [ClusterSpec, ClusterSpec],
  options: StartOptions & { runDirPrefix: string },
): Promise<FederationRun> {
  const { log } = options;
  const missing = missingBuildOutputs();
  if (missing.length) throw new Error(`build output missing (run \`npm run build\`): ${missing.join(', ')}`);
  const tools = await ensureUpstreamTools(log);
  const runDir = mkdtempSync(join(tmpdir(), options.runDirPrefix));
  removeOnInterrupt(runDir, !options.keepRunDir);
  log(`run directory (logs, certificates): ${runDir}`);
  const etcd = await startEtcd(tools.etcd, runDir);
  log(`etcd ready at ${etcd.url}`);
  const [a, b] = await Promise.all(specs.map((spec) => Cluster.start(spec, tools, etcd.url, runDir, log)));
  return { runDir, etcd, a: a!, b: b!, log, marks: { started: Date.now() }, figures: {} };
}

/** Step 1: etcd and two clusters with distinct domains and UUIDs; federation is on in A only. */
export async function startClusters(options: StartOptions): Promise<FederationRun> {
  return startTwoClusters(
    [
      {
        name: 'cluster-a',
        clusterDomain: 'cluster-a.local',
        clusterUUID: randomUUID(),
        serviceCidr: '10.111.0.0/24',
        // A publishes an explicit gateway address (behind NAT, say): `advertise`.
        settings: {
          federation: { enabled: true },
          alliance: { ingressGateway: { inlet: 'LoadBalancer', advertise: [A_ADVERTISED] } },
        },
      },
      {
        name: 'cluster-b',
        clusterDomain: 'cluster-b.local',
        clusterUUID: randomUUID(),
        serviceCidr: '10.222.0.0/24',
        // B starts with federation disabled (the admission check of step 2), then enables it;
        // its gateway address is discovered from the LoadBalancer status the harness writes.
        settings: { federation: { enabled: false }, alliance: { ingressGateway: { inlet: 'LoadBalancer' } } },
        loadBalancerIPs: [B_LOAD_BALANCER_IP],
      },
    ],
    { ...options, runDirPrefix: 'istio-federation-e2e-' },
  );
}

export async function stopRun(run: FederationRun | undefined, keepRunDir = false): Promise<void> {
  if (run) {
    await Promise.allSettled([run.a.stop(), run.b.stop()]);
    await run.etcd.process.stop();
  }
  await stopAll();
  if (run) removeOnInterrupt(run.runDir, false);
  if (run && !keepRunDir) rmSync(run.runDir, { recursive: true, force: true });
}

// ------------------------------------------------------------------ step 2

const federationObject = (name: string, trustDomain: string, endpoint: string, ca: string): KubeObject => ({
  apiVersion: 'deckhouse.io/v1alpha1',
  kind: 'IstioFederation',
  metadata: { name },
  spec: { trustDomain, metadataEndpoint: endpoint, metadata: { ca } },
});

/**
 * With federation disabled, creating an IstioFederation is refused by the module's
 * ValidatingAdmissionPolicy. Polls: the policy binds once the module has rendered it and
 * the API server's admission informer has seen it. Returns the refusal message.
 */
export async function expectFederationRefused(cluster: Cluster): Promise<string> {
  const probe = federationObject('probe', 'cluster-x.local', 'https://127.0.0.1:1/metadata/', '');
  return pollUntil(
    async () => {
      const outcome = await dryRunCreate(cluster.api, probe);
      return outcome.admitted ? undefined : outcome.message;
    },
    {
      what: `${cluster.spec.name}: IstioFederation creation refused while federation is disabled`,
      timeoutMs: STEP_TIMEOUT_MS,
      describe: () => cluster.diagnostics(),
      abortIf: () => cluster.operator.describeExit(),
    },
  );
}

/**
 * Server-side dry run of creating an IstioFederation: admission runs, nothing is stored.
 * The API server applies a policy change once its admission informer has seen it, so both
 * "refused" and "admitted again" are polled for.
 */
async function dryRunCreate(
  api: KubeApi,
  object: KubeObject,
): Promise<{ admitted: boolean; message: string }> {
  try {
    await api.create(`${FEDERATIONS_PATH}?dryRun=All`, object);
    return { admitted: true, message: '' };
  } catch (error) {
    if (error instanceof ApiError && (error.status === 403 || error.status === 422)) {
      const message = (JSON.parse(error.body) as { message?: string }).message ?? error.body;
      if (message.includes('federation is disabled')) return { admitted: false, message };
    }
    throw error;
  }
}

export const FEDERATION_OBJECTS = [
  {
    what: 'Deployment ingressgateway',
    path: resourcePath('apps/v1', 'deployments', { namespace: MODULE_NAMESPACE, name: 'ingressgateway' }),
  },
  {
    what: 'Service ingressgateway',
    path: resourcePath('v1', 'services', { namespace: MODULE_NAMESPACE, name: 'ingressgateway' }),
  },
  {
    what: 'Gateway ingressgateway',
    path: resourcePath('networking.istio.io/v1', 'gateways', {
      namespace: MODULE_NAMESPACE,
      name: 'ingressgateway',
    }),
  },
  {
    what: 'Deployment metadata-exporter',
    path: resourcePath('apps/v1', 'deployments', { namespace: MODULE_NAMESPACE, name: 'metadata-exporter' }),
  },
  {
    what: 'Service metadata-exporter',
    path: resourcePath('v1', 'services', { namespace: MODULE_NAMESPACE, name: 'metadata-exporter' }),
  },
  {
    what: 'Ingress metadata-exporter',
    path: resourcePath('networking.k8s.io/v1', 'ingresses', {
      namespace: MODULE_NAMESPACE,
      name: 'metadata-exporter',
    }),
  },
  {
    what: 'Secret d8-istio-federation-documents',
    path: resourcePath('v1', 'secrets', {
      namespace: MODULE_NAMESPACE,
      name: 'd8-istio-federation-documents',
    }),
  },
  {
    what: 'Secret d8-remote-authn-keypair',
    path: resourcePath('v1', 'secrets', { namespace: MODULE_NAMESPACE, name: 'd8-remote-authn-keypair' }),
  },
] as const;

/** Waits until every federation object exists; returns how long it took. */
export async function waitForFederationObjects(cluster: Cluster): Promise<number> {
  const started = Date.now();
  for (const object of FEDERATION_OBJECTS) {
    await pollUntil(async () => ((await cluster.api.get(object.path)) ? true : undefined), {
      what: `${cluster.spec.name}: ${object.what} rendered by the module`,
      timeoutMs: STEP_TIMEOUT_MS,
      describe: () => cluster.diagnostics(),
      abortIf: () => cluster.operator.describeExit(),
    });
  }
  return Date.now() - started;
}

export const DISABLED_POLICY_PATH = resourcePath(
  'admissionregistration.k8s.io/v1',
  'validatingadmissionpolicies',
  {
    name: 'd8-istio-federation-disabled',
  },
);

/** Step 2: refusal while disabled (B), then federation on in both, objects rendered, exporters up. */
export async function enableFederation(run: FederationRun): Promise<{ refusal: string }> {
  const { a, b, log } = run;
  const refusal = await expectFederationRefused(b);
  log(`cluster-b (federation disabled): IstioFederation refused: "${refusal}"`);
  await b.configure({ ...b.spec.settings, federation: { enabled: true } });
  log('cluster-b: federation enabled in the addon-operator ConfigMap');
  const [tookA, tookB] = await Promise.all([waitForFederationObjects(a), waitForFederationObjects(b)]);
  log(`federation objects rendered (cluster-a ${tookA} ms, cluster-b ${tookB} ms after the check began)`);
  await pollUntil(async () => ((await b.api.get(DISABLED_POLICY_PATH)) ? undefined : true), {
    what: 'cluster-b: the federation-disabled admission policy removed once federation is enabled',
    timeoutMs: STEP_TIMEOUT_MS,
    describe: () => b.diagnostics(),
  });
  const probe = federationObject('probe', 'cluster-x.local', 'https://127.0.0.1:1/metadata/', '');
  await pollUntil(async () => ((await dryRunCreate(b.api, probe)).admitted ? true : undefined), {
    what: 'cluster-b: IstioFederation admitted (dry run) once federation is enabled',
    timeoutMs: STEP_TIMEOUT_MS,
    describe: () => b.diagnostics(),
  });
  await Promise.all([a.startExporter(STEP_TIMEOUT_MS), b.startExporter(STEP_TIMEOUT_MS)]);
  log(`metadata exporters: cluster-a ${a.exporter.endpoint}, cluster-b ${b.exporter.endpoint}`);
  return { refusal };
}

// ------------------------------------------------------------------ step 3

export function publicService(
  svc: { namespace: string; name: string },
  ports: { name: string; port: number }[],
): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: svc.name, namespace: svc.namespace, labels: { [PUBLIC_LABEL]: '' } },
    spec: {
      selector: { app: svc.name },
      ports: ports.map((p) => ({ name: p.name, port: p.port, targetPort: p.port, protocol: 'TCP' })),
    },
  };
}

export const BAR_PORTS = [
  { name: 'http', port: 8080 },
  { name: 'grpc-api', port: 9090 },
];
export const FOO_PORTS = [{ name: 'http', port: 80 }];

/** bar's pod in cluster-b: sidecar-injected, so B's gateway routes to it (istiod requires the tlsMode label). */
export const BAR_WORKLOAD: Workload = {
  namespace: BAR.namespace,
  service: BAR.name,
  pod: 'bar-0',
  ip: '10.22.1.5',
  serviceAccount: 'bar',
  ports: BAR_PORTS,
  injected: true,
};

/** foo's pod in cluster-a: injected too (only in-mesh Services are exported). */
export const FOO_WORKLOAD: Workload = {
  namespace: FOO.namespace,
  service: FOO.name,
  pod: 'foo-0',
  ip: '10.11.1.8',
  serviceAccount: 'foo',
  ports: FOO_PORTS,
  injected: true,
};

/** plain's pod in cluster-b: no sidecar. */
export const PLAIN_WORKLOAD: Workload = {
  namespace: PLAIN.namespace,
  service: PLAIN.name,
  pod: 'plain-0',
  ip: '10.22.1.6',
  serviceAccount: 'plain',
  ports: FOO_PORTS,
  injected: false,
};

/** The SPIFFE identity of a workload in a cluster's trust domain (what istiod puts in its certificate). */
export const spiffeOf = (trustDomain: string, w: Workload): string =>
  `spiffe://${trustDomain}/ns/${w.namespace}/sa/${w.serviceAccount}`;

async function ensureNamespace(api: KubeApi, name: string): Promise<void> {
  await api.apply(resourcePath('v1', 'namespaces', { name }), {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name },
  });
}

/**
 * Step 3: public Service bar in B with its (injected) pod and endpoints, and foo in A, so
 * that B imports through A's advertised gateway.
 */
export async function publishServices(run: FederationRun): Promise<void> {
  await ensureNamespace(run.b.api, BAR.namespace);
  await ensureNamespace(run.a.api, FOO.namespace);
  // Before bar: the discovery run that exports bar (after bar's pod) has seen plain and its
  // pod, so "A imports exactly bar" proves plain was not exported.
  await run.b.api.create(
    resourcePath('v1', 'services', { namespace: PLAIN.namespace }),
    publicService(PLAIN, FOO_PORTS),
  );
  await runWorkload(run.b.api, PLAIN_WORKLOAD);
  run.marks.barPublished = Date.now();
  await run.b.api.create(
    resourcePath('v1', 'services', { namespace: BAR.namespace }),
    publicService(BAR, BAR_PORTS),
  );
  await run.a.api.create(
    resourcePath('v1', 'services', { namespace: FOO.namespace }),
    publicService(FOO, FOO_PORTS),
  );
  await runWorkload(run.b.api, BAR_WORKLOAD);
  await runWorkload(run.a.api, FOO_WORKLOAD);
  run.log(
    `cluster-b: Service ${BAR.namespace}/${BAR.name} labelled ${PUBLIC_LABEL} (and ${PLAIN.namespace}/${PLAIN.name}, not injected); cluster-a: ${FOO.namespace}/${FOO.name}`,
  );
}

// ------------------------------------------------------------------ step 4

/** Step 4: each cluster federates with the other (endpoint and test CA of the peer's exporter). */
export async function createFederations(run: FederationRun): Promise<void> {
  const { a, b } = run;
  await a.api.create(
    FEDERATIONS_PATH,
    federationObject('cluster-b', b.spec.clusterDomain, b.exporter.endpoint, b.exporter.caPem),
  );
  await b.api.create(
    FEDERATIONS_PATH,
    federationObject('cluster-a', a.spec.clusterDomain, a.exporter.endpoint, a.exporter.caPem),
  );
  run.marks.federationsCreated = Date.now();
  run.log('IstioFederation cluster-b created in cluster-a, cluster-a in cluster-b');
}

// ------------------------------------------------------------------ step 5

export interface ImportExpectation {
  hostname: string;
  ports: { name: string; port: number }[];
  gateways: { address: string; port: number }[];
}

/** Waits for the ServiceEntry of `expected.hostname` with exactly the expected ports and endpoints. */
export async function waitForImportedService(
  run: FederationRun,
  importer: Cluster,
  expected: ImportExpectation,
  timeoutMs = STEP_TIMEOUT_MS,
): Promise<ServiceEntryObject> {
  const wantedPorts = JSON.stringify(expected.ports.map((p) => [p.port, p.name]).sort());
  const wantedEndpoints = JSON.stringify(expected.gateways.map((g) => g.address).sort());
  return pollUntil(
    async () => {
      const se = await serviceEntryFor(importer.api, expected.hostname);
      if (!se) return undefined;
      const ports = JSON.stringify(se.spec.ports.map((p) => [p.number, p.name]).sort());
      const endpoints = JSON.stringify(se.spec.endpoints.map((e) => e.address).sort());
      return ports === wantedPorts && endpoints === wantedEndpoints ? se : undefined;
    },
    {
      what: `${importer.spec.name}: ServiceEntry for ${expected.hostname} with ports ${wantedPorts} via gateways ${wantedEndpoints}`,
      timeoutMs,
      describe: describeRun(run),
      abortIf: abortIfOperatorsDied(run),
    },
  );
}

export async function waitForServiceEntryGone(
  run: FederationRun,
  importer: Cluster,
  hostname: string,
  timeoutMs = STEP_TIMEOUT_MS,
): Promise<void> {
  await pollUntil(async () => ((await serviceEntryFor(importer.api, hostname)) ? undefined : true), {
    what: `${importer.spec.name}: no ServiceEntry for ${hostname}`,
    timeoutMs,
    describe: describeRun(run),
    abortIf: abortIfOperatorsDied(run),
  });
}

export async function waitForCondition(
  run: FederationRun,
  cluster: Cluster,
  federation: string,
  test: (f: FederationObject) => boolean,
  what: string,
  timeoutMs = STEP_TIMEOUT_MS,
): Promise<FederationObject> {
  return pollUntil(
    async () => {
      const f = await getFederation(cluster.api, federation);
      return f && test(f) ? f : undefined;
    },
    {
      what: `${cluster.spec.name}: IstioFederation ${federation}: ${what}`,
      timeoutMs,
      describe: describeRun(run),
      abortIf: abortIfOperatorsDied(run),
    },
  );
}

export const isReady = (f: FederationObject): boolean => condition(f, 'Ready')?.status === 'True';

export interface ImportResult {
  barEntry: ServiceEntryObject;
  fooEntry: ServiceEntryObject;
  barRule: DestinationRuleObject;
  trustInA: TrustEntry;
  trustInB: TrustEntry;
  federationInA: FederationObject;
  federationInB: FederationObject;
  tableInA: Record<string, unknown>;
  tableInB: Record<string, unknown>;
}

/** Step 5: A imports bar (B's load-balancer gateway), B imports foo (A's advertised gateway); trust; Ready. */
export async function waitForImports(run: FederationRun): Promise<ImportResult> {
  const { a, b } = run;
  const barEntry = await waitForImportedService(run, a, {
    hostname: BAR.hostname,
    ports: BAR_PORTS,
    gateways: [{ address: B_LOAD_BALANCER_IP, port: GATEWAY_TLS_PORT }],
  });
  run.figures.barImportMs = Date.now() - (run.marks.barPublished ?? Date.now());
  run.figures.barImportAfterFederationMs = Date.now() - (run.marks.federationsCreated ?? Date.now());
  run.log(
    `cluster-a: ServiceEntry ${barEntry.metadata.name} for ${BAR.hostname} appeared ${run.figures.barImportMs} ms after bar was published`,
  );
  const fooEntry = await waitForImportedService(run, b, {
    hostname: FOO.hostname,
    ports: FOO_PORTS,
    gateways: [A_ADVERTISED],
  });
  const barRule = await pollUntil(
    async () => {
      const rule = await destinationRuleFor(a.api, BAR.hostname);
      return rule?.spec.trafficPolicy?.tls?.mode === 'ISTIO_MUTUAL' ? rule : undefined;
    },
    {
      what: `cluster-a: DestinationRule with ISTIO_MUTUAL for ${BAR.hostname}`,
      timeoutMs: STEP_TIMEOUT_MS,
      describe: describeRun(run),
    },
  );
  const trustOf = async (importer: Cluster, peer: Cluster): Promise<TrustEntry> =>
    pollUntil(
      async () =>
        (await trustedRoots(importer.api)).find(
          // Trust holds the peer's root re-encoded from its DER (issue 10 item 4), not its text.
          (e) =>
            e.trustDomains.includes(peer.spec.clusterDomain) &&
            e.pem === toPem(new X509Certificate(peer.rootCAPem).raw),
        ),
      {
        what: `${importer.spec.name}: mesh trust config holds ${peer.spec.name}'s root CA for ${peer.spec.clusterDomain}`,
        timeoutMs: STEP_TIMEOUT_MS,
        describe: describeRun(run),
      },
    );
  const [trustInA, trustInB] = [await trustOf(a, b), await trustOf(b, a)];
  const federationInA = await waitForCondition(run, a, 'cluster-b', isReady, 'Ready=True');
  const federationInB = await waitForCondition(run, b, 'cluster-a', isReady, 'Ready=True');
  const tableRow = async (cluster: Cluster, name: string): Promise<Record<string, unknown>> =>
    pollUntil(
      async () => {
        const row = (await printerColumns(cluster.api)).rows.find((r) => r.Name === name);
        return row?.Ready === 'True' ? row : undefined;
      },
      {
        what: `${cluster.spec.name}: printer column Ready=True for ${name}`,
        timeoutMs: STEP_TIMEOUT_MS,
        describe: describeRun(run),
      },
    );
  const tableInA = await tableRow(a, 'cluster-b');
  const tableInB = await tableRow(b, 'cluster-a');
  return {
    barEntry,
    fooEntry,
    barRule,
    trustInA,
    trustInB,
    federationInA,
    federationInB,
    tableInA,
    tableInB,
  };
}

/** Steps 1-5 (the demo, and the first half of the e2e test). */
export async function runSteps1To5(run: FederationRun): Promise<{ refusal: string; imports: ImportResult }> {
  const { refusal } = await enableFederation(run);
  await publishServices(run);
  await createFederations(run);
  const imports = await waitForImports(run);
  return { refusal, imports };
}
