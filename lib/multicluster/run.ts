import { fetchAllPeers, type FetchLimits } from '../federation/fetch/peer';
import { planFetches, type PlanEntry } from '../federation/fetch/plan';
import type { RefreshPolicy } from '../federation/fetch/refresh';
import { missingLocalIdentity, type LocalIdentity } from '../federation/identity/local';
import { nextStatuses, statusPatch, type NextStatus } from '../federation/status/next';
import { MULTICLUSTER_KIND, readMulticluster, type Multicluster } from './kind';
import { apiProbeDue, probeRemoteApi, type ApiProbeResult } from './probe';
import { recordApiProbe } from './status';
import type { MulticlusterVerdict } from './verdict';
import type { MulticlusterPrivateDocument } from './wire';

/**
 * One run of the multicluster fetch hook, without its I/O to Kubernetes: read -> plan ->
 * fetch (public and private documents, every due peer at once) -> verdict over all ->
 * project -> probe the APIs of joined peers that are due (at once too) -> record the probes
 * -> the status patches. The hook writes the patches, Events and metrics.
 */

export interface MulticlusterRunInput {
  /** The binding's snapshot (jqFilter results). */
  snapshot: readonly unknown[];
  local: LocalIdentity;
  enabled: boolean;
  /** Triggered by the schedule (healthy peers are refreshed, APIs probed, only then). */
  scheduled: boolean;
  now: Date;
  policy: RefreshPolicy;
  limits?: FetchLimits | undefined;
  probeLimits?: FetchLimits | undefined;
}

export interface MulticlusterRun {
  statuses: NextStatus<MulticlusterPrivateDocument>[];
  verdict: MulticlusterVerdict;
  /** The probes of this run, by peer name. */
  probes: Map<string, ApiProbeResult>;
  /** The values our identity needs and lacks (peers wait for them). */
  missingIdentity: string[];
}

export async function runMulticlusterFetch(input: MulticlusterRunInput): Promise<MulticlusterRun> {
  const { local, now, enabled } = input;
  const peers = input.snapshot
    .map((raw) => readMulticluster(raw, { ownTrustDomain: local.trustDomain }))
    .filter((p): p is Multicluster => p !== undefined);
  const missingIdentity = missingLocalIdentity(local);
  const plan: PlanEntry<MulticlusterPrivateDocument>[] = enabled
    ? planFetches(peers, {
        ownTrustDomain: local.trustDomain,
        trustDomains: MULTICLUSTER_KIND.trustDomains,
        now,
        scheduled: input.scheduled,
        policy: input.policy,
        holdFetches: missingIdentity.length > 0,
      })
    : peers.map((peer) => ({ peer, action: 'wait' as const }));
  const env = { local, now, tlsCache: new Map(), ...(input.limits ? { limits: input.limits } : {}) };
  const outcomes = await fetchAllPeers(
    plan.flatMap((e) => (e.action === 'fetch' ? [e.peer] : [])),
    env,
    MULTICLUSTER_KIND.codec,
  );
  const { statuses, verdict } = nextStatuses(MULTICLUSTER_KIND, plan, outcomes, {
    local: { trustDomain: local.trustDomain, clusterUUID: local.clusterUUID, now },
    policy: input.policy,
    disabled: !enabled,
  });
  const byName = new Map(statuses.map((s) => [s.entry.peer.name, s]));
  const due =
    enabled && missingIdentity.length === 0
      ? verdict.usable.filter((u) => {
          const s = byName.get(u.name)!;
          const { peer } = s.entry;
          return apiProbeDue({
            name: u.name,
            generation: peer.generation,
            stored: peer.status,
            next: s.next,
            scheduled: input.scheduled,
            now,
            policy: input.policy,
          });
        })
      : [];
  const probeEnv = { ...env, limits: input.probeLimits };
  const results = await Promise.all(due.map((u) => probeRemoteApi(u, probeEnv)));
  const probes = new Map(due.map((u, i) => [u.name, results[i]!]));
  for (const [name, result] of probes) {
    const s = byName.get(name)!;
    s.next = recordApiProbe(s.next, result, { now, generation: s.entry.peer.generation });
    s.patch = statusPatch(MULTICLUSTER_KIND, s.entry.peer, s.next);
  }
  return { statuses, verdict, probes, missingIdentity };
}
