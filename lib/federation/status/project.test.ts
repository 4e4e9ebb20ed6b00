import fc from 'fast-check';
import { applyConditions, findCondition } from './conditions';
import { DEFAULT_REFRESH_POLICY } from '../fetch/refresh';
import {
  statusAfterFetch,
  statusAfterRefusal,
  statusMergePatch,
  type FederationStatus,
  type FetchOutcome,
  type StatusContext,
  withImportConflicts,
  withPreviousImportView,
  importInputsChanged,
} from './project';

const T0 = new Date('2026-11-21T06:00:00Z');
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);
const ctx = (now: Date, generation = 1): StatusContext => ({
  generation,
  now,
  seed: 'peer-b',
  endpoint: 'https://b.example/metadata/',
});

const publicDoc = { clusterUUID: 'uuid-b', authnKeyPub: 'PUB', rootCA: 'CA' };
const privateDoc = {
  ingressGateways: [{ address: '192.0.2.10', port: 15443 }],
  publicServices: [
    {
      hostname: 'bar.xyz.svc.cluster-b.local',
      ports: [{ name: 'http', port: 80, protocol: 'HTTP' as const }],
    },
  ],
};
const success: FetchOutcome = {
  public: { ok: true, document: publicDoc },
  private: { ok: true, document: privateDoc, rejected: [] },
};
const unreachable: FetchOutcome = {
  public: {
    ok: false,
    failure: {
      reason: 'Unreachable',
      message: 'GET x: ECONNREFUSED',
      endpoint: 'https://b.example/metadata/public/public.json',
    },
  },
};

describe('statusAfterFetch', () => {
  it('records a first successful fetch with the reference cache keys and all conditions True', () => {
    const { status } = statusAfterFetch({}, success, ctx(T0));
    expect(status.metadataCache).toEqual({
      public: publicDoc,
      publicLastFetchTimestamp: '2026-11-21T06:00:00Z',
      private: privateDoc,
      privateLastFetchTimestamp: '2026-11-21T06:00:00Z',
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
    ]);
    expect(
      status.conditions?.every(
        (c) => c.observedGeneration === 1 && c.lastTransitionTime === '2026-11-21T06:00:00Z',
      ),
    ).toBe(true);
  });

  it('changes nothing when the same data arrives again within the timestamp heartbeat', () => {
    const first = statusAfterFetch({}, success, ctx(T0)).status;
    const again = statusAfterFetch(first, success, ctx(at(599))).status;
    expect(statusMergePatch(first, again)).toBeUndefined();
  });

  it('refreshes the fetch timestamps once the heartbeat interval has passed, and only them', () => {
    const first = statusAfterFetch({}, success, ctx(T0)).status;
    const later = statusAfterFetch(first, success, ctx(at(600))).status;
    expect(statusMergePatch(first, later)).toEqual({
      metadataCache: {
        publicLastFetchTimestamp: '2026-11-21T06:10:00Z',
        privateLastFetchTimestamp: '2026-11-21T06:10:00Z',
      },
    });
  });

  it('updates the timestamp at once when the data changed', () => {
    const first = statusAfterFetch({}, success, ctx(T0)).status;
    const changed: FetchOutcome = {
      ...success,
      private: {
        ok: true,
        document: { ...privateDoc, ingressGateways: [{ address: '192.0.2.11', port: 15443 }] },
        rejected: [],
      },
    };
    const patch = statusMergePatch(first, statusAfterFetch(first, changed, ctx(at(60))).status);
    expect(patch).toEqual({
      metadataCache: {
        // Objects are diffed key by key; the list is replaced whole.
        private: { ingressGateways: [{ address: '192.0.2.11', port: 15443 }] },
        privateLastFetchTimestamp: '2026-11-21T06:01:00Z',
      },
    });
  });

  it('keeps the last good data on failure and explains the staleness', () => {
    const good = statusAfterFetch({}, success, ctx(T0)).status;
    const failed = statusAfterFetch(good, unreachable, ctx(at(120))).status;
    expect(failed.metadataCache).toEqual(good.metadataCache);
    expect(failed.importedServices).toBe(1);
    expect(failed.lastError).toBe('GET x: ECONNREFUSED');
    const fetched = findCondition(failed.conditions, 'MetadataFetched')!;
    expect(fetched).toMatchObject({
      status: 'False',
      reason: 'Unreachable',
      lastTransitionTime: '2026-11-21T06:02:00Z',
    });
    expect(fetched.message).toBe(
      'GET x: ECONNREFUSED; the metadata fetched at 2026-11-21T06:00:00Z stays in force (stale since 2026-11-21T06:02:00Z)',
    );
    expect(findCondition(failed.conditions, 'TrustEstablished')).toMatchObject({
      status: 'True',
      lastTransitionTime: '2026-11-21T06:00:00Z',
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
    let status = statusAfterFetch({}, success, ctx(T0)).status;
    const delays: number[] = [];
    let now = at(60);
    for (let i = 0; i < 8; i++) {
      status = statusAfterFetch(status, unreachable, ctx(now)).status;
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
      'stale since 2026-11-21T06:01:00Z',
    );
    const afterSpecChange = statusAfterFetch(status, unreachable, ctx(now, 2)).status;
    expect(afterSpecChange.fetchRetry?.failures).toBe(1);
    const recovered = statusAfterFetch(status, success, ctx(now)).status;
    expect(recovered.fetchRetry).toBeUndefined();
    expect(recovered.lastError).toBeUndefined();
    expect(statusMergePatch(status, recovered)).toMatchObject({ fetchRetry: null, lastError: null });
  });

  it('keeps the public document when only the private fetch fails', () => {
    const outcome: FetchOutcome = {
      public: { ok: true, document: publicDoc },
      private: {
        ok: false,
        failure: { reason: 'LocalIdentityMissing', message: 'no key pair yet', endpoint: 'p' },
      },
    };
    const { status } = statusAfterFetch({}, outcome, ctx(T0));
    expect(status.metadataCache).toEqual({
      public: publicDoc,
      publicLastFetchTimestamp: '2026-11-21T06:00:00Z',
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
    const good = statusAfterFetch({}, success, ctx(T0)).status;
    const rebuilt: FetchOutcome = {
      ...success,
      public: { ok: true, document: { ...publicDoc, clusterUUID: 'uuid-b2' } },
    };
    const result = statusAfterFetch(good, rebuilt, ctx(at(60)));
    expect(result.clusterUUIDChange).toEqual({ from: 'uuid-b', to: 'uuid-b2' });
    expect(result.status.metadataCache?.public?.clusterUUID).toBe('uuid-b2');
    expect(findCondition(result.status.conditions, 'TrustEstablished')).toMatchObject({
      status: 'True',
      reason: 'ClusterUUIDChanged',
      message: expect.stringContaining('from uuid-b to uuid-b2'),
    });
  });

  it('reports services without gateways as not imported', () => {
    const outcome: FetchOutcome = {
      ...success,
      private: { ok: true, document: { ...privateDoc, ingressGateways: [] }, rejected: ['x'] },
    };
    const { status } = statusAfterFetch({}, outcome, ctx(T0));
    expect(status.importedServices).toBe(0);
    expect(status.rejectedItems).toEqual(['x']);
    expect(findCondition(status.conditions, 'ServicesImported')).toMatchObject({
      status: 'False',
      reason: 'NoGateways',
    });
  });
});

describe('withImportConflicts', () => {
  it('names the ports the merge will not import and is idempotent', () => {
    const good = statusAfterFetch({}, success, ctx(T0)).status;
    const conflicts = [{ hostname: 'bar.xyz.svc.cluster-b.local', port: 80, message: 'protocol differs' }];
    const withConflicts = withImportConflicts(good, conflicts, { generation: 1, now: at(5) });
    expect(findCondition(withConflicts.conditions, 'ServicesImported')).toMatchObject({
      status: 'True',
      reason: 'ImportConflicts',
      message:
        '1 service(s) via 1 gateway(s); 1 port(s) not imported because other federations define them differently: bar.xyz.svc.cluster-b.local:80 (protocol differs)',
    });
    expect(
      statusMergePatch(
        withConflicts,
        withImportConflicts(withConflicts, conflicts, { generation: 1, now: at(9) }),
      ),
    ).toBeUndefined();
    expect(withImportConflicts(withConflicts, [], { generation: 1, now: at(9) }).conditions).toEqual(
      good.conditions,
    );
  });
});

describe('withPreviousImportView', () => {
  const conflicts = [{ hostname: 'bar.xyz.svc.cluster-b.local', port: 80, message: 'protocol differs' }];
  const previous = withImportConflicts(
    statusAfterFetch({}, success, ctx(T0)).status,
    conflicts,
    { generation: 1, now: at(1) },
    3,
  );

  it('keeps the conflict note and importedServices of the previous status after the same data', () => {
    const fetchedAgain = statusAfterFetch(previous, success, ctx(at(10))).status;
    expect(importInputsChanged(previous, fetchedAgain)).toBe(false);
    const next = withPreviousImportView(fetchedAgain, previous, { generation: 1, now: at(10) });
    expect(statusMergePatch(previous, next)).toBeUndefined();
    expect(next.importedServices).toBe(3);
  });

  it('re-derives Ready when this run failed', () => {
    const failed = statusAfterFetch(previous, unreachable, ctx(at(10))).status;
    const next = withPreviousImportView(failed, previous, { generation: 1, now: at(10) });
    expect(findCondition(next.conditions, 'ServicesImported')).toMatchObject({ reason: 'ImportConflicts' });
    expect(findCondition(next.conditions, 'Ready')).toMatchObject({ status: 'False', reason: 'Unreachable' });
  });

  it('sees a changed private document as a changed merge input', () => {
    const other = {
      ...success,
      private: { ok: true as const, document: { ...privateDoc, ingressGateways: [] } },
    };
    expect(importInputsChanged(previous, statusAfterFetch(previous, other, ctx(at(10))).status)).toBe(true);
  });
});

describe('statusAfterRefusal', () => {
  it('drops the cache and sets every condition False with the refusal reason', () => {
    const good = statusAfterFetch({}, success, ctx(T0)).status;
    const refused = statusAfterRefusal(
      good,
      { reason: 'DuplicateTrustDomain', message: 'dup' },
      { generation: 1, now: at(10) },
    );
    expect(refused.metadataCache).toBeUndefined();
    expect(refused.conditions?.map((c) => [c.type, c.status, c.reason])).toEqual([
      ['MetadataFetched', 'False', 'DuplicateTrustDomain'],
      ['TrustEstablished', 'False', 'DuplicateTrustDomain'],
      ['ServicesImported', 'False', 'DuplicateTrustDomain'],
      ['Ready', 'False', 'DuplicateTrustDomain'],
    ]);
    expect(statusMergePatch(good, refused)).toMatchObject({ metadataCache: null, importedServices: 0 });
    expect(
      statusMergePatch(
        refused,
        statusAfterRefusal(
          refused,
          { reason: 'DuplicateTrustDomain', message: 'dup' },
          { generation: 1, now: at(20) },
        ),
      ),
    ).toBeUndefined();
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
      lastTransitionTime: '2026-11-21T06:00:00Z',
      message: 'b',
      observedGeneration: 2,
    });
    const third = applyConditions(
      second,
      [{ type: 'Ready', status: 'False', reason: 'X', message: 'c' }],
      at(9),
      2,
    );
    expect(findCondition(third, 'Ready')?.lastTransitionTime).toBe('2026-11-21T06:00:09Z');
    expect(findCondition(third, 'ImportConflicts')).toEqual(foreign);
  });
});

describe('statusMergePatch', () => {
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
    const outcomeArb = fc.constantFrom<FetchOutcome>(success, unreachable);
    fc.assert(
      fc.property(
        fc.array(fc.tuple(outcomeArb, fc.integer({ min: 1, max: 2000 })), { maxLength: 12 }),
        (steps) => {
          let status: FederationStatus = {};
          let now = T0;
          for (const [outcome, dt] of steps) {
            now = new Date(now.getTime() + dt * 1000);
            const next = statusAfterFetch(status, outcome, {
              ...ctx(now),
              policy: DEFAULT_REFRESH_POLICY,
            }).status;
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
