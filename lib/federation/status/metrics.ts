import { findCondition } from './conditions';
import { METADATA_PATHS, metadataUrl } from '../wire/documents';
import type { NextStatus } from './next';
import type { PeerStatus } from './types';

/**
 * The fetch hook's gauges, all in one group that the hook expires on every run, so a
 * deleted federation loses its series. Values derive from the (next) status, so they are
 * the same whether or not the federation was fetched in this run. Imported-service counts
 * and import conflicts are the merge hook's metrics (it is the one that imports).
 */
export const FETCH_METRICS_GROUP = 'federation_fetch';

/**
 * The fetch duration histogram: one group per federation (fetchDurationGroup). A histogram
 * emitted by a hook cannot accumulate across runs in addon-operator v1.23: an operation
 * without a group gets the hook's name as its group (shell-operator MetricOperationsFromFile),
 * every group a run writes to is expired before the run's operations are applied (deckhouse
 * pkg/metrics-storage v0.3.0, applyGroupedOperations), and expiring deletes a histogram's
 * buckets, sum and count. So each federation's histogram holds its LAST fetch (count 1) and
 * stays until that federation is fetched again: runs that fetch nothing, or fetch other
 * peers, leave it alone. Prometheus averages it over time (avg_over_time of the buckets, see
 * the dashboard) for quantiles. Cost: a deleted federation's histogram stays until the
 * operator restarts.
 */
export function fetchDurationGroup(federationName: string, group: string = FETCH_METRICS_GROUP): string {
  return `${group}_duration/${federationName}`;
}

/** Seconds; a request is bounded by 10 s (transport limits), connect and TLS by 5 s each. */
export const FETCH_DURATION_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20] as const;

export const FETCH_METRICS = {
  /** The reference's gauge: 1 when the last fetch of that URL failed, else 0. */
  fetchError: 'd8_istio_federation_metadata_endpoints_fetch_error_count',
  /** Histogram of the last fetch of a peer (both documents), see fetchDurationGroup. */
  fetchDuration: 'd8_istio_federation_metadata_fetch_duration_seconds',
  /**
   * 0 while fetches succeed; otherwise seconds since the data in force was last confirmed.
   * Only moves by up to 10 minutes at a time when data is unchanged (the timestamp heartbeat
   * of status/record.ts), so alert on staleSince, not on this.
   */
  dataAge: 'd8_istio_federation_metadata_age_seconds',
  /**
   * While MetadataFetched is False: its lastTransitionTime (Unix seconds), i.e. when fetches
   * started failing; absent while it is True. `time() - this` is how long data has been stale.
   */
  staleSince: 'd8_istio_federation_metadata_stale_since_timestamp_seconds',
  lastSuccess: 'd8_istio_federation_metadata_last_success_timestamp_seconds',
  ready: 'd8_istio_federation_ready',
  /** When the peer last changed its identity (clusterUUID or authn key); absent if it never did. */
  identityChanged: 'd8_istio_federation_identity_changed_timestamp_seconds',
} as const;

/**
 * How a peer kind names its fetch metrics: IstioFederation's by default; IstioMulticluster
 * has the same set under its own prefix and label (lib/multicluster/metrics.ts).
 */
export interface FetchMetricNaming {
  names: Record<keyof typeof FETCH_METRICS, string>;
  /** The label naming the peer object. */
  label: string;
  /** The private document's path (the fetch-error metric has one series per document URL). */
  privatePath: (typeof METADATA_PATHS)[keyof typeof METADATA_PATHS];
}

export const FEDERATION_METRIC_NAMING: FetchMetricNaming = {
  names: FETCH_METRICS,
  label: 'federation_name',
  privatePath: METADATA_PATHS.private,
};

export interface MetricSample {
  name: string;
  value: number;
  labels: Record<string, string>;
  /** Set for histogram observations (`observe` with these buckets), absent for gauges. */
  buckets?: readonly number[];
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
  naming: FetchMetricNaming = FEDERATION_METRIC_NAMING,
): MetricSample[] {
  const samples: MetricSample[] = [];
  const names = naming.names;
  for (const f of federations) {
    const labels = { [naming.label]: f.name };
    const ready = findCondition(f.status.conditions, 'Ready')?.status === 'True' ? 1 : 0;
    samples.push({ name: names.ready, value: ready, labels });
    const identity = f.status.trustedIdentity;
    const changedAt = identity?.previous ? Date.parse(identity.since) : NaN;
    if (Number.isFinite(changedAt))
      samples.push({
        name: names.identityChanged,
        value: changedAt / 1000,
        labels,
      });
    if (f.refused) continue;
    const failed = f.status.fetchRetry?.failedEndpoint;
    for (const path of [METADATA_PATHS.public, naming.privatePath]) {
      const endpoint = metadataUrl(f.metadataEndpoint, path);
      samples.push({
        name: names.fetchError,
        value: failed === endpoint ? 1 : 0,
        labels: { ...labels, endpoint },
      });
    }
    if (f.durationMs !== undefined) {
      samples.push({
        name: names.fetchDuration,
        value: f.durationMs / 1000,
        labels,
        buckets: FETCH_DURATION_BUCKETS,
      });
    }
    const fetched = findCondition(f.status.conditions, 'MetadataFetched');
    const staleSince = fetched?.status === 'False' ? Date.parse(fetched.lastTransitionTime) : NaN;
    if (Number.isFinite(staleSince))
      samples.push({ name: names.staleSince, value: staleSince / 1000, labels });
    const cache = f.status.metadataCache;
    const lastSuccess = Date.parse(cache?.privateLastFetchTimestamp ?? cache?.publicLastFetchTimestamp ?? '');
    if (Number.isFinite(lastSuccess)) {
      samples.push({
        name: names.lastSuccess,
        value: lastSuccess / 1000,
        labels,
      });
      const healthy = findCondition(f.status.conditions, 'MetadataFetched')?.status === 'True';
      const age = healthy ? 0 : Math.max(0, (now.getTime() - lastSuccess) / 1000);
      samples.push({ name: names.dataAge, value: Math.round(age), labels });
    }
  }
  return samples;
}

/** The fetch hook's samples after a run: every federation's, from its next status. */
export function runMetricSamples<P>(
  statuses: readonly NextStatus<P>[],
  enabled: boolean,
  now: Date,
  naming: FetchMetricNaming = FEDERATION_METRIC_NAMING,
): MetricSample[] {
  return fetchMetricSamples(
    statuses.map(({ entry, next, fetch }) => ({
      name: entry.peer.name,
      metadataEndpoint: entry.peer.metadataEndpoint,
      status: next,
      refused: entry.action === 'refuse' || !enabled,
      ...(fetch ? { durationMs: fetch.timed.durationMs } : {}),
    })),
    now,
    naming,
  );
}
