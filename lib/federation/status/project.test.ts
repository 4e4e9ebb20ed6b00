import fc from 'fast-check';
import { testPublicDocument } from '../../../tests/support/peer-identity';
import { mergePatchOf } from '../../util/merge-patch';
import type { FetchOutcome } from '../fetch/outcome';
import type { PlanEntry } from '../fetch/plan';
import { DEFAULT_REFRESH_POLICY } from '../fetch/refresh';
import type { PeerVerdict } from '../import/verdict';
import { FEDERATION_KIND } from '../kind';
import { identityOf } from '../trust/select';
import type { CachedPrivateDocument } from '../wire/validate';
import { applyConditions, findCondition } from './conditions';
import { nextStatuses } from './next';
import { projectStatus } from './project';
import { OWNED_STATUS_KEYS, type PeerStatus } from './types';

// After the test root CA's notBefore (tests/support/peer-identity.ts).
const T0 = new Date('2026-11-22T06:00:00Z');
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);
type Status = PeerStatus<CachedPrivateDocument>;
type Outcome = FetchOutcome<CachedPrivateDocument>;

/**
 * One fetch hook run over one peer, as the hook does it (status/next.ts): record the
 * outcome, the verdict over all peers, the projection, the patch.
 */
function run(
  previous: Status,
  outcome: Outcome | undefined,
  now: Date,
  generation = 1,
  trustDomain = 'cluster-b.local',
) {
  const peer = {
    name: 'peer-b',
    generation,
    trustDomain,
    metadataEndpoint: 'https://b.example/metadata/',
    tls: {},
    created: '',
    status: previous,
    rejected: [],
  };
  const entry: PlanEntry<CachedPrivateDocument> =
    trustDomain === 'cluster-a.local'
      ? { peer, action: 'refuse', refusal: { reason: 'OwnTrustDomain', message: 'own' } }
      : outcome
        ? { peer, action: 'fetch', why: 'new' }
        : { peer, action: 'wait' };
  const outcomes = new Map(outcome ? [['peer-b', { outcome, durationMs: 1 }]] : []);
  const { statuses } = nextStatuses(FEDERATION_KIND, [entry], outcomes, {
    local: { trustDomain: 'cluster-a.local', now },
    policy: DEFAULT_REFRESH_POLICY,
  });
  const result = statuses[0]!;
  return {
    status: result.next,
    patch: result.patch,
  };
}
const statusAfterFetch = (previous: Status, outcome: Outcome, now: Date, generation = 1) =>
  run(previous, outcome, now, generation);
const statusMergePatch = (a: Status, b: Status) => mergePatchOf(a, b, OWNED_STATUS_KEYS);

const publicDoc = testPublicDocument('uuid-b');
const privateDoc = {
  ingressGateways: [{ address: '192.0.2.10', port: 15443 }],
  publicServices: [
    {
      hostname: 'bar.xyz.svc.cluster-b.local',
      ports: [{ name: 'http', port: 80, protocol: 'HTTP' as const }],
    },
  ],
};
const success: Outcome = {
  public: { ok: true, document: publicDoc },
  private: { ok: true, document: privateDoc, rejected: [] },
};
const unreachable: Outcome = {
  public: {
    ok: false,
    failure: {
      reason: 'Unreachable',
      message: 'GET x: ECONNREFUSED',
      endpoint: 'https://b.example/metadata/public/public.json',
    },
  },
};

describe('a fetch run: record, verdict, projection', () => {
  it('a peer that rejects our token: TokenRejected on MetadataFetched, ServicesImported and Ready', () => {
    const rejected: Outcome = {
      public: { ok: true, document: publicDoc },
      private: {
        ok: false,
        failure: {
          reason: 'TokenRejected',
          status: 401,
          message: 'GET x: HTTP 401: the peer rejected our token; its admin must create an IstioFederation',
          endpoint: 'https://b.example/metadata/private/private.json',
        },
      },
    };
    const { status } = statusAfterFetch({}, rejected, T0);
    expect(status.conditions?.map((c) => [c.type, c.status, c.reason])).toEqual([
      ['MetadataFetched', 'False', 'TokenRejected'],
      ['TrustEstablished', 'True', 'PeerTrusted'],
      ['ServicesImported', 'False', 'TokenRejected'],
      ['Ready', 'False', 'TokenRejected'],
      ['GatewayReachable', 'Unknown', 'NotProbed'],
    ]);
    expect(findCondition(status.conditions, 'ServicesImported')?.message).toContain(
      'must create an IstioFederation',
    );
  });

  it('records a first successful fetch with the reference cache keys and all conditions True', () => {
    const { status } = statusAfterFetch({}, success, T0);
    expect(status.metadataCache).toEqual({
      public: publicDoc,
      publicLastFetchTimestamp: '2026-11-22T06:00:00Z',
      private: privateDoc,
      privateLastFetchTimestamp: '2026-11-22T06:00:00Z',
    });
    expect(status.observedGeneration).toBe(1);
    expect(status.importedServices).toBe(1);
    expect(status.lastError).toBeUndefined();
    expect(status.fetchRetry).toBeUndefined();
    expect(status.conditions?.map((c) => [c.type, c.status, c.reason])).toEqual([
      ['MetadataFetched', 'True', 'Fetched'],
      ['TrustEstablished', 'True', 'PeerTrusted'],
      ['ServicesImported', 'True', 'Imported'],
      ['Ready', 'True', 'Ready'],
      ['GatewayReachable', 'Unknown', 'NotProbed'],
    ]);
    expect(
      status.conditions?.every(
        (c) => c.observedGeneration === 1 && c.lastTransitionTime === '2026-11-22T06:00:00Z',
      ),
    ).toBe(true);
  });

  it('changes nothing when the same data arrives again within the timestamp heartbeat', () => {
    const first = statusAfterFetch({}, success, T0).status;
    const again = statusAfterFetch(first, success, at(599)).status;
    expect(statusMergePatch(first, again)).toBeUndefined();
  });

  it('refreshes the fetch timestamps once the heartbeat interval has passed, and only them', () => {
    const first = statusAfterFetch({}, success, T0).status;
    const later = statusAfterFetch(first, success, at(600)).status;
    expect(statusMergePatch(first, later)).toEqual({
      metadataCache: {
        publicLastFetchTimestamp: '2026-11-22T06:10:00Z',
        privateLastFetchTimestamp: '2026-11-22T06:10:00Z',
      },
    });
  });

  it('updates the timestamp at once when the data changed', () => {
    const first = statusAfterFetch({}, success, T0).status;
    const changed: Outcome = {
      ...success,
      private: {
        ok: true,
        document: { ...privateDoc, ingressGateways: [{ address: '192.0.2.11', port: 15443 }] },
        rejected: [],
      },
    };
    const patch = statusMergePatch(first, statusAfterFetch(first, changed, at(60)).status);
    expect(patch).toEqual({
      metadataCache: {
        // Objects are diffed key by key; the list is replaced whole.
        private: { ingressGateways: [{ address: '192.0.2.11', port: 15443 }] },
        privateLastFetchTimestamp: '2026-11-22T06:01:00Z',
      },
    });
  });

  it('keeps the last good data on failure and explains the staleness', () => {
    const good = statusAfterFetch({}, success, T0).status;
    const failed = statusAfterFetch(good, unreachable, at(120)).status;
    expect(failed.metadataCache).toEqual(good.metadataCache);
    expect(failed.importedServices).toBe(1);
    expect(failed.lastError).toBe('GET x: ECONNREFUSED');
    const fetched = findCondition(failed.conditions, 'MetadataFetched')!;
    expect(fetched).toMatchObject({
      status: 'False',
      reason: 'Unreachable',
      lastTransitionTime: '2026-11-22T06:02:00Z',
    });
    expect(fetched.message).toBe(
      'GET x: ECONNREFUSED; the metadata fetched at 2026-11-22T06:00:00Z stays in force (stale since 2026-11-22T06:02:00Z)',
    );
    expect(findCondition(failed.conditions, 'TrustEstablished')).toMatchObject({
      status: 'True',
      lastTransitionTime: '2026-11-22T06:00:00Z',
    });
    expect(findCondition(failed.conditions, 'Ready')).toMatchObject({
      status: 'False',
      reason: 'Unreachable',
    });
    expect(failed.fetchRetry).toMatchObject({
      failures: 1,
      failedEndpoint: 'https://b.example/metadata/public/public.json',
    });
  });

  it('backs off exponentially with jitter, keeps the staleness start, and clears the backoff on success', () => {
    let status = statusAfterFetch({}, success, T0).status;
    const delays: number[] = [];
    let now = at(60);
    for (let i = 0; i < 8; i++) {
      status = statusAfterFetch(status, unreachable, now).status;
      const notBefore = new Date(status.fetchRetry!.notBefore);
      delays.push((notBefore.getTime() - now.getTime()) / 1000);
      now = notBefore;
    }
    expect(status.fetchRetry?.failures).toBe(8);
    const ceilings = [10, 20, 40, 80, 160, 300, 300, 300];
    delays.forEach((d, i) => {
      expect(d).toBeGreaterThanOrEqual(ceilings[i]! / 2);
      expect(d).toBeLessThanOrEqual(ceilings[i]!);
    });
    expect(findCondition(status.conditions, 'MetadataFetched')?.message).toContain(
      'stale since 2026-11-22T06:01:00Z',
    );
    const afterSpecChange = statusAfterFetch(status, unreachable, now, 2).status;
    expect(afterSpecChange.fetchRetry?.failures).toBe(1);
    const recovered = statusAfterFetch(status, success, now).status;
    expect(recovered.fetchRetry).toBeUndefined();
    expect(recovered.lastError).toBeUndefined();
    expect(statusMergePatch(status, recovered)).toMatchObject({ fetchRetry: null, lastError: null });
  });

  it('retries a refused token sooner: the peer usually adds us within seconds', () => {
    const rejected: Outcome = {
      public: { ok: true, document: publicDoc },
      private: {
        ok: false,
        failure: {
          reason: 'TokenRejected',
          status: 401,
          message: 'GET x: HTTP 401',
          endpoint: 'https://b.example/metadata/private/federation.json',
        },
      },
    };
    let status = statusAfterFetch({}, success, T0).status;
    let now = at(60);
    const delays: number[] = [];
    for (let i = 0; i < 9; i++) {
      status = statusAfterFetch(status, rejected, now).status;
      const notBefore = new Date(status.fetchRetry!.notBefore);
      delays.push((notBefore.getTime() - now.getTime()) / 1000);
      now = notBefore;
    }
    const ceilings = [2, 4, 8, 16, 30, 30, 30, 30, 30];
    delays.forEach((d, i) => {
      expect(d).toBeGreaterThanOrEqual(Math.max(1, ceilings[i]! / 2));
      expect(d).toBeLessThanOrEqual(ceilings[i]!);
    });
  });

  it('keeps the public document when only the private fetch fails', () => {
    const outcome: Outcome = {
      public: { ok: true, document: publicDoc },
      private: {
        ok: false,
        failure: { reason: 'LocalIdentityMissing', message: 'no key pair yet', endpoint: 'p' },
      },
    };
    const { status } = statusAfterFetch({}, outcome, T0);
    expect(status.metadataCache).toEqual({
      public: publicDoc,
      publicLastFetchTimestamp: '2026-11-22T06:00:00Z',
    });
    expect(findCondition(status.conditions, 'MetadataFetched')).toMatchObject({
      status: 'False',
      reason: 'LocalIdentityMissing',
    });
    expect(findCondition(status.conditions, 'TrustEstablished')).toMatchObject({ status: 'True' });
    expect(findCondition(status.conditions, 'ServicesImported')).toMatchObject({
      status: 'False',
      reason: 'NoPrivateMetadata',
    });
  });

  it('accepts a changed clusterUUID and says so', () => {
    const good = statusAfterFetch({}, success, T0).status;
    const rebuilt: Outcome = {
      ...success,
      public: { ok: true, document: { ...publicDoc, clusterUUID: 'uuid-b2' } },
    };
    const result = statusAfterFetch(good, rebuilt, at(60));
    expect(result.status.metadataCache?.public?.clusterUUID).toBe('uuid-b2');
    const key = identityOf({ public: publicDoc }).authnKeySha256;
    expect(good.trustedIdentity).toEqual({
      clusterUUID: 'uuid-b',
      authnKeySha256: key,
      since: '2026-11-22T06:00:00Z',
    });
    expect(result.status.trustedIdentity).toEqual({
      clusterUUID: 'uuid-b2',
      authnKeySha256: key,
      since: '2026-11-22T06:01:00Z',
      previous: { clusterUUID: 'uuid-b', authnKeySha256: key },
    });
    expect(findCondition(result.status.conditions, 'TrustEstablished')).toMatchObject({
      status: 'True',
      reason: 'IdentityChanged',
      message: expect.stringContaining('clusterUUID uuid-b -> uuid-b2'),
    });
    // Kept until the next fetch; then the peer is simply trusted under its new identity.
    expect(run(result.status, undefined, at(70)).patch).toBeUndefined();
    const confirmed = statusAfterFetch(result.status, rebuilt, at(120)).status;
    expect(findCondition(confirmed.conditions, 'TrustEstablished')).toMatchObject({ reason: 'PeerTrusted' });
    expect(confirmed.trustedIdentity).toEqual(result.status.trustedIdentity);
  });

  it('reports services without gateways as not imported', () => {
    const outcome: Outcome = {
      ...success,
      private: { ok: true, document: { ...privateDoc, ingressGateways: [] }, rejected: ['x'] },
    };
    const { status } = statusAfterFetch({}, outcome, T0);
    expect(status.importedServices).toBe(0);
    expect(status.rejectedItems).toEqual(['x']);
    expect(findCondition(status.conditions, 'ServicesImported')).toMatchObject({
      status: 'False',
      reason: 'NoGateways',
    });
  });
});

describe('projectStatus', () => {
  const verdict = (over: Partial<PeerVerdict> = {}): PeerVerdict => ({
    trust: { trusted: true, identity: identityOf({ public: publicDoc }) },
    state: 'Imported',
    published: 1,
    gateways: 1,
    imported: 1,
    dropped: 0,
    conflicts: [],
    // The fixture's service carries no identities.
    unpinned: 1,
    ...over,
  });
  const good = () => statusAfterFetch({}, success, T0).status;
  const context = { generation: 1, now: at(5), fetched: false };

  it('names the ports that clash and is idempotent', () => {
    const conflicts = [
      {
        federation: 'peer-b',
        hostname: 'bar.xyz.svc.cluster-b.local',
        port: 80,
        reason: 'PortCollision' as const,
        message: 'protocol differs',
      },
    ];
    const withConflicts = projectStatus(good(), verdict({ conflicts, unpinned: 0 }), context);
    expect(findCondition(withConflicts.conditions, 'ServicesImported')).toMatchObject({
      status: 'True',
      reason: 'ImportConflicts',
      message:
        '1 service(s) via 1 gateway(s); 1 port(s) not imported because they clash with ports already imported: bar.xyz.svc.cluster-b.local:80 (protocol differs)',
    });
    expect(
      statusMergePatch(
        withConflicts,
        projectStatus(withConflicts, verdict({ conflicts, unpinned: 0 }), context),
      ),
    ).toBeUndefined();
    expect(projectStatus(withConflicts, verdict(), context).conditions).toEqual(good().conditions);
  });

  it('names unpinned services (no peer identities) in ServicesImported, and says nothing when all are pinned (issue 11)', () => {
    const message = (unpinned: number) =>
      findCondition(projectStatus(good(), verdict({ unpinned }), context).conditions, 'ServicesImported')
        ?.message;
    expect(message(1)).toMatch(/; 1 service\(s\) unpinned: the peer sends no workload identities/);
    expect(message(0)).toBe('1 service(s) via 1 gateway(s)');
  });

  it('says what the verdict refused: trust, services and Ready False with its reason; nothing imported', () => {
    const refused = projectStatus(
      good(),
      verdict({
        trust: { trusted: false, reason: 'DuplicateClusterUUID', message: 'claimed twice' },
        state: 'NotTrusted',
        imported: 0,
      }),
      context,
    );
    expect(refused.conditions?.map((c) => [c.type, c.status, c.reason])).toEqual([
      ['MetadataFetched', 'True', 'Fetched'],
      ['TrustEstablished', 'False', 'DuplicateClusterUUID'],
      ['ServicesImported', 'False', 'PeerNotTrusted'],
      ['Ready', 'False', 'DuplicateClusterUUID'],
      ['GatewayReachable', 'Unknown', 'NotProbed'],
    ]);
    expect(refused.importedServices).toBe(0);
    expect(refused.metadataCache).toEqual(good().metadataCache);
  });

  it('says when the import limit dropped services: condition, Ready and the Services column (issue 10 item 8)', () => {
    const cut = projectStatus(good(), verdict({ published: 5, imported: 3, dropped: 2 }), context);
    expect(findCondition(cut.conditions, 'ServicesImported')).toMatchObject({
      status: 'False',
      reason: 'ImportLimitReached',
      message: expect.stringContaining('3 of 5 service(s) imported; 2 dropped by the import limit'),
    });
    expect(findCondition(cut.conditions, 'Ready')).toMatchObject({
      status: 'False',
      reason: 'ImportLimitReached',
    });
    expect(cut.importedServices).toBe(3);
    expect(cut.services).toBe('3 (2 dropped)');
    expect(projectStatus(cut, verdict(), context).services).toBe('1');
  });

  it('leaves a peer that was never fetched alone', () => {
    expect(projectStatus({}, verdict(), context)).toEqual({});
  });

  it('a run without a fetch projects the same status: no write', () => {
    const first = good();
    expect(run(first, undefined, at(30)).patch).toBeUndefined();
  });

  it('a trust-domain refusal drops the cache and sets every condition False with its reason', () => {
    const refused = run(good(), undefined, at(10), 1, 'cluster-a.local');
    expect(refused.status.metadataCache).toBeUndefined();
    expect(refused.status.conditions?.map((c) => [c.type, c.status, c.reason])).toEqual([
      ['MetadataFetched', 'False', 'OwnTrustDomain'],
      ['TrustEstablished', 'False', 'OwnTrustDomain'],
      ['ServicesImported', 'False', 'OwnTrustDomain'],
      ['Ready', 'False', 'OwnTrustDomain'],
      ['GatewayReachable', 'Unknown', 'NotProbed'],
    ]);
    expect(refused.patch).toMatchObject({ metadataCache: null, importedServices: 0 });
    expect(run(refused.status, undefined, at(20), 1, 'cluster-a.local').patch).toBeUndefined();
  });
});

describe('applyConditions', () => {
  it('moves lastTransitionTime only when the status flips and keeps foreign conditions', () => {
    const foreign = {
      type: 'ImportConflicts',
      status: 'False' as const,
      reason: 'None',
      message: '',
      lastTransitionTime: 'T',
    };
    const first = applyConditions(
      [foreign],
      [{ type: 'Ready', status: 'True', reason: 'Ready', message: 'a' }],
      T0,
      1,
    );
    const second = applyConditions(
      first,
      [{ type: 'Ready', status: 'True', reason: 'Ready', message: 'b' }],
      at(5),
      2,
    );
    expect(findCondition(second, 'Ready')).toMatchObject({
      lastTransitionTime: '2026-11-22T06:00:00Z',
      message: 'b',
      observedGeneration: 2,
    });
    const third = applyConditions(
      second,
      [{ type: 'Ready', status: 'False', reason: 'Timeout', message: 'c' }],
      at(9),
      2,
    );
    expect(findCondition(third, 'Ready')?.lastTransitionTime).toBe('2026-11-22T06:00:09Z');
    expect(findCondition(third, 'ImportConflicts')).toEqual(foreign);
  });
});

describe('the status merge patch', () => {
  const applyMergePatch = (target: unknown, patch: unknown): unknown => {
    if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) return patch;
    const result: Record<string, unknown> =
      typeof target === 'object' && target !== null && !Array.isArray(target)
        ? { ...(target as Record<string, unknown>) }
        : {};
    for (const [k, v] of Object.entries(patch)) {
      if (v === null) delete result[k];
      else result[k] = applyMergePatch(result[k], v);
    }
    return result;
  };

  it('produces a patch that turns the previous status into the next one (property)', () => {
    const outcomeArb = fc.constantFrom<Outcome>(success, unreachable);
    fc.assert(
      fc.property(
        fc.array(fc.tuple(outcomeArb, fc.integer({ min: 1, max: 2000 })), { maxLength: 12 }),
        (steps) => {
          let status: Status = {};
          let now = T0;
          for (const [outcome, dt] of steps) {
            now = new Date(now.getTime() + dt * 1000);
            const next = statusAfterFetch(status, outcome, now).status;
            const patch = statusMergePatch(status, next);
            const patched = patch ? applyMergePatch(status, patch) : status;
            expect(JSON.parse(JSON.stringify(patched))).toEqual(JSON.parse(JSON.stringify(next)));
            status = next;
          }
        },
      ),
      { numRuns: 100 },
    );
  });
});
