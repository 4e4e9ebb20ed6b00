import { FETCH_DURATION_BUCKETS, FETCH_METRICS, fetchMetricSamples, type MetricSample } from './metrics';
import type { PeerStatus } from './types';

const T0 = Date.parse('2026-11-22T06:00:00Z');
const iso = (seconds: number) => new Date(T0 + seconds * 1000).toISOString();

function sample(samples: MetricSample[], name: string): MetricSample | undefined {
  return samples.find((s) => s.name === name);
}

/**
 * A peer whose data was last confirmed 9 minutes before fetches started failing (the
 * timestamp heartbeat moves only every 10 minutes while data is unchanged).
 */
function failingStatus(failedAt: number): PeerStatus<unknown> {
  return {
    metadataCache: { publicLastFetchTimestamp: iso(-540), privateLastFetchTimestamp: iso(-540) },
    conditions: [
      {
        type: 'MetadataFetched',
        status: 'False',
        reason: 'Timeout',
        message: 'x',
        lastTransitionTime: iso(failedAt),
      },
      { type: 'Ready', status: 'False', reason: 'Timeout', message: 'x', lastTransitionTime: iso(failedAt) },
    ],
  };
}

const input = (status: PeerStatus<unknown>, extra: { refused?: boolean; durationMs?: number } = {}) => ({
  name: 'b',
  metadataEndpoint: 'https://b.example/metadata/',
  status,
  refused: extra.refused ?? false,
  ...(extra.durationMs !== undefined ? { durationMs: extra.durationMs } : {}),
});

test('stale-since is the transition time of MetadataFetched to False, not the last heartbeat', () => {
  const samples = fetchMetricSamples([input(failingStatus(0))], new Date(T0 + 60_000));
  expect(sample(samples, FETCH_METRICS.staleSince)).toEqual({
    name: FETCH_METRICS.staleSince,
    value: T0 / 1000,
    labels: { federation_name: 'b' },
  });
  // The data age counts from the heartbeat: 9 minutes older than the failure itself.
  expect(sample(samples, FETCH_METRICS.dataAge)?.value).toBe(600);
  expect(sample(samples, FETCH_METRICS.ready)?.value).toBe(0);
});

test('no stale-since series while MetadataFetched is True, Unknown or absent, nor for refused peers', () => {
  const healthy: PeerStatus<unknown> = {
    metadataCache: { privateLastFetchTimestamp: iso(0) },
    conditions: [
      { type: 'MetadataFetched', status: 'True', reason: 'Fetched', message: '', lastTransitionTime: iso(0) },
    ],
  };
  const unknown: PeerStatus<unknown> = {
    conditions: [
      {
        type: 'MetadataFetched',
        status: 'Unknown',
        reason: 'Pending',
        message: '',
        lastTransitionTime: iso(0),
      },
    ],
  };
  const now = new Date(T0 + 3600_000);
  for (const status of [healthy, unknown, {}])
    expect(sample(fetchMetricSamples([input(status)], now), FETCH_METRICS.staleSince)).toBeUndefined();
  expect(
    sample(fetchMetricSamples([input(failingStatus(0), { refused: true })], now), FETCH_METRICS.staleSince),
  ).toBeUndefined();
});

test('the fetch duration is a histogram observation with buckets; gauges carry none', () => {
  const samples = fetchMetricSamples([input(failingStatus(0), { durationMs: 1500 })], new Date(T0));
  expect(sample(samples, FETCH_METRICS.fetchDuration)).toEqual({
    name: FETCH_METRICS.fetchDuration,
    value: 1.5,
    labels: { federation_name: 'b' },
    buckets: FETCH_DURATION_BUCKETS,
  });
  expect(samples.filter((s) => s.buckets).map((s) => s.name)).toEqual([FETCH_METRICS.fetchDuration]);
  // Buckets are strictly increasing and cover the 10 s request timeout.
  expect([...FETCH_DURATION_BUCKETS].sort((a, b) => a - b)).toEqual([...FETCH_DURATION_BUCKETS]);
  expect(Math.max(...FETCH_DURATION_BUCKETS)).toBeGreaterThan(10);
});
