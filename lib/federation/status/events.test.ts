import { applyConditions, type ConditionInput } from './conditions';
import { EVENTS_NAMESPACE, transitionEvents } from './events';
import type { ConditionReason } from './reasons';

const T0 = new Date('2026-11-22T06:00:00Z');
const T1 = new Date('2026-11-22T06:05:00Z');
const subject = {
  apiVersion: 'deckhouse.io/v1alpha1',
  kind: 'IstioFederation',
  name: 'cluster-b',
  uid: '0b4c7e0e-1111-2222-3333-444455556666',
  created: '2026-11-22T05:00:00Z',
};
const fetched = (status: 'True' | 'False', reason: ConditionReason, message: string): ConditionInput => ({
  type: 'MetadataFetched',
  status,
  reason,
  message,
});

describe('Events on condition transitions', () => {
  const first = applyConditions([], [fetched('True', 'Fetched', 'ok')], T0, 1);

  it('a new condition and a flip each give one Event on the cluster-scoped object, in default', () => {
    const [created] = transitionEvents(subject, undefined, first, T0);
    expect(created).toMatchObject({
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { namespace: EVENTS_NAMESPACE },
      involvedObject: {
        apiVersion: 'deckhouse.io/v1alpha1',
        kind: 'IstioFederation',
        name: 'cluster-b',
        uid: subject.uid,
      },
      type: 'Normal',
      reason: 'Fetched',
      message: 'MetadataFetched=True: ok',
      count: 1,
      firstTimestamp: '2026-11-22T06:00:00Z',
    });
    expect(EVENTS_NAMESPACE).toBe('default');
    expect(created!.metadata.name).toMatch(/^cluster-b\.[0-9a-f]{16}$/);

    const failing = applyConditions(
      first,
      [fetched('False', 'TokenRejected', 'HTTP 401: create ...')],
      T1,
      1,
    );
    const events = transitionEvents(subject, first, failing, T1);
    expect(events.map((e) => [e.type, e.reason, e.message])).toEqual([
      ['Warning', 'TokenRejected', 'MetadataFetched=False: HTTP 401: create ...'],
    ]);
  });

  it('a condition that appears Unknown is no Event; its first flip from Unknown is', () => {
    const gateway = (status: 'True' | 'False' | 'Unknown', reason: ConditionReason): ConditionInput => ({
      type: 'GatewayReachable',
      status,
      reason,
      message: reason,
    });
    const notProbed = applyConditions(first, [gateway('Unknown', 'NotProbed')], T0, 1);
    expect(transitionEvents(subject, first, notProbed, T0)).toEqual([]);
    const dead = applyConditions(notProbed, [gateway('False', 'GatewayUnreachable')], T1, 1);
    expect(transitionEvents(subject, notProbed, dead, T1).map((e) => [e.type, e.reason])).toEqual([
      ['Warning', 'GatewayUnreachable'],
    ]);
  });

  it('nothing when no status flips (reason or message changes alone are not transitions)', () => {
    const again = applyConditions(first, [fetched('True', 'Fetched', 'ok, again')], T1, 1);
    expect(transitionEvents(subject, first, again, T1)).toEqual([]);
  });

  it('deterministic names: a retried run (another now) names the same transition the same', () => {
    const a = transitionEvents(
      subject,
      first,
      applyConditions(first, [fetched('False', 'Timeout', 'x')], T1, 1),
      T1,
    );
    const later = new Date(T1.getTime() + 7_000);
    const b = transitionEvents(
      subject,
      first,
      applyConditions(first, [fetched('False', 'Timeout', 'x')], later, 1),
      later,
    );
    expect(a[0]!.metadata.name).toBe(b[0]!.metadata.name);
    // Another transition (back to True later) or another object: another name.
    const other = transitionEvents(
      { ...subject, uid: 'other' },
      first,
      applyConditions(first, [fetched('False', 'Timeout', 'x')], T1, 1),
      T1,
    );
    expect(other[0]!.metadata.name).not.toBe(a[0]!.metadata.name);
  });

  it('a long object name still gives a valid DNS subdomain of at most 253 characters', () => {
    const name = `${'a'.repeat(62)}.`.repeat(4) + 'b';
    const [event] = transitionEvents({ ...subject, name }, undefined, first, T0);
    expect(event!.metadata.name.length).toBeLessThanOrEqual(253);
    expect(event!.metadata.name).toMatch(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?\.[0-9a-f]{16}$/);
    expect(event!.metadata.name).not.toMatch(/\.\./);
  });
});
