import { createHash } from 'node:crypto';
import type { Condition } from './conditions';
import type { NextStatus } from './next';
import { rfc3339, truncateMessage } from './conditions';

/**
 * Kubernetes Events on condition transitions: when a condition of a peer object appears
 * (not as Unknown) or its status flips (the projection knows the previous and the next status), one core/v1
 * Event on the object — Normal for True, Warning otherwise; reason and message are the
 * condition's. Peer objects are cluster-scoped, so their Events live in `default`.
 *
 * The name is deterministic (`<object>.<hash of the transition>`): the hash covers the
 * object's uid, the condition type, the status it leaves with that status's
 * lastTransitionTime (or the object's creation when the condition is new) and the status it
 * reaches. A run retried after a partial write computes the same names, and the hook
 * creates them with CreateIfNotExists: no duplicates.
 */

export const EVENTS_NAMESPACE = 'default';
/** At most this many Events per hook run, over all peers (disabling federation flips every peer). */
export const MAX_EVENTS_PER_RUN = 40;
export const EVENT_SOURCE = 'istio-federation';

export interface EventSubject {
  apiVersion: string;
  kind: string;
  name: string;
  uid?: string | undefined;
  /** `.metadata.creationTimestamp`, '' when unknown. */
  created: string;
}

export type KubeEvent = {
  apiVersion: 'v1';
  kind: 'Event';
  metadata: { name: string; namespace: string; labels: Record<string, string> };
  involvedObject: { apiVersion: string; kind: string; name: string; uid?: string };
  reason: string;
  message: string;
  type: 'Normal' | 'Warning';
  count: 1;
  firstTimestamp: string;
  lastTimestamp: string;
  source: { component: string };
};

/** Event names are DNS subdomains (253); the hash takes 17 of them. */
const MAX_PREFIX_CHARS = 253 - 17;
/** An Event's reason is at most 128 characters (the API server's limit). */
const MAX_REASON_CHARS = 128;

export function transitionEvents(
  subject: EventSubject,
  previous: readonly Condition[] | undefined,
  next: readonly Condition[] | undefined,
  now: Date,
): KubeEvent[] {
  const before = new Map((previous ?? []).map((c) => [c.type, c]));
  const events: KubeEvent[] = [];
  for (const condition of next ?? []) {
    const old = before.get(condition.type);
    if (old?.status === condition.status) continue;
    // A condition that appears Unknown (GatewayReachable NotProbed) reports no change.
    if (!old && condition.status === 'Unknown') continue;
    const from = old ? `${old.status}@${old.lastTransitionTime}` : `new@${subject.created}`;
    const hash = createHash('sha256')
      .update(JSON.stringify([subject.uid ?? '', subject.name, condition.type, from, condition.status]))
      .digest('hex')
      .slice(0, 16);
    const prefix = subject.name.slice(0, MAX_PREFIX_CHARS).replace(/[-.]+$/, '');
    const involvedObject = {
      apiVersion: subject.apiVersion,
      kind: subject.kind,
      name: subject.name,
      ...(subject.uid ? { uid: subject.uid } : {}),
    };
    events.push({
      apiVersion: 'v1',
      kind: 'Event',
      metadata: {
        name: `${prefix}.${hash}`,
        namespace: EVENTS_NAMESPACE,
        labels: { 'app.kubernetes.io/managed-by': EVENT_SOURCE },
      },
      involvedObject,
      reason: (condition.reason || condition.type).slice(0, MAX_REASON_CHARS),
      message: truncateMessage(`${condition.type}=${condition.status}: ${condition.message}`),
      type: condition.status === 'True' ? 'Normal' : 'Warning',
      count: 1,
      firstTimestamp: rfc3339(now),
      lastTimestamp: rfc3339(now),
      source: { component: EVENT_SOURCE },
    });
  }
  return events;
}

/**
 * The Events of one fetch run: one per condition that appeared or flipped on a status the
 * run patches, at most MAX_EVENTS_PER_RUN (`dropped` counts the rest).
 */
export function runEvents<P>(
  statuses: readonly NextStatus<P>[],
  ref: { apiVersion: string; kind: string },
  now: Date,
): { events: KubeEvent[]; dropped: number } {
  const events: KubeEvent[] = [];
  for (const { entry, next, patch } of statuses) {
    if (!patch) continue;
    const { peer } = entry;
    const subject = { ...ref, name: peer.name, uid: peer.uid, created: peer.created };
    events.push(...transitionEvents(subject, peer.status.conditions, next.conditions, now));
  }
  return {
    events: events.slice(0, MAX_EVENTS_PER_RUN),
    dropped: Math.max(0, events.length - MAX_EVENTS_PER_RUN),
  };
}
