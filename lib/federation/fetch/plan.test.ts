import type { CachedPeer } from '../cached/read';
import { planFetches } from './plan';

const T0 = Date.parse('2026-11-21T06:00:00Z');

describe('planFetches', () => {
  const federation = (name: string, trustDomain: string): CachedPeer<unknown> => ({
    name,
    generation: 1,
    trustDomain,
    metadataEndpoint: `https://${name}.example/metadata/`,
    tls: {},
    status: {},
    rejected: [],
  });

  it('refuses our own domain, cluster.local and later duplicates by name', () => {
    const plan = planFetches(
      [
        federation('z-dup', 'cluster-b.local'),
        federation('self', 'Cluster-A.local'),
        federation('default', 'cluster.local'),
        federation('a-first', 'cluster-b.local'),
        federation('c', 'cluster-c.local'),
      ],
      { ownTrustDomain: 'cluster-a.local', now: new Date(T0), scheduled: false },
    );
    expect(plan.map((e) => [e.peer.name, e.action === 'refuse' ? e.refusal.reason : e.action])).toEqual([
      ['a-first', 'fetch'],
      ['c', 'fetch'],
      ['default', 'ReservedTrustDomain'],
      ['self', 'OwnTrustDomain'],
      ['z-dup', 'DuplicateTrustDomain'],
    ]);
    const dup = plan.find((e) => e.peer.name === 'z-dup');
    expect(dup?.action === 'refuse' && dup.refusal.message).toContain('already federated by a-first');
  });
  it('also refuses an invalid trust domain, and a timed-out peer is fetched first', () => {
    const timedOut: CachedPeer<unknown> = {
      ...federation('z-slow', 'cluster-z.local'),
      status: {
        observedGeneration: 1,
        fetchRetry: { failures: 1, notBefore: '2026-11-21T05:00:00Z', failedEndpoint: '' },
        conditions: [
          {
            type: 'MetadataFetched',
            status: 'False',
            reason: 'Timeout',
            message: '',
            lastTransitionTime: 'T',
          },
        ],
      },
    };
    const plan = planFetches(
      [federation('a', 'cluster-b.local'), federation('bad', 'not valid!'), timedOut],
      {
        ownTrustDomain: 'cluster-a.local',
        now: new Date(T0),
        scheduled: false,
      },
    );
    expect(plan.map((e) => [e.peer.name, e.action === 'refuse' ? e.refusal.reason : e.action])).toEqual([
      ['z-slow', 'fetch'],
      ['a', 'fetch'],
      ['bad', 'InvalidTrustDomain'],
    ]);
  });

  it('holds due fetches while our identity is missing; refusals still apply', () => {
    const plan = planFetches([federation('a', 'cluster-b.local'), federation('self', 'cluster-a.local')], {
      ownTrustDomain: 'cluster-a.local',
      now: new Date(T0),
      scheduled: true,
      holdFetches: true,
    });
    expect(plan.map((e) => e.action)).toEqual(['wait', 'refuse']);
  });
});
