import { findCondition } from '../federation/status/conditions';
import { runMetricSamples, type FetchMetricNaming, type MetricSample } from '../federation/status/metrics';
import type { NextStatus } from '../federation/status/next';
import { METADATA_PATHS } from '../federation/wire/documents';
import type { MulticlusterPrivateDocument } from './wire';

/**
 * The multicluster fetch hook's gauges, one group expired on every run (a deleted
 * IstioMulticluster loses its gauge series; its fetch-duration histogram has a group of its
 * own and stays until the operator restarts, as federation's: fetchDurationGroup): the
 * reference's two (1 error / 0 ok) and federation's set under the multicluster prefix
 * (lib/federation/status/metrics.ts explains each).
 */

export const MULTICLUSTER_METRICS_GROUP = 'multicluster_fetch';

export const MULTICLUSTER_METRICS = {
  /** The reference's: 1 when the last fetch of that URL failed, else 0. */
  fetchError: 'd8_istio_multicluster_metadata_endpoints_fetch_error_count',
  fetchDuration: 'd8_istio_multicluster_metadata_fetch_duration_seconds',
  dataAge: 'd8_istio_multicluster_metadata_age_seconds',
  staleSince: 'd8_istio_multicluster_metadata_stale_since_timestamp_seconds',
  lastSuccess: 'd8_istio_multicluster_metadata_last_success_timestamp_seconds',
  ready: 'd8_istio_multicluster_ready',
  identityChanged: 'd8_istio_multicluster_identity_changed_timestamp_seconds',
  /** The reference's: 1 when the last probe of `https://<apiHost>/api` failed, else 0 (joined peers). */
  apiHostCheckError: 'd8_istio_multicluster_api_host_check_error_count',
} as const;

const { apiHostCheckError: _api, ...fetchNames } = MULTICLUSTER_METRICS;

export const MULTICLUSTER_METRIC_NAMING: FetchMetricNaming = {
  names: fetchNames,
  label: 'multicluster_name',
  privatePath: METADATA_PATHS.privateMulticluster,
};

export function multiclusterMetricSamples(
  statuses: readonly NextStatus<MulticlusterPrivateDocument>[],
  enabled: boolean,
  now: Date,
): MetricSample[] {
  const samples = runMetricSamples(statuses, enabled, now, MULTICLUSTER_METRIC_NAMING);
  if (!enabled) return samples;
  for (const { entry, next } of statuses) {
    const api = findCondition(next.conditions, 'RemoteAPIReachable');
    const joined = findCondition(next.conditions, 'Joined')?.status === 'True';
    const apiHost = next.metadataCache?.private?.apiHost;
    if (!joined || !apiHost || (api?.status !== 'True' && api?.status !== 'False')) continue;
    samples.push({
      name: MULTICLUSTER_METRICS.apiHostCheckError,
      value: api.status === 'False' ? 1 : 0,
      labels: { multicluster_name: entry.peer.name, api_host: apiHost },
    });
  }
  return samples;
}
