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
import { runEvents } from '../../lib/federation/status/events';
import { fetchLogEvents } from '../../lib/federation/status/log';
import {
  FETCH_METRICS_GROUP,
  fetchDurationGroup,
  runMetricSamples,
} from '../../lib/federation/status/metrics';
import { nextStatuses } from '../../lib/federation/status/next';
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
      for (const status of statuses) {
        for (const event of fetchLogEvents(status)) log[event.level](event.message, event.fields);
        if (!status.patch) continue;
        kube.mergePatch(
          { ...FEDERATION_KIND.ref, name: status.entry.peer.name },
          { status: status.patch },
          // The federation may have been deleted while its peer was fetched: a patch of a
          // missing object must not fail the task (the queue would retry it forever).
          { subresource: 'status', ignoreMissingObject: true },
        );
      }
      // Events after every status patch: should one fail, the retried run finds the statuses
      // written, sees no transition and does not fail again on it (status/events.ts).
      const { events, dropped } = runEvents(statuses, FEDERATION_KIND.ref, now);
      for (const event of events) kube.createIfNotExists(event);
      if (dropped) log.info('condition transitions without an Event (per-run limit)', { dropped });
      const samples = runMetricSamples(statuses, enabled, now);
      for (const s of samples) {
        // A histogram per federation in its own group: addon-operator expires every group a
        // run writes to (see fetchDurationGroup), so it holds that federation's last fetch.
        if (s.buckets)
          metrics.observe(
            s.name,
            s.value,
            [...s.buckets],
            s.labels,
            fetchDurationGroup(s.labels.federation_name!),
          );
        else metrics.set(s.name, s.value, s.labels, FETCH_METRICS_GROUP);
      }
    },
  });
}

// The only setting read from the environment (addon-operator's, inherited by hooks): how
// often healthy peers are re-fetched; see refreshPolicyFromEnv.
export default createFetchMetadataHook({ policy: refreshPolicyFromEnv(process.env) });
