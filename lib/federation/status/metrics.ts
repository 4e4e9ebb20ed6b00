import { findCondition } from './conditions';
import { METADATA_PATHS, metadataUrl } from '../wire/documents';
import type { PeerStatus } from './types';

/**
 * The fetch hook's metrics, all in one group that the hook expires on every run, so a
 * deleted federation loses its series. Values derive from the (next) status, so they are
 * the same whether or not the federation was fetched in this run; only the duration of a
 * fetch exists just for the run that performed it. Imported-service counts and import
 * conflicts are the merge hook's metrics (it is the one that imports).
 */
export const FETCH_METRICS_GROUP = 'federation_fetch';

export const FETCH_METRICS = {
  /** The reference's gauge: 1 when the last fetch of that URL failed, else 0. */
  fetchError: 'd8_istio_federation_metadata_endpoints_fetch_error_count',
  fetchDuration: 'd8_istio_federation_metadata_fetch_duration_seconds',
  /** 0 while fetches succeed; otherwise seconds since the data in force was last confirmed. */
  dataAge: 'd8_istio_federation_metadata_age_seconds',
  lastSuccess: 'd8_istio_federation_metadata_last_success_timestamp_seconds',
  ready: 'd8_istio_federation_ready',
} as const;

export interface MetricSample {
  name: string;
  value: number;
  labels: Record<string, string>;
}

export interface FederationMetricsInput {
  name: string;
  metadataEndpoint: string;
  status: PeerStatus<unknown>;
  refused: boolean;
  /** Set when fetched in this run. */
  durationMs?: number;
}

export function fetchMetricSamples(
  federations: readonly FederationMetricsInput[],
  now: Date,
): MetricSample[] {
  const samples: MetricSample[] = [];
  for (const f of federations) {
    const federation_name = f.name;
    const ready = findCondition(f.status.conditions, 'Ready')?.status === 'True' ? 1 : 0;
    samples.push({ name: FETCH_METRICS.ready, value: ready, labels: { federation_name } });
    if (f.refused) continue;
    const failed = f.status.fetchRetry?.failedEndpoint;
    for (const path of [METADATA_PATHS.public, METADATA_PATHS.private]) {
      const endpoint = metadataUrl(f.metadataEndpoint, path);
      samples.push({
        name: FETCH_METRICS.fetchError,
        value: failed === endpoint ? 1 : 0,
        labels: { federation_name, endpoint },
      });
    }
    if (f.durationMs !== undefined) {
      samples.push({
        name: FETCH_METRICS.fetchDuration,
        value: f.durationMs / 1000,
        labels: { federation_name },
      });
    }
    const cache = f.status.metadataCache;
    const lastSuccess = Date.parse(cache?.privateLastFetchTimestamp ?? cache?.publicLastFetchTimestamp ?? '');
    if (Number.isFinite(lastSuccess)) {
      samples.push({
        name: FETCH_METRICS.lastSuccess,
        value: lastSuccess / 1000,
        labels: { federation_name },
      });
      const healthy = findCondition(f.status.conditions, 'MetadataFetched')?.status === 'True';
      const age = healthy ? 0 : Math.max(0, (now.getTime() - lastSuccess) / 1000);
      samples.push({ name: FETCH_METRICS.dataAge, value: Math.round(age), labels: { federation_name } });
    }
  }
  return samples;
}
