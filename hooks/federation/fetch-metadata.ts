import type { FetchLimits, PeerTls, PreparedTls } from '../../lib/federation/fetch/transport';
import {
  DEFAULT_FETCH_CONCURRENCY,
  fetchFederation,
  mapBounded,
  missingLocalIdentity,
  type LocalIdentity,
  type TimedOutcome,
} from '../../lib/federation/fetch/peer';
import { FETCH_METRICS_GROUP, fetchMetricSamples } from '../../lib/federation/status/metrics';
import { planFetches, type FederationSnapshot, type PlanEntry } from '../../lib/federation/fetch/plan';
import {
  mergeFederations,
  type FederationInput,
  type ImportConflict,
} from '../../lib/federation/import/verdict';
import {
  DEFAULT_REFRESH_POLICY,
  refreshPolicyFromEnv,
  type RefreshPolicy,
} from '../../lib/federation/fetch/refresh';
import {
  importInputsChanged,
  MERGE_TRUST_REFUSALS,
  statusAfterFetch,
  statusAfterRefusal,
  statusMergePatch,
  withImportConflicts,
  withPreviousImportView,
  type FederationStatus,
  type TrustRefusalNote,
} from '../../lib/federation/status/project';
import { parseFederationStatus } from '../../lib/federation/cached/read';
import { defineHook, kubernetesBinding } from '../../lib/hook-sdk';
import type { Logger } from '../../lib/hook-sdk/logger';

/**
 * Fetches the metadata of every IstioFederation's remote cluster and records it, with
 * conditions, in the object's status (the merge hook turns statuses into values). Runs
 * in its own queue so slow peers never block the module's main queue. Stateless between
 * runs: what is due is decided from status and clock (lib/federation/fetch/refresh.ts).
 */

export const FETCH_QUEUE = 'federation-fetch';
export const FETCH_TICK = 'federation-fetch-tick';

export interface FetchHookOptions {
  limits?: FetchLimits;
  concurrency?: number;
  policy?: RefreshPolicy;
}

const FEDERATION_REF = { apiVersion: 'deckhouse.io/v1alpha1', kind: 'IstioFederation' } as const;

// Only the status fields this hook owns: changes made by others do not re-run it.
const JQ_FILTER = `{
  name: .metadata.name,
  generation: .metadata.generation,
  spec: .spec,
  status: ((.status // {}) | {observedGeneration, metadataCache, conditions, importedServices, lastError, rejectedItems, fetchRetry})
}`;

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Validates one filter result; an object without usable spec yields undefined (skipped, logged). */
export function parseFederation(raw: unknown): FederationSnapshot | { invalid: string } {
  if (!isObject(raw) || typeof raw.name !== 'string') return { invalid: 'object without a name' };
  const spec = isObject(raw.spec) ? raw.spec : {};
  const { trustDomain, metadataEndpoint } = spec;
  if (typeof trustDomain !== 'string' || typeof metadataEndpoint !== 'string') {
    return { invalid: `IstioFederation ${raw.name} has no spec.trustDomain or spec.metadataEndpoint` };
  }
  const metadata = isObject(spec.metadata) ? spec.metadata : {};
  const tls: PeerTls = {
    ...(typeof metadata.ca === 'string' ? { ca: metadata.ca } : {}),
    ...(metadata.insecureSkipVerify === true ? { insecureSkipVerify: true } : {}),
  };
  return {
    name: raw.name,
    generation: typeof raw.generation === 'number' ? raw.generation : undefined,
    trustDomain,
    metadataEndpoint,
    tls,
    status: parseFederationStatus(raw.status),
  };
}

export function createFetchMetadataHook(options: FetchHookOptions = {}) {
  const policy = options.policy ?? DEFAULT_REFRESH_POLICY;
  return defineHook({
    name: 'federation/fetch-metadata',
    schedule: [{ name: FETCH_TICK, crontab: `*/${policy.tickSeconds} * * * * *`, queue: FETCH_QUEUE }],
    kubernetes: {
      federations: kubernetesBinding({
        ...FEDERATION_REF,
        jqFilter: JQ_FILTER,
        executeHookOnEvent: true,
        executeHookOnSynchronization: true,
        // Its own queue: a module start must not wait on network fetches.
        waitForSynchronization: false,
        queue: FETCH_QUEUE,
        parse: parseFederation,
      }),
    },
    async run({ snapshots, values, triggers, kube, metrics, log, now }) {
      metrics.expire(FETCH_METRICS_GROUP);
      const federations: FederationSnapshot[] = [];
      for (const item of snapshots.federations) {
        if ('invalid' in item)
          log.warn('skipping an IstioFederation without a usable spec', { problem: item.invalid });
        else federations.push(item);
      }
      if (values.get<boolean>('istio.federation.enabled') !== true) {
        if (federations.length) log.info('federation is disabled; remote metadata is not fetched');
        return;
      }
      const ownTrustDomain = values.get<string>('global.discovery.clusterDomain') ?? '';
      const local: LocalIdentity = {
        trustDomain: ownTrustDomain,
        clusterUUID: values.get<string>('global.discovery.clusterUUID') || undefined,
        authnPrivateKey: values.get<string>('istio.internal.remoteAuthnKeypair.priv') || undefined,
      };
      const missingIdentity = missingLocalIdentity(local);
      const plan = planFetches(federations, {
        ownTrustDomain,
        now,
        scheduled: triggers.some((t) => t.binding === FETCH_TICK),
        policy,
        holdFetches: missingIdentity.length > 0,
      });
      if (missingIdentity.length > 0 && plan.some((e) => e.action === 'wait')) {
        log.info('local identity not in values yet; federations wait for it', { missing: missingIdentity });
      }
      const toFetch = slowestFirst(plan.filter((e) => e.action === 'fetch'));
      const outcomes = new Map<string, TimedOutcome>();
      const tlsCache = new Map<string, PreparedTls>();
      await mapBounded(toFetch, options.concurrency ?? DEFAULT_FETCH_CONCURRENCY, async (entry) => {
        const target = entry.federation;
        outcomes.set(
          target.name,
          await fetchFederation(target, { local, now, tlsCache, ...limitsOption(options) }),
        );
      });

      const computed = plan.map((entry) => ({
        entry,
        next: nextStatus(entry, outcomes.get(entry.federation.name), now, policy, log),
      }));
      // The cross-federation view costs a whole merge: only when its inputs may have changed
      // (a federation event: added, removed, edited; or a cache changed in this run), not on
      // every tick.
      const recompute =
        triggers.some((t) => t.binding === 'federations') ||
        computed.some(({ entry, next }) => importInputsChanged(entry.federation.status, next));
      const view = recompute
        ? importViewByFederation(computed, {
            localTrustDomain: ownTrustDomain,
            ...(local.clusterUUID ? { localClusterUUID: local.clusterUUID } : {}),
            now,
          })
        : undefined;
      const metricInputs = computed.map(({ entry, next: computedStatus }) => {
        const { federation } = entry;
        const context = { generation: federation.generation, now };
        const next =
          entry.action === 'refuse'
            ? computedStatus
            : view
              ? withImportConflicts(
                  computedStatus,
                  view.conflicts.get(federation.name) ?? [],
                  context,
                  view.importedServices[federation.name] ?? 0,
                  view.trustRefusals.get(federation.name),
                )
              : withPreviousImportView(computedStatus, federation.status, context);
        const patch = statusMergePatch(federation.status, next);
        if (patch) {
          kube.mergePatch(
            { ...FEDERATION_REF, name: federation.name },
            { status: patch },
            // The federation may have been deleted while its peer was fetched: a patch of a
            // missing object must not fail the task (the queue would retry it forever).
            { subresource: 'status', ignoreMissingObject: true },
          );
        }
        const timed = outcomes.get(federation.name);
        return {
          name: federation.name,
          metadataEndpoint: federation.metadataEndpoint,
          status: next,
          refused: entry.action === 'refuse',
          ...(timed ? { durationMs: timed.durationMs } : {}),
        };
      });
      for (const sample of fetchMetricSamples(metricInputs, now)) {
        metrics.set(sample.name, sample.value, sample.labels, FETCH_METRICS_GROUP);
      }
    },
  });
}

/**
 * Peers that timed out last time start first: in the bounded pool their timeouts then
 * run alongside the fast peers instead of after them (one timeout in total, not two).
 */
export function slowestFirst(entries: readonly PlanEntry[]): PlanEntry[] {
  const timedOut = (e: PlanEntry) =>
    e.federation.status.conditions?.some((c) => c.type === 'MetadataFetched' && c.reason === 'Timeout')
      ? 0
      : 1;
  return [...entries].sort((a, b) => timedOut(a) - timedOut(b));
}

/**
 * What the merge makes of each federation: ports it will not import (the merge hook reports
 * them too, in metrics and logs) and hostnames it imports. The same merge and options as
 * the merge hook, so status and the merge's metrics agree.
 */
function importViewByFederation(
  computed: readonly { entry: PlanEntry; next: FederationStatus }[],
  options: { localTrustDomain: string; localClusterUUID?: string; now: Date },
): {
  conflicts: Map<string, ImportConflict[]>;
  importedServices: Record<string, number>;
  trustRefusals: Map<string, TrustRefusalNote>;
} {
  const inputs: FederationInput[] = computed
    .filter(({ entry }) => entry.action !== 'refuse')
    .map(({ entry, next }) => ({
      name: entry.federation.name,
      trustDomain: entry.federation.trustDomain,
      ...(next.metadataCache?.public ? { public: next.metadataCache.public } : {}),
      ...(next.metadataCache?.private ? { private: next.metadataCache.private } : {}),
    }));
  const result = mergeFederations(inputs, options);
  const conflicts = new Map<string, ImportConflict[]>();
  for (const conflict of result.conflicts) {
    conflicts.set(conflict.federation, [...(conflicts.get(conflict.federation) ?? []), conflict]);
  }
  const trustRefusals = new Map<string, TrustRefusalNote>();
  for (const { federation, reason, message } of result.refused) {
    if (MERGE_TRUST_REFUSALS.includes(reason)) trustRefusals.set(federation, { reason, message });
  }
  return { conflicts, importedServices: result.importedServices, trustRefusals };
}

function limitsOption(options: FetchHookOptions): { limits?: FetchLimits } {
  return options.limits ? { limits: options.limits } : {};
}

function nextStatus(
  entry: PlanEntry,
  timed: TimedOutcome | undefined,
  now: Date,
  policy: RefreshPolicy,
  log: Logger,
): FederationStatus {
  const { federation } = entry;
  const fields = { federation: federation.name, trustDomain: federation.trustDomain };
  if (entry.action === 'refuse') {
    if (entry.federation.status.lastError !== entry.refusal.message) {
      log.warn('IstioFederation refused', {
        ...fields,
        reason: entry.refusal.reason,
        message: entry.refusal.message,
      });
    }
    return statusAfterRefusal(federation.status, entry.refusal, { generation: federation.generation, now });
  }
  if (!timed) return federation.status;
  const { status, clusterUUIDChange } = statusAfterFetch(federation.status, timed.outcome, {
    generation: federation.generation,
    now,
    seed: federation.name,
    endpoint: federation.metadataEndpoint,
    policy,
  });
  const { outcome } = timed;
  const failure = !outcome.public.ok
    ? outcome.public.failure
    : outcome.private?.ok === false
      ? outcome.private.failure
      : undefined;
  const durationMs = Math.round(timed.durationMs);
  if (failure) {
    log.warn('remote metadata fetch failed; keeping the last good data', {
      ...fields,
      reason: failure.reason,
      error: failure.message,
      endpoint: failure.endpoint,
      failures: status.fetchRetry?.failures,
      nextAttemptAfter: status.fetchRetry?.notBefore,
      durationMs,
    });
  } else {
    log.debug('remote metadata fetched', {
      ...fields,
      durationMs,
      importedServices: status.importedServices,
    });
  }
  if (clusterUUIDChange) {
    log.warn('peer clusterUUID changed; accepting the new identity', { ...fields, ...clusterUUIDChange });
  }
  if (outcome.private?.ok && outcome.private.rejected?.length) {
    const previous = federation.status.rejectedItems ?? [];
    if (JSON.stringify(previous) !== JSON.stringify(outcome.private.rejected)) {
      log.warn('some remote metadata items were rejected', { ...fields, rejected: outcome.private.rejected });
    }
  }
  return status;
}

// The only setting read from the environment (addon-operator's, inherited by hooks): how
// often healthy peers are re-fetched; see refreshPolicyFromEnv.
export default createFetchMetadataHook({ policy: refreshPolicyFromEnv(process.env) });
