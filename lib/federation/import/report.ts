import type { CachedPeer } from '../cached/read';
import type { LogEvent } from '../status/log';
import type { MetricSample } from '../status/metrics';
import { allConflicts, type ImportVerdict } from './verdict';

/** The merge hook's metrics and log lines, both derived from the verdict alone. */

export const IMPORT_METRICS_GROUP = 'federation_merge';
export const IMPORT_METRICS = {
  importedServices: 'd8_istio_federation_imported_services',
  importConflicts: 'd8_istio_federation_import_conflicts',
  droppedServices: 'd8_istio_federation_dropped_services',
  refused: 'd8_istio_federation_refused',
  unpinnedServices: 'd8_istio_federation_unpinned_services',
} as const;

/** Conflict series are per hostname; a hostile peer must not blow up metric cardinality. */
const MAX_CONFLICT_SERIES = 100;
const MAX_LOGGED_ITEMS = 50;

export function importMetricSamples(verdict: ImportVerdict): MetricSample[] {
  const samples: MetricSample[] = [];
  for (const [federation_name, v] of verdict.federations) {
    samples.push({ name: IMPORT_METRICS.importedServices, value: v.imported, labels: { federation_name } });
    if (v.dropped)
      samples.push({ name: IMPORT_METRICS.droppedServices, value: v.dropped, labels: { federation_name } });
    if (v.imported)
      samples.push({ name: IMPORT_METRICS.unpinnedServices, value: v.unpinned, labels: { federation_name } });
    if (!v.trust.trusted && v.trust.reason !== 'FederationDisabled')
      samples.push({
        name: IMPORT_METRICS.refused,
        value: 1,
        labels: { federation_name, reason: v.trust.reason },
      });
  }
  const perHost = new Map<string, { federation_name: string; hostname: string; count: number }>();
  for (const c of allConflicts(verdict)) {
    const key = `${c.federation}\u0000${c.hostname}`;
    const series = perHost.get(key);
    if (series) series.count++;
    else if (perHost.size < MAX_CONFLICT_SERIES)
      perHost.set(key, { federation_name: c.federation, hostname: c.hostname, count: 1 });
  }
  for (const { count, ...labels } of perHost.values())
    samples.push({ name: IMPORT_METRICS.importConflicts, value: count, labels });
  return samples;
}

export function importLogEvents<P>(peers: readonly CachedPeer<P>[], verdict: ImportVerdict): LogEvent[] {
  const events: LogEvent[] = [];
  for (const p of peers) {
    if (p.rejected.length)
      events.push({
        level: 'warn',
        message: 'ignored invalid metadata in status',
        fields: { federation: p.name, rejected: p.rejected },
      });
  }
  for (const [federation, v] of verdict.federations) {
    if (!v.trust.trusted && v.trust.reason === 'FederationDisabled') continue;
    if (!v.trust.trusted) {
      const { reason, message } = v.trust;
      events.push({
        level: 'warn',
        message: 'federation is not trusted',
        fields: { federation, reason, message },
      });
    } else if (v.state !== 'Imported')
      events.push({
        level: 'info',
        message: 'federation contributes no services',
        fields: { federation, state: v.state },
      });
    if (v.dropped)
      events.push({
        level: 'warn',
        message: 'import limit reached; services dropped',
        fields: { federation, count: v.dropped },
      });
  }
  const conflicts = allConflicts(verdict);
  for (const c of conflicts.slice(0, MAX_LOGGED_ITEMS))
    events.push({
      level: 'warn',
      message: 'imported port collision; the port is not merged',
      fields: { ...c },
    });
  if (conflicts.length > MAX_LOGGED_ITEMS)
    events.push({
      level: 'warn',
      message: 'more import collisions not logged',
      fields: { count: conflicts.length - MAX_LOGGED_ITEMS },
    });
  return events;
}
