import {
  DEFAULT_REFRESH_POLICY,
  refreshPolicyFromEnv,
  type RefreshPolicy,
} from '../../lib/federation/fetch/refresh';
import type { FetchLimits } from '../../lib/federation/fetch/transport';
import { localIdentity } from '../../lib/federation/identity/local';
import { writeFetchRun } from '../../lib/federation/status/write';
import { defineHook, kubernetesBinding } from '../../lib/hook-sdk';
import { MULTICLUSTER_KIND } from '../../lib/multicluster/kind';
import { MULTICLUSTER_METRICS_GROUP, multiclusterMetricSamples } from '../../lib/multicluster/metrics';
import { runMulticlusterFetch } from '../../lib/multicluster/run';

/**
 * Fetches every IstioMulticluster's remote metadata (public and private documents), probes
 * the remote API of the joined ones, and records both, with conditions, in the object's
 * status (lib/multicluster/run.ts). Its own queue, so slow peers never block the module's
 * main queue; events and a 2 s tick, every due peer at once, each bounded by its own
 * timeouts, backoff on failure, status written only when it changes. Gated on
 * `istio.multicluster.enabled`: when disabled nothing is fetched and every status says so.
 */

export const MULTICLUSTER_FETCH_QUEUE = 'multicluster-fetch';
export const MULTICLUSTER_FETCH_TICK = 'multicluster-fetch-tick';

export interface MulticlusterFetchHookOptions {
  limits?: FetchLimits;
  probeLimits?: FetchLimits;
  policy?: RefreshPolicy;
}

export function createMulticlusterFetchHook(options: MulticlusterFetchHookOptions = {}) {
  const policy = options.policy ?? DEFAULT_REFRESH_POLICY;
  return defineHook({
    name: 'multicluster/fetch-metadata',
    schedule: [
      {
        name: MULTICLUSTER_FETCH_TICK,
        crontab: `*/${policy.tickSeconds} * * * * *`,
        queue: MULTICLUSTER_FETCH_QUEUE,
      },
    ],
    kubernetes: {
      multiclusters: kubernetesBinding({
        ...MULTICLUSTER_KIND.ref,
        jqFilter: MULTICLUSTER_KIND.jqFilter,
        executeHookOnEvent: true,
        executeHookOnSynchronization: true,
        // Its own queue: a module start must not wait on network fetches.
        waitForSynchronization: false,
        queue: MULTICLUSTER_FETCH_QUEUE,
        parse: (raw: unknown) => raw, // read in lib/multicluster/run.ts: the reader needs our domain
      }),
    },
    async run({ snapshots, values, triggers, kube, metrics, log, now }) {
      metrics.expire(MULTICLUSTER_METRICS_GROUP);
      const enabled = values.get<boolean>('istio.multicluster.enabled') === true;
      const scheduled = triggers.some((t) => t.binding === MULTICLUSTER_FETCH_TICK);
      const run = await runMulticlusterFetch({
        snapshot: snapshots.multiclusters,
        local: localIdentity(values),
        enabled,
        scheduled,
        now,
        policy,
        limits: options.limits,
        probeLimits: options.probeLimits,
      });
      // Not on every 2 s tick: on the events that can change it.
      if (!scheduled && run.statuses.length) {
        if (!enabled) log.info('multicluster is disabled; remote metadata is not fetched');
        else if (run.missingIdentity.length)
          log.info('local identity not in values yet; multiclusters wait for it', {
            missing: run.missingIdentity,
          });
      }
      writeFetchRun(
        { kube, log, metrics },
        {
          ref: MULTICLUSTER_KIND.ref,
          statuses: run.statuses,
          samples: multiclusterMetricSamples(run.statuses, enabled, now),
          metricsGroup: MULTICLUSTER_METRICS_GROUP,
          peerField: 'multicluster',
          now,
          logPeer: (status) => {
            const probe = run.probes.get(status.entry.peer.name);
            if (probe?.status === 'False' && status.patch?.conditions)
              log.warn('remote API probe failed', {
                multicluster: status.entry.peer.name,
                reason: probe.reason,
                error: probe.message,
              });
          },
        },
      );
    },
  });
}

export default createMulticlusterFetchHook({ policy: refreshPolicyFromEnv(process.env) });
