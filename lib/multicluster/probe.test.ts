import { DEFAULT_REFRESH_POLICY, inRefreshSlot } from '../federation/fetch/refresh';
import type { Condition } from '../federation/status/conditions';
import {
  API_PROBE_INTERVAL_SECONDS,
  API_PROBE_RETRY_SECONDS,
  apiProbeDue,
  probeRemoteApi,
  type ProbeDueInput,
} from './probe';

const NOW = new Date('2026-11-22T06:00:01Z');
const probed = (reason = 'RemoteAPIReachable'): Condition[] => [
  { type: 'RemoteAPIReachable', status: 'True', reason, message: '', lastTransitionTime: '' },
];
const cache = (apiHost: string, clusterUUID = 'uuid-b') => ({
  public: { clusterUUID, authnKeyPub: '', rootCA: '' },
  private: { apiHost },
});
const input = (over: Partial<ProbeDueInput> = {}): ProbeDueInput => ({
  name: 'b',
  generation: 1,
  stored: { observedGeneration: 1, metadataCache: cache('api.b'), conditions: probed() },
  next: { observedGeneration: 1, metadataCache: cache('api.b'), conditions: probed() },
  scheduled: false,
  now: NOW,
  policy: DEFAULT_REFRESH_POLICY,
  ...over,
});

describe('apiProbeDue', () => {
  test('a steady peer is probed only in its slot of the minute, on the schedule', () => {
    expect(apiProbeDue(input())).toBe(false);
    const policy = { ...DEFAULT_REFRESH_POLICY, refreshSeconds: API_PROBE_INTERVAL_SECONDS };
    const ticks = Array.from({ length: 30 }, (_, i) => new Date(NOW.getTime() + i * 2000));
    const due = ticks.filter((now) => apiProbeDue(input({ now, scheduled: true })));
    expect(due).toHaveLength(1);
    expect(inRefreshSlot('api/b', due[0]!, policy)).toBe(true);
    expect(apiProbeDue(input({ now: due[0]!, scheduled: false }))).toBe(false);
  });

  test('due at once: never probed, spec change, new apiHost, new remote identity', () => {
    expect(apiProbeDue(input({ next: { conditions: probed('NotProbed') } }))).toBe(true);
    expect(apiProbeDue(input({ next: {} }))).toBe(true);
    expect(apiProbeDue(input({ generation: 2 }))).toBe(true);
    expect(apiProbeDue(input({ next: { metadataCache: cache('api2.b'), conditions: probed() } }))).toBe(true);
    expect(
      apiProbeDue(input({ next: { metadataCache: cache('api.b', 'uuid-x'), conditions: probed() } })),
    ).toBe(true);
  });
});

describe('apiProbeDue follows the fetch and retries failures sooner', () => {
  const fetched = (reason: string, status: 'True' | 'False' = reason === 'Fetched' ? 'True' : 'False') => ({
    type: 'MetadataFetched',
    status,
    reason,
    message: '',
    lastTransitionTime: '',
  });
  const failed: Condition = { ...probed()[0]!, status: 'False', reason: 'RemoteAPITokenRejected' };

  test('due at once when the fetch verdict changes (the remote starts or stops refusing our token)', () => {
    const with_ = (conditions: Condition[]) => ({
      observedGeneration: 1,
      metadataCache: cache('api.b'),
      conditions,
    });
    const ok = with_([fetched('Fetched'), ...probed()]);
    const refused = with_([fetched('TokenRejected'), ...probed()]);
    expect(apiProbeDue(input({ stored: ok, next: ok }))).toBe(false);
    expect(apiProbeDue(input({ stored: ok, next: refused }))).toBe(true);
    expect(apiProbeDue(input({ stored: refused, next: ok }))).toBe(true);
  });

  test('after a failed probe: every API_PROBE_RETRY_SECONDS instead of once a minute', () => {
    const after = { observedGeneration: 1, metadataCache: cache('api.b'), conditions: [failed] };
    const ticks = Array.from({ length: 30 }, (_, i) => new Date(NOW.getTime() + i * 2000));
    const due = ticks.filter((now) =>
      apiProbeDue(input({ stored: after, next: after, now, scheduled: true })),
    );
    expect(due).toHaveLength((30 * 2) / API_PROBE_RETRY_SECONDS);
  });
});

describe('probeRemoteApi without what it needs', () => {
  const target = { name: 'b', apiHost: 'api.b.example', clusterUUID: 'uuid-b', tls: {} };
  test('no apiHost, no local identity: a reason, no request', async () => {
    const local = { trustDomain: 'cluster.local', clusterUUID: undefined, authnPrivateKey: undefined };
    expect(await probeRemoteApi({ ...target, apiHost: '' }, { local, now: NOW })).toMatchObject({
      status: 'False',
      reason: 'MissingAPIHost',
    });
    expect(await probeRemoteApi(target, { local, now: NOW })).toMatchObject({
      status: 'False',
      reason: 'LocalIdentityMissing',
    });
    const badKey = { ...local, clusterUUID: 'uuid-a', authnPrivateKey: 'not a key' };
    expect(await probeRemoteApi(target, { local: badKey, now: NOW })).toMatchObject({
      reason: 'LocalIdentityMissing',
      message: expect.stringContaining('cannot sign'),
    });
  });
});
