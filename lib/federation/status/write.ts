import type { HookInput, Bindings } from '../../hook-sdk';
import { runEvents } from './events';
import { fetchLogEvents } from './log';
import { fetchDurationGroup, type MetricSample } from './metrics';
import type { NextStatus } from './next';

/**
 * What a fetch hook writes after its run, in one order for every peer kind: per peer its log
 * lines, then its status patch (when something changed); then the Events of condition
 * transitions, after every patch (should one fail, the retried run finds the statuses
 * written, sees no transition and does not fail again on it: events.ts); then the metrics.
 */
export interface FetchRunOutput<P> {
  ref: { apiVersion: string; kind: string };
  statuses: readonly NextStatus<P>[];
  samples: readonly MetricSample[];
  /** The metric group of the run's gauges (expired at the start of every run). */
  metricsGroup: string;
  /** `federation` | `multicluster`: the log field and the `<field>_name` metric label. */
  peerField: 'federation' | 'multicluster';
  now: Date;
  /** Extra log lines of one peer, written before its patch. */
  logPeer?: (status: NextStatus<P>) => void;
}

export function writeFetchRun<P>(
  { kube, log, metrics }: Pick<HookInput<Bindings>, 'kube' | 'log' | 'metrics'>,
  output: FetchRunOutput<P>,
): void {
  for (const status of output.statuses) {
    for (const event of fetchLogEvents(status, output.peerField))
      log[event.level](event.message, event.fields);
    output.logPeer?.(status);
    if (!status.patch) continue;
    kube.mergePatch(
      { ...output.ref, name: status.entry.peer.name },
      { status: status.patch },
      // The object may have been deleted while its peer was fetched: a patch of a missing
      // object must not fail the task (the queue would retry it forever).
      { subresource: 'status', ignoreMissingObject: true },
    );
  }
  const { events, dropped } = runEvents(output.statuses, output.ref, output.now);
  for (const event of events) kube.createIfNotExists(event);
  if (dropped) log.info('condition transitions without an Event (per-run limit)', { dropped });
  for (const s of output.samples) {
    // A histogram per peer in its own group: addon-operator expires every group a run writes
    // to (see fetchDurationGroup), so it holds that peer's last fetch.
    if (s.buckets) {
      const group = fetchDurationGroup(s.labels[`${output.peerField}_name`]!, output.metricsGroup);
      metrics.observe(s.name, s.value, [...s.buckets], s.labels, group);
    } else metrics.set(s.name, s.value, s.labels, output.metricsGroup);
  }
}
