// Every Prometheus metric the module exports, collected from the code that exports it (the
// constants the hooks pass to METRICS_PATH and the exporters' prom-client registries), with
// the series names Prometheus stores for it (a histogram is `_bucket`, `_sum` and `_count`).
// The dashboard and alert tests check every name they use against this catalogue.
import { IGNORED_METRIC } from '../../hooks/federation/discover-public-services';
import { ProxyMetrics } from '../../images/api-proxy/metrics';
import { ExporterMetrics } from '../../images/metadata-exporter/metrics';
import { GATEWAY_PROBE_METRICS } from '../../lib/check/gateway-probes';
import { IMPORT_METRICS } from '../../lib/federation/import/report';
import { FETCH_METRICS } from '../../lib/federation/status/metrics';
import { MULTICLUSTER_METRICS } from '../../lib/multicluster/metrics';

export type MetricType = 'gauge' | 'counter' | 'histogram';

export interface CatalogueEntry {
  name: string;
  type: MetricType;
  /** Where it comes from: a hook (through addon-operator) or an exporter's /metrics. */
  source: 'hooks' | 'metadata-exporter' | 'api-proxy';
}

/** Metrics the hooks emit through METRICS_PATH; all gauges but the fetch duration. */
function hookMetrics(): CatalogueEntry[] {
  const names = [
    ...Object.values(FETCH_METRICS),
    ...Object.values(IMPORT_METRICS),
    ...Object.values(GATEWAY_PROBE_METRICS),
    ...Object.values(MULTICLUSTER_METRICS),
    IGNORED_METRIC,
  ];
  const histograms: string[] = [FETCH_METRICS.fetchDuration, MULTICLUSTER_METRICS.fetchDuration];
  return names.map((name) => ({
    name,
    type: histograms.includes(name) ? 'histogram' : 'gauge',
    source: 'hooks',
  }));
}

async function registryMetrics(
  registry: { getMetricsAsJSON(): Promise<{ name: string; type: unknown }[]> },
  source: CatalogueEntry['source'],
): Promise<CatalogueEntry[]> {
  return (await registry.getMetricsAsJSON()).map((m) => ({
    name: m.name,
    type: String(m.type) as MetricType,
    source,
  }));
}

/** The catalogue: one entry per metric (not per series), own metrics only (no process_*). */
export async function metricCatalogue(): Promise<CatalogueEntry[]> {
  return [
    ...hookMetrics(),
    ...(await registryMetrics(new ExporterMetrics({ processMetrics: false }).registry, 'metadata-exporter')),
    ...(await registryMetrics(new ProxyMetrics({ processMetrics: false }).registry, 'api-proxy')),
  ];
}

/** The series names Prometheus stores for these metrics. */
export function seriesNames(catalogue: readonly CatalogueEntry[]): Set<string> {
  const names = new Set<string>();
  for (const { name, type } of catalogue) {
    if (type === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(name + suffix);
    else names.add(name);
  }
  return names;
}
