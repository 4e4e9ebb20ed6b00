import type { Cluster } from './cluster';
import { pemKey, trustBundleFingerprints, type XdsSummary } from './istiod';
import {
  MULTICLUSTERS_PATH,
  REMOTE,
  REMOTE_PORTS,
  networkOf,
  type MulticlusterObject,
  type MulticlusterRun,
} from './multicluster';
import { outboundEndpoints, registryServiceFrom, sidecarOf } from './remote-mesh';
import { cell, table } from './summary';
import { pollUntil } from './wait';

/** What an admin would see of a multicluster mesh: `kubectl get istiomulticlusters -o wide` and istiod's view. */

/** The server-side Table with every printer column (priority 1 included, as `-o wide` prints). */
async function multiclusterTable(cluster: Cluster): Promise<string[]> {
  const res = await cluster.api.raw('GET', MULTICLUSTERS_PATH, undefined, {
    Accept: 'application/json;as=Table;v=v1;g=meta.k8s.io',
  });
  const t = JSON.parse(res.body) as { columnDefinitions?: { name: string }[]; rows?: { cells: unknown[] }[] };
  const header = (t.columnDefinitions ?? []).map((c) => c.name.toUpperCase());
  return table(
    header,
    (t.rows ?? []).map((r) => r.cells.map(cell)),
  );
}

async function clusterLines(cluster: Cluster): Promise<string[]> {
  const out = [
    `${cluster.spec.name}  (domain ${cluster.spec.clusterDomain}, UUID ${cluster.spec.clusterUUID}, cluster ID ${cluster.clusterId}, ${networkOf(cluster)})`,
    '  $ kubectl get istiomulticlusters -o wide',
    ...(await multiclusterTable(cluster)).map((l) => `    ${l}`),
  ];
  for (const m of await cluster.api.list<MulticlusterObject>(MULTICLUSTERS_PATH)) {
    out.push(`  IstioMulticluster ${m.metadata.name} conditions:`);
    for (const c of m.status?.conditions ?? []) {
      out.push(`    ${c.type.padEnd(20)} ${c.status.padEnd(5)} ${c.reason}: ${c.message}`);
    }
  }
  return out;
}

/** A's istiod: its remote clusters (clusterz), bar in its registry, and the endpoints a sidecar of A gets. */
export async function istiodViewOfRemote(run: MulticlusterRun): Promise<string> {
  const { a, b } = run;
  const lines = [`What istiod in ${a.spec.name} sees of ${b.spec.name}:`];
  for (const c of await a.mesh.remoteClusters()) {
    lines.push(`  /debug/clusterz: ${c.id}  ${c.syncStatus}  (${c.secretName || 'own cluster'})`);
  }
  const svc = await registryServiceFrom(a.mesh, REMOTE.hostname, 'cluster-b');
  lines.push(
    svc
      ? `  /debug/registryz: ${svc.hostname}, cluster VIPs ${JSON.stringify(svc.clusterVIPs?.Addresses ?? {})}`
      : `  /debug/registryz: no ${REMOTE.hostname} from cluster-b`,
  );
  // istiod pushes a new remote's endpoints shortly after clusterz says synced: read until
  // every port has its endpoints (bounded), and print what is there either way.
  const hasEndpoints = (s: XdsSummary) =>
    REMOTE_PORTS.every(({ port }) => (outboundEndpoints(s, port, REMOTE.hostname)?.length ?? 0) > 0);
  let summary = await a.mesh.xds(sidecarOf(a));
  if (!hasEndpoints(summary)) {
    summary = await pollUntil(
      async () => {
        const next = await a.mesh.xds(sidecarOf(a));
        return hasEndpoints(next) ? next : undefined;
      },
      { what: `${REMOTE.hostname}'s endpoints in a sidecar's EDS`, timeoutMs: 15_000, intervalMs: 200 },
    ).catch(() => summary);
  }
  for (const { port } of REMOTE_PORTS) {
    const eps = outboundEndpoints(summary, port, REMOTE.hostname);
    const shown = eps === undefined ? '(no cluster)' : eps.length ? eps.join(', ') : '(no endpoints)';
    lines.push(
      `  sidecar ${sidecarOf(a).namespace}/${sidecarOf(a).pod} on ${networkOf(a)}: outbound|${port}||${REMOTE.hostname} -> ${shown}`,
    );
  }
  const roots = new Map([
    [pemKey(a.rootCAPem), `${a.spec.name} (own)`],
    [pemKey(b.rootCAPem), b.spec.name],
  ]);
  const bundle = trustBundleFingerprints(summary).map((fp) => roots.get(fp) ?? 'unknown root');
  lines.push(`  trust bundle (PCDS, ${bundle.length} roots): ${bundle.sort().join(', ')}`);
  return lines.join('\n');
}

export async function multiclusterSummary(run: MulticlusterRun): Promise<string> {
  const lines = [...(await clusterLines(run.a)), '', ...(await clusterLines(run.b))];
  const f = run.figures;
  if (f.remoteSyncedAfterCreationMs !== undefined) {
    lines.push(
      '',
      `Convergence: IstioMulticluster created -> ${run.a.spec.name}'s istiod synced with ${run.b.spec.name}: ${(f.remoteSyncedAfterCreationMs / 1000).toFixed(1)} s` +
        (f.istiodAddToSyncedMs !== undefined
          ? ` (istiod itself: ${f.istiodAddToSyncedMs} ms from taking the Secret to synced)`
          : ''),
    );
  }
  if (f.rotationMissingMs !== undefined) {
    lines.push(
      `Token rotation: Secret changed ${f.rotationSecretChangedMs} ms after the trigger; istiod swapped the remote cluster ${f.rotationSwapMs} ms later; ${REMOTE.hostname} missing from the registry for ${f.rotationMissingMs} ms (${f.rotationSamples} samples every ${f.rotationSampleIntervalMs} ms); a sidecar's EDS lacked B's gateway in ${f.rotationEdsMissing} of ${f.rotationEdsSamples} xDS reads`,
    );
  }
  if (f.revokeApiRejectedMs !== undefined) {
    const [a, b] = [run.a.spec.name, run.b.spec.name];
    lines.push(
      `${b} forgets ${a} (IstioMulticluster deleted): ${b}'s api-proxy refuses ${a}'s token after ${f.revokeProxyRefusedMs} ms; ${a} says MetadataFetched TokenRejected after ${f.revokeFetchRejectedMs} ms, RemoteAPITokenRejected after ${f.revokeApiRejectedMs} ms (the probe's once-a-minute slot)`,
      `  ${a}'s istiod meanwhile (${f.revokeIstiodSamples} samples every ${f.revokeSampleIntervalMs} ms): clusterz not synced in ${f.revokeClusterzNotSynced}, ${REMOTE.hostname} missing from registryz in ${f.revokeRegistryMissing} and from a sidecar's EDS in ${f.revokeEdsMissing}; ${f.revokeProxyWatchesAfterRefusal} watches still open in ${b}'s api-proxy; a Service created in ${b} after the refusal ${f.revokeLateServiceSeen ? `reached ${a}'s registry in ${f.revokeLateServiceMs} ms` : `did not reach ${a}'s registry in 20 s`}`,
    );
  }
  if (f.restoreReadyMs !== undefined) {
    lines.push(
      `${run.b.spec.name} learns ${run.a.spec.name} again: token accepted after ${f.restoreProxyAcceptsMs} ms, MetadataFetched True after ${f.restoreFetchedMs} ms, RemoteAPIReachable True after ${f.restoreApiReachableMs} ms, Ready after ${f.restoreReadyMs} ms; istiod rebuilt the remote ${f.restoreIstiodRebuilds} times`,
    );
  }
  return lines.join('\n');
}
