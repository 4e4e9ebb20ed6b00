import type { Cluster } from './cluster';
import {
  clusterNamed,
  outboundCluster,
  waitForIstiodXds,
  type Istiod,
  type ProxyIdentity,
  type RemoteClusterInfo,
  type XdsSummary,
} from './istiod';
import { A_SIDECAR, trustBundleHolds } from './mesh';
import {
  createMulticlusters,
  describeMulticlusterRun,
  isMulticlusterReady,
  networkOf,
  readRemoteSecret,
  runRemoteService,
  startMulticlusterServers,
  waitForMulticluster,
  waitForRemoteSecret,
  type MulticlusterRun,
} from './multicluster';
import { STEP_TIMEOUT_MS } from './scenario';
import { pollUntil } from './wait';

/**
 * What istiod makes of a remote cluster (multicluster): its `/debug/clusterz` entry, the
 * remote's Services in `/debug/registryz`, the endpoints a sidecar gets, and how long a
 * remote service is missing while istiod swaps the remote cluster after its Secret changed.
 */

/** A `/debug/registryz` entry (Istio's model.Service), the parts read here. */
export interface RegistryService {
  hostname: string;
  clusterVIPs?: { Addresses?: Record<string, string[]> };
  ports?: { name?: string; port: number; protocol?: string }[];
  attributes?: { name?: string; namespace?: string };
}

/** The service of `hostname` as istiod's registry holds it, when known from cluster `clusterId`. */
export async function registryServiceFrom(
  istiod: Istiod,
  hostname: string,
  clusterId: string,
): Promise<RegistryService | undefined> {
  const services = (await istiod.debug<RegistryService[] | null>('registryz')) ?? [];
  return services.find((s) => s.hostname === hostname && clusterId in (s.clusterVIPs?.Addresses ?? {}));
}

export async function remoteCluster(istiod: Istiod, id: string): Promise<RemoteClusterInfo | undefined> {
  return (await istiod.remoteClusters()).find((c) => c.id === id);
}

/**
 * istiod's own time from taking the remote Secret to the remote cluster synced, from its log:
 * the first "Add cluster cluster=<id>" line to the first "cluster[<id>] synced" line.
 */
export function istiodAddToSyncedMs(istiod: Istiod, id: string): number | undefined {
  const at = (line: string | undefined) => (line ? Date.parse(line.split('\t', 1)[0] ?? '') : NaN);
  const added = at(istiod.logLines(`Add cluster\tcluster=${id} `)[0]);
  const synced = at(istiod.logLines(`name=cluster[${id}] synced`)[0]);
  return Number.isFinite(added) && Number.isFinite(synced) ? synced - added : undefined;
}

/** Polls A's istiod until the remote cluster `id` is `synced` (fine interval: it is measured). */
export async function waitForRemoteSynced(
  run: MulticlusterRun,
  importer: Cluster,
  id: string,
  timeoutMs: number,
  describe?: () => Promise<string>,
): Promise<RemoteClusterInfo> {
  return pollUntil(
    async () => {
      const entry = await remoteCluster(importer.mesh, id);
      return entry?.syncStatus === 'synced' ? entry : undefined;
    },
    {
      what: `${importer.spec.name} istiod: remote cluster ${id} synced in /debug/clusterz`,
      timeoutMs,
      intervalMs: 100,
      describe: async () =>
        [
          `clusterz: ${JSON.stringify(await importer.mesh.remoteClusters().catch(() => 'unreadable'))}`,
          `istiod log:\n${importer.mesh.logTail(30)}`,
          describe ? await describe() : '',
        ].join('\n'),
      abortIf: () => (importer.mesh.process.alive ? undefined : importer.mesh.process.describeExit()),
    },
  );
}

export async function waitForRegistryService(
  importer: Cluster,
  hostname: string,
  clusterId: string,
  timeoutMs: number,
): Promise<RegistryService> {
  return pollUntil(async () => registryServiceFrom(importer.mesh, hostname, clusterId), {
    what: `${importer.spec.name} istiod: ${hostname} from cluster ${clusterId} in /debug/registryz`,
    timeoutMs,
    intervalMs: 200,
    describe: () => importer.mesh.logTail(30),
  });
}

/** A sidecar of cluster-a on A's network, as the injector configures it (ISTIO_META_NETWORK). */
export const sidecarOf = (cluster: Cluster): ProxyIdentity => ({ ...A_SIDECAR, network: networkOf(cluster) });

/** The endpoints (`address:port`) of the outbound cluster for one port of `hostname`. */
export function outboundEndpoints(summary: XdsSummary, port: number, hostname: string): string[] | undefined {
  return clusterNamed(summary, outboundCluster(port, hostname))?.endpoints.map(
    (e) => `${e.address}:${e.port}`,
  );
}

/** A's sidecar gets `hostname` with exactly `endpoints` and the peer's root in its trust bundle. */
export async function waitForRemoteEndpoints(
  importer: Cluster,
  proxy: ProxyIdentity,
  hostname: string,
  port: number,
  endpoints: readonly string[],
  roots: readonly string[],
  timeoutMs: number,
): Promise<XdsSummary> {
  const wanted = JSON.stringify([...endpoints].sort());
  return waitForIstiodXds(
    importer.mesh,
    proxy,
    (summary) => {
      const got = outboundEndpoints(summary, port, hostname);
      return got && JSON.stringify(got.sort()) === wanted && trustBundleHolds(summary, roots)
        ? summary
        : undefined;
    },
    `EDS for ${outboundCluster(port, hostname)} = ${wanted}, trust bundle with the peer's root`,
    timeoutMs,
  );
}

export interface SwapMeasurement {
  /** Trigger -> the remote Secret's kubeconfig changed. */
  secretChangedMs: number;
  /** Secret changed -> istiod logged that the new remote cluster synced and the old one stopped. */
  swapMs: number;
  /** Total time the service was missing from istiod's registry, and in how many windows. */
  missingMs: number;
  missingWindows: number;
  samples: number;
  intervalMs: number;
  /** xDS reads of the sidecar meanwhile (back to back, each ~0.1 s), and those without the endpoint. */
  edsSamples: number;
  edsMissing: number;
}

/** What a sidecar must keep getting during the swap: this endpoint for this port of the host. */
export interface EdsProbe {
  proxy: ProxyIdentity;
  port: number;
  endpoint: string;
}

const SWAP_SAMPLE_MS = 50;
const EMPTY_XDS: XdsSummary = {
  node: '',
  complete: false,
  versions: {},
  clusters: [],
  listeners: [],
  routes: [],
};

/**
 * Runs `trigger` (something that makes the module reissue the remote Secret) and samples A's
 * istiod registry every 50 ms until the Secret has changed, istiod has swapped the remote
 * cluster (its "stopping previous cluster <id> after new cluster synced" log line: the new
 * client synced) and the service is there: how long the service was missing meanwhile. With
 * `eds`, a sidecar's xDS is read back to back meanwhile too (each read ~0.1 s, so coarser).
 */
export async function measureRemoteSwap(
  run: MulticlusterRun,
  importer: Cluster,
  id: string,
  hostname: string,
  trigger: () => Promise<void>,
  timeoutMs: number,
  eds?: EdsProbe,
): Promise<SwapMeasurement> {
  const swapLine = `stopping previous cluster ${id} after new cluster synced`;
  const before = await readRemoteSecret(importer.api, id);
  if (!before?.kubeconfig) throw new Error(`${importer.spec.name}: no remote Secret for ${id} to rotate`);
  const swapsBefore = importer.mesh.logLines(swapLine).length;
  const started = Date.now();
  await trigger();
  let changedAt: number | undefined;
  let swappedAt: number | undefined;
  let missingSince: number | undefined;
  const m = { missingMs: 0, missingWindows: 0, samples: 0, edsSamples: 0, edsMissing: 0 };
  let sampling = true;
  const edsLoop = (async () => {
    while (eds && sampling) {
      const summary = await importer.mesh.xds(eds.proxy).catch(() => undefined);
      if (!sampling) break;
      m.edsSamples++;
      if (!outboundEndpoints(summary ?? EMPTY_XDS, eds.port, hostname)?.includes(eds.endpoint))
        m.edsMissing++;
    }
  })();
  await pollUntil(
    async () => {
      const now = Date.now();
      m.samples++;
      const present = (await registryServiceFrom(importer.mesh, hostname, id)) !== undefined;
      if (!present && missingSince === undefined) {
        missingSince = now;
        m.missingWindows++;
      } else if (present && missingSince !== undefined) {
        m.missingMs += now - missingSince;
        missingSince = undefined;
      }
      if (changedAt === undefined) {
        const current = await readRemoteSecret(importer.api, id);
        if (current?.kubeconfig && current.kubeconfig !== before.kubeconfig) changedAt = Date.now();
      }
      if (changedAt !== undefined && swappedAt === undefined) {
        if (importer.mesh.logLines(swapLine).length > swapsBefore) swappedAt = Date.now();
      }
      return swappedAt !== undefined && present ? true : undefined;
    },
    {
      what: `${importer.spec.name}: remote Secret for ${id} changed, istiod swapped the cluster, ${hostname} present`,
      timeoutMs,
      intervalMs: SWAP_SAMPLE_MS,
      describe: async () =>
        `secret changed: ${changedAt !== undefined}, swapped: ${swappedAt !== undefined}\n` +
        `istiod log:\n${importer.mesh.logTail(30)}\n${run.a.operator.logTail(10)}`,
    },
  ).finally(() => {
    sampling = false;
  });
  await edsLoop;
  return {
    secretChangedMs: (changedAt ?? started) - started,
    swapMs: (swappedAt ?? 0) - (changedAt ?? 0),
    ...m,
    intervalMs: SWAP_SAMPLE_MS,
  };
}

/**
 * Steps 2-4 up to A's istiod synced with B (the demo; the test asserts each on its own):
 * servers up, bar in B, IstioMulticlusters both ways, Ready, the remote Secret, clusterz.
 * Records `remoteSyncedAfterCreationMs`.
 */
export async function joinClusters(run: MulticlusterRun): Promise<void> {
  await startMulticlusterServers(run);
  await runRemoteService(run);
  await createMulticlusters(run);
  await waitForRemoteSynced(run, run.a, 'cluster-b', STEP_TIMEOUT_MS, describeMulticlusterRun(run));
  run.figures.remoteSyncedAfterCreationMs = Date.now() - (run.marks.multiclustersCreated ?? Date.now());
  run.log(
    `cluster-a istiod: cluster-b synced ${run.figures.remoteSyncedAfterCreationMs} ms after the IstioMulticlusters were created`,
  );
  await waitForMulticluster(run, run.a, 'cluster-b', isMulticlusterReady, 'Ready and RemoteAPIReachable');
  await waitForMulticluster(run, run.b, 'cluster-a', isMulticlusterReady, 'Ready and RemoteAPIReachable');
  await waitForRemoteSecret(run, run.a, 'cluster-b');
  run.log('both IstioMulticlusters Ready, remote APIs reachable');
  // Read late: istiod logs "synced" just after clusterz says so.
  const istiodPart = istiodAddToSyncedMs(run.a.mesh, 'cluster-b');
  if (istiodPart !== undefined) run.figures.istiodAddToSyncedMs = istiodPart;
}
