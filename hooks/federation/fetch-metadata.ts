import { FEDERATION_KIND, readFederation, type Federation } from '../../lib/federation/kind';
import { localIdentity, missingLocalIdentity } from '../../lib/federation/identity/local';
import { fetchAllPeers, type FetchLimits } from '../../lib/federation/fetch/peer';
import { planFetches } from '../../lib/federation/fetch/plan';
import {
  DEFAULT_REFRESH_POLICY,
  refreshPolicyFromEnv,
  type RefreshPolicy,
} from '../../lib/federation/fetch/refresh';
import type { ImportLimits } from '../../lib/federation/import/verdict';
import { FETCH_METRICS_GROUP, runMetricSamples } from '../../lib/federation/status/metrics';
import { nextStatuses } from '../../lib/federation/status/next';
import { writeFetchRun } from '../../lib/federation/status/write';
import { defineHook, kubernetesBinding } from '../../lib/hook-sdk';

/**
 * Fetches every IstioFederation's remote metadata and records it, with conditions, in the
 * object's status: read cached -> plan -> fetch -> verdict over all -> project -> patch.
 * Its own queue, so slow peers never block the module's main queue. Stateless between
 * runs: what is due is decided from status and clock (lib/federation/fetch/refresh.ts).
 */

export const FETCH_QUEUE = 'federation-fetch';
export const FETCH_TICK = 'federation-fetch-tick';

export interface FetchHookOptions {
  limits?: FetchLimits;
  policy?: RefreshPolicy;
  importLimits?: ImportLimits;
}

export function createFetchMetadataHook(options: FetchHookOptions = {}) {
  const policy = options.policy ?? DEFAULT_REFRESH_POLICY;
  return defineHook({
    name: 'federation/fetch-metadata',
    schedule: [{ name: FETCH_TICK, crontab: `*/${policy.tickSeconds} * * * * *`, queue: FETCH_QUEUE }],
    kubernetes: {
      federations: kubernetesBinding({
        ...FEDERATION_KIND.ref,
        jqFilter: FEDERATION_KIND.jqFilter,
        executeHookOnEvent: true,
        executeHookOnSynchronization: true,
        // Its own queue: a module start must not wait on network fetches.
        waitForSynchronization: false,
        queue: FETCH_QUEUE,
        parse: (raw: unknown) => raw, // read in run(): the reader needs our trust domain
      }),
    },
    async run({ snapshots, values, triggers, kube, metrics, log, now }) {
      metrics.expire(FETCH_METRICS_GROUP);
      const local = localIdentity(values);
      const federations = snapshots.federations
        .map((raw) => readFederation(raw, { ownTrustDomain: local.trustDomain }))
        .filter((f): f is Federation => f !== undefined);
      // Disabled: nothing is fetched; statuses and metrics say nothing is imported.
      const enabled = values.get<boolean>('istio.federation.enabled') === true;
      const scheduled = triggers.some((t) => t.binding === FETCH_TICK);
      // Not on every 2 s tick: on the events that can change it.
      if (!enabled && federations.length && !scheduled)
        log.info('federation is disabled; remote metadata is not fetched');
      const missingIdentity = missingLocalIdentity(local);
      const plan = enabled
        ? planFetches(federations, {
            ownTrustDomain: local.trustDomain,
            now,
            scheduled,
            policy,
            holdFetches: missingIdentity.length > 0,
          })
        : federations.map((peer) => ({ peer, action: 'wait' as const }));
      if (enabled && missingIdentity.length > 0 && plan.some((e) => e.action === 'wait')) {
        log.info('local identity not in values yet; federations wait for it', { missing: missingIdentity });
      }
      const outcomes = await fetchAllPeers(
        plan.flatMap((e) => (e.action === 'fetch' ? [e.peer] : [])),
        { local, now, ...(options.limits ? { limits: options.limits } : {}) },
        FEDERATION_KIND.codec,
      );
      const { statuses } = nextStatuses(FEDERATION_KIND, plan, outcomes, {
        local: { trustDomain: local.trustDomain, clusterUUID: local.clusterUUID, now },
        policy,
        limits: options.importLimits,
        disabled: !enabled,
      });
      writeFetchRun(
        { kube, log, metrics },
        {
          ref: FEDERATION_KIND.ref,
          statuses,
          samples: runMetricSamples(statuses, enabled, now),
          metricsGroup: FETCH_METRICS_GROUP,
          peerField: 'federation',
          now,
        },
      );
    },
  });
}

// The only setting read from the environment (addon-operator's, inherited by hooks): how
// often healthy peers are re-fetched; see refreshPolicyFromEnv.
export default createFetchMetadataHook({ policy: refreshPolicyFromEnv(process.env) });
