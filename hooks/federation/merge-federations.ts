import { defineHook, kubernetesBinding } from '../../lib/hook-sdk';
import type { Logger } from '../../lib/hook-sdk/logger';
import type { MetricsCollector } from '../../lib/hook-sdk/metrics';
import {
  FEDERATION_JQ_FILTER,
  mergeFederations,
  parseFederationSnapshot,
  type MergeResult,
  type ParsedFederation,
} from '../../lib/federation/import/verdict';

export const METRIC_GROUP = 'federation_merge';
export const METRICS = {
  importedServices: 'd8_istio_federation_imported_services',
  importConflicts: 'd8_istio_federation_import_conflicts',
  droppedServices: 'd8_istio_federation_dropped_services',
  refused: 'd8_istio_federation_refused',
} as const;
/** Conflict series are per hostname; a hostile peer must not blow up metric cardinality. */
const MAX_CONFLICT_SERIES = 100;
const MAX_LOGGED_ITEMS = 50;

const defined = <T>(v: T | undefined): v is T => v !== undefined;

function reportMetrics(metrics: MetricsCollector, result: MergeResult): void {
  metrics.expire(METRIC_GROUP);
  for (const [federation_name, count] of Object.entries(result.importedServices))
    metrics.set(METRICS.importedServices, count, { federation_name }, METRIC_GROUP);
  for (const [federation_name, count] of Object.entries(result.dropped))
    metrics.set(METRICS.droppedServices, count, { federation_name }, METRIC_GROUP);
  for (const r of result.refused)
    metrics.set(METRICS.refused, 1, { federation_name: r.federation, reason: r.reason }, METRIC_GROUP);
  const perHost = new Map<string, { federation_name: string; hostname: string; count: number }>();
  for (const c of result.conflicts) {
    const key = `${c.federation}\u0000${c.hostname}`;
    const series = perHost.get(key);
    if (series) series.count++;
    else if (perHost.size < MAX_CONFLICT_SERIES)
      perHost.set(key, { federation_name: c.federation, hostname: c.hostname, count: 1 });
  }
  for (const { count, ...labels } of perHost.values())
    metrics.set(METRICS.importConflicts, count, labels, METRIC_GROUP);
}

function reportLogs(log: Logger, federations: readonly ParsedFederation[], result: MergeResult): void {
  for (const f of federations) {
    if (f.rejected.length)
      log.warn('ignored invalid metadata in status', { federation: f.name, rejected: f.rejected });
  }
  for (const r of result.refused) log.warn('federation is not trusted', { ...r });
  for (const i of result.incomplete) log.info('federation contributes no services', { ...i });
  const conflicts = result.conflicts.slice(0, MAX_LOGGED_ITEMS);
  for (const c of conflicts) log.warn('imported port collision; the port is not merged', { ...c });
  if (result.conflicts.length > conflicts.length)
    log.warn('more import collisions not logged', { count: result.conflicts.length - conflicts.length });
  const rejected = result.rejected.slice(0, MAX_LOGGED_ITEMS);
  for (const r of rejected) log.warn('imported item rejected', { ...r });
  if (result.rejected.length > rejected.length)
    log.warn('more rejected items not logged', { count: result.rejected.length - rejected.length });
  for (const [federation, count] of Object.entries(result.dropped))
    log.warn('import limit reached; services dropped', { federation, count });
}

export default defineHook({
  name: 'federation/merge-federations',
  beforeHelm: 30,
  kubernetes: {
    federations: kubernetesBinding({
      apiVersion: 'deckhouse.io/v1alpha1',
      kind: 'IstioFederation',
      jqFilter: FEDERATION_JQ_FILTER,
      parse: parseFederationSnapshot,
    }),
  },
  run({ snapshots, values, metrics, log, now }) {
    const federations = snapshots.federations.filter(defined);
    const localTrustDomain = values.get<string>('global.discovery.clusterDomain') ?? 'cluster.local';
    const localClusterUUID = values.get<string>('global.discovery.clusterUUID') || undefined;
    const result = mergeFederations(federations, {
      localTrustDomain,
      now,
      ...(localClusterUUID ? { localClusterUUID } : {}),
    });
    reportLogs(log, federations, result);
    reportMetrics(metrics, result);
    values.set('istio.internal.federation.trustedPeers', result.trustedPeers);
    values.set('istio.internal.federation.serviceEntries', result.serviceEntries);
  },
});
