import type { Cluster } from './cluster';
import { httpGet } from './http';
import type { ProxyIdentity } from './istiod';
import { resourcePath } from './kube-api';
import {
  MULTICLUSTERS_PATH,
  REMOTE,
  describeMulticlusterRun,
  multiclusterCondition,
  multiclusterObject,
  multiclusterPath,
  readRemoteSecret,
  remoteSecretName,
  type MulticlusterObject,
  type MulticlusterRun,
} from './multicluster';
import { PEERS_KEY, PEERS_SECRET, API_PROXY_NAMESPACE } from './api-proxy';
import { outboundEndpoints, registryServiceFrom, remoteCluster } from './remote-mesh';
import { STEP_TIMEOUT_MS } from './scenario';
import { pollUntil } from './wait';

/**
 * One side of a multicluster pair forgets the other (its IstioMulticluster deleted) and later
 * learns it again: what the forgotten side's istiod does meanwhile is sampled here, never
 * asserted (the test asserts the module's part: peers Secret, 401, the forgotten side's
 * watches ended by the api-proxy, conditions, cache).
 */

/** The clusterUUIDs in a cluster's rendered api-proxy peers Secret (what its kubelet would mount). */
export async function renderedProxyPeers(cluster: Cluster): Promise<string[]> {
  const secret = await cluster.api.get<{ data?: Record<string, string> }>(
    resourcePath('v1', 'secrets', { namespace: API_PROXY_NAMESPACE, name: PEERS_SECRET }),
  );
  const encoded = secret?.data?.[PEERS_KEY];
  if (encoded === undefined) throw new Error(`${cluster.spec.name}: Secret ${PEERS_SECRET} not rendered`);
  return Object.keys(JSON.parse(Buffer.from(encoded, 'base64').toString('utf8')) as object).sort();
}

/** One sample (`name{labels}`, labels as the exposition prints them) of a cluster's api-proxy metrics. */
async function proxyMetric(cluster: Cluster, series: string): Promise<number> {
  const res = await httpGet(`https://${cluster.proxy.address}/metrics`, {
    ca: cluster.ingressPki.ca.certPem,
  });
  const line = res.body.split('\n').find((l) => l.startsWith(`${series} `));
  return Number(line?.split(/\s+/).pop() ?? NaN);
}

/** Watch streams open in a cluster's api-proxy now (its `d8_istio_api_proxy_active_watches`). */
export const proxyActiveWatches = (cluster: Cluster): Promise<number> =>
  proxyMetric(cluster, 'd8_istio_api_proxy_active_watches');

/** In-flight requests a cluster's api-proxy ended because their peer was removed from its peers file. */
export const proxyRequestsEndedForRemovedPeers = (cluster: Cluster): Promise<number> =>
  proxyMetric(cluster, 'd8_istio_api_proxy_revoked_requests_total{reason="peer-removed"}');

export async function deleteMulticluster(cluster: Cluster, name: string): Promise<void> {
  await cluster.api.delete(multiclusterPath(name));
}

export async function recreateMulticluster(cluster: Cluster, name: string, peer: Cluster): Promise<void> {
  await cluster.api.create(MULTICLUSTERS_PATH, multiclusterObject(name, peer));
}

/** The first time each named predicate held on an IstioMulticluster, relative to `since`. */
export class FirstSeen {
  readonly at: Record<string, number> = {};

  constructor(
    private readonly since: number,
    private readonly tests: Record<string, (m: MulticlusterObject) => boolean>,
  ) {}

  note(m: MulticlusterObject | undefined): void {
    if (!m) return;
    for (const [name, test] of Object.entries(this.tests)) {
      if (this.at[name] === undefined && test(m)) this.at[name] = Date.now() - this.since;
    }
  }

  /** Whether every predicate holds on `m` now. */
  all(m: MulticlusterObject): boolean {
    return Object.values(this.tests).every((test) => test(m));
  }
}

export const conditionIs =
  (type: string, status: string, reason?: string) =>
  (m: MulticlusterObject): boolean => {
    const c = multiclusterCondition(m, type);
    return c?.status === status && (reason === undefined || c.reason === reason);
  };

/** What the forgotten side's istiod showed while sampled (`RevokeObserver`). */
export interface IstiodObservation {
  samples: number;
  /** Every syncStatus clusterz gave the remote (`absent` when it had no entry). */
  clusterzStatuses: string[];
  clusterzNotSynced: number;
  /** Samples without the host from that remote in /debug/registryz. */
  registryMissing: number;
  /** Samples whose sidecar EDS lacked the remote's gateway for the host. */
  edsMissing: number;
  intervalMs: number;
}

const OBSERVE_INTERVAL_MS = 250;

/**
 * Samples an istiod's view of remote `id` (clusterz, registryz for `hostname`, a sidecar's EDS
 * for `endpoint`) every 250 ms until `stop()`: a bounded poll that runs alongside the test's
 * own waits (it never decides when the test goes on).
 */
export class RevokeObserver {
  private stopped = false;
  private readonly statuses = new Set<string>();
  private readonly counts = { samples: 0, clusterzNotSynced: 0, registryMissing: 0, edsMissing: 0 };
  private readonly loop: Promise<unknown>;

  constructor(
    importer: Cluster,
    id: string,
    hostname: string,
    eds: { proxy: ProxyIdentity; port: number; endpoint: string },
    maxMs: number,
  ) {
    this.loop = pollUntil(
      async () => {
        if (this.stopped) return true;
        const status = (await remoteCluster(importer.mesh, id))?.syncStatus ?? 'absent';
        const present = (await registryServiceFrom(importer.mesh, hostname, id)) !== undefined;
        const summary = await importer.mesh.xds(eds.proxy);
        if (this.stopped) return true;
        this.counts.samples++;
        this.statuses.add(status);
        if (status !== 'synced') this.counts.clusterzNotSynced++;
        if (!present) this.counts.registryMissing++;
        if (!outboundEndpoints(summary, eds.port, hostname)?.includes(eds.endpoint)) this.counts.edsMissing++;
        return undefined;
      },
      {
        what: `${importer.spec.name} istiod's view of ${id} sampled`,
        timeoutMs: maxMs,
        intervalMs: OBSERVE_INTERVAL_MS,
      },
    ).catch(() => undefined);
  }

  async stop(): Promise<IstiodObservation> {
    this.stopped = true;
    await this.loop;
    return { ...this.counts, clusterzStatuses: [...this.statuses].sort(), intervalMs: OBSERVE_INTERVAL_MS };
  }
}

/** Fetch-hook reasons as an admin reads them: `Type=Status/Reason` for each condition. */
export function conditionLine(m: MulticlusterObject | undefined): string {
  return (m?.status?.conditions ?? []).map((c) => `${c.type}=${c.status}/${c.reason}`).join(', ');
}

/** How often istiod rebuilt remote `id` after a Secret change (its log). */
export const clusterRebuilds = (importer: Cluster, id: string): number =>
  importer.mesh.logLines(`Update cluster\tcluster=${id} `).length;

export async function waitForRemoteSecretGone(
  run: MulticlusterRun,
  cluster: Cluster,
  name: string,
): Promise<void> {
  await pollUntil(async () => ((await readRemoteSecret(cluster.api, name)) ? undefined : true), {
    what: `${cluster.spec.name}: Secret ${remoteSecretName(name)} deleted`,
    timeoutMs: STEP_TIMEOUT_MS,
    describe: describeMulticlusterRun(run),
  });
}

/** A Service B creates after refusing A, looked for in A's registry: whether A's istiod still follows B. */
const LATE = {
  namespace: REMOTE.namespace,
  name: 'late',
  hostname: `late.${REMOTE.namespace}.svc.cluster.local`,
};
const LATE_LOOK_MS = 5_000;

/**
 * Creates Service `late` in B, looks for it (from cluster-b) in A's /debug/registryz for
 * 5 s (before the cut it showed up within 2-64 ms), deletes it: the time it took to show up, or undefined. An observation, not a wait
 * the test depends on.
 */
export async function observeLateService(run: MulticlusterRun): Promise<number | undefined> {
  const path = resourcePath('v1', 'services', { namespace: LATE.namespace });
  await run.b.api.create(path, {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: LATE.name, namespace: LATE.namespace },
    spec: { ports: [{ name: 'http', port: 80 }] },
  });
  const created = Date.now();
  try {
    return await pollUntil(
      async () =>
        (await registryServiceFrom(run.a.mesh, LATE.hostname, 'cluster-b'))
          ? Date.now() - created
          : undefined,
      { what: `${LATE.hostname} in cluster-a's registry`, timeoutMs: LATE_LOOK_MS, intervalMs: 200 },
    ).catch(() => undefined);
  } finally {
    await run.b.api.delete(resourcePath('v1', 'services', { namespace: LATE.namespace, name: LATE.name }));
  }
}

/** One line: A's istiod's clusterz entry for cluster-b, bar in its registry, bar's EDS for a sidecar. */
export async function istiodRevocationView(
  run: MulticlusterRun,
  eds: { proxy: ProxyIdentity; port: number },
): Promise<string> {
  const entry = await remoteCluster(run.a.mesh, 'cluster-b');
  const svc = await registryServiceFrom(run.a.mesh, REMOTE.hostname, 'cluster-b');
  const endpoints = outboundEndpoints(await run.a.mesh.xds(eds.proxy), eds.port, REMOTE.hostname);
  return [
    `clusterz cluster-b ${entry?.syncStatus ?? 'absent'}`,
    `registryz ${svc ? 'has' : 'lacks'} ${REMOTE.hostname}`,
    `EDS ${endpoints?.join(',') || '(none)'}`,
  ].join(', ');
}
