/**
 * Kubernetes-style conditions (metav1.Condition shape). `lastTransitionTime` moves only
 * when `status` flips, so recomputing the same state yields the same object and the hook
 * writes nothing.
 */
import type { ConditionReason } from './reasons';

export type ConditionStatus = 'True' | 'False' | 'Unknown';

/** The order conditions are listed in, federation's and multicluster's (lib/multicluster/reasons.ts). */
const CONDITION_TYPES = [
  'MetadataFetched',
  'TrustEstablished',
  'ServicesImported',
  'Joined',
  'RemoteAPIReachable',
  'Ready',
  'GatewayReachable',
] as const;

export interface Condition {
  type: string;
  status: ConditionStatus;
  reason: string;
  message: string;
  lastTransitionTime: string;
  observedGeneration?: number;
}

/**
 * What the projection writes: its reason is one of the vocabulary (status/reasons.ts, or a
 * peer kind's own: lib/multicluster/reasons.ts).
 */
export type ConditionInput<R extends string = ConditionReason> = Omit<
  Condition,
  'lastTransitionTime' | 'observedGeneration' | 'reason'
> & {
  reason: R;
};

export function findCondition(
  conditions: readonly Condition[] | undefined,
  type: string,
): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}

/** Conditions messages are capped: a peer's error text must not bloat the object. */
const MAX_MESSAGE_CHARS = 1024;

export function truncateMessage(message: string): string {
  return message.length <= MAX_MESSAGE_CHARS ? message : message.slice(0, MAX_MESSAGE_CHARS - 3) + '...';
}

/**
 * The next list of conditions: each of `updates` replaces the one of its type, keeping
 * the previous `lastTransitionTime` when the status did not change. Conditions of other
 * types (set by someone else) are kept as they are. Ordered by CONDITION_TYPES.
 */
export function applyConditions<R extends string = ConditionReason>(
  previous: readonly Condition[] | undefined,
  updates: readonly ConditionInput<R>[],
  now: Date,
  generation: number | undefined,
): Condition[] {
  const byType = new Map((previous ?? []).map((c) => [c.type, c]));
  for (const update of updates) {
    const before = byType.get(update.type);
    byType.set(update.type, {
      type: update.type,
      status: update.status,
      reason: update.reason,
      message: truncateMessage(update.message),
      lastTransitionTime:
        before && before.status === update.status ? before.lastTransitionTime : rfc3339(now),
      ...(generation !== undefined ? { observedGeneration: generation } : {}),
    });
  }
  const rank = (type: string): number => {
    const i = (CONDITION_TYPES as readonly string[]).indexOf(type);
    return i < 0 ? CONDITION_TYPES.length : i;
  };
  return [...byType.values()].sort((a, b) => rank(a.type) - rank(b.type) || a.type.localeCompare(b.type));
}

/** RFC 3339 in UTC with second precision, as Kubernetes (and the reference) write it. */
export function rfc3339(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}
