import fc from 'fast-check';
import {
  backoffSeconds,
  DEFAULT_REFRESH_POLICY,
  REFRESH_SECONDS_ENV,
  refreshPolicyFromEnv,
  fetchDueReason,
  inRefreshSlot,
  type RefreshState,
} from './refresh';

const T0 = Date.parse('2026-11-21T06:00:00Z');
// A refresh interval of several ticks, as ISTIO_FEDERATION_REFRESH_SECONDS=60 sets it.
const policy = { ...DEFAULT_REFRESH_POLICY, refreshSeconds: 60 };

describe('inRefreshSlot', () => {
  it('selects exactly one tick per refresh interval for any name (property)', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, maxLength: 63 }),
        fc.integer({ min: 0, max: 10_000 }),
        (name, startTick) => {
          let hits = 0;
          for (let tick = 0; tick < policy.refreshSeconds / policy.tickSeconds; tick++) {
            const now = new Date(T0 + (startTick + tick) * policy.tickSeconds * 1000);
            if (inRefreshSlot(name, now, policy)) hits++;
          }
          expect(hits).toBe(1);
        },
      ),
    );
  });
});

describe('backoffSeconds', () => {
  it('doubles from the base up to the cap, jittered into [d/2, d]', () => {
    expect([1, 2, 3, 4, 5, 6, 20].map((n) => backoffSeconds(n, policy, 0.999999))).toEqual([
      10, 20, 40, 80, 160, 300, 300,
    ]);
    expect([1, 2, 6].map((n) => backoffSeconds(n, policy, 0))).toEqual([5, 10, 150]);
  });
});

describe('fetchDueReason', () => {
  const healthy: RefreshState = {
    name: 'b',
    generation: 2,
    observedGeneration: 2,
    needsFirstFetch: false,
    retryNotBefore: undefined,
  };
  const now = new Date(T0);

  it('fetches new, changed and previously refused federations on any trigger', () => {
    expect(fetchDueReason({ ...healthy, observedGeneration: undefined }, now, false)).toBe('new');
    expect(fetchDueReason({ ...healthy, needsFirstFetch: true }, now, false)).toBe('new');
    expect(fetchDueReason({ ...healthy, generation: 3 }, now, false)).toBe('specChanged');
  });

  it('waits for the backoff time of a failing federation', () => {
    const failing = { ...healthy, retryNotBefore: '2026-11-21T06:00:30Z' };
    expect(fetchDueReason(failing, new Date(T0 + 29_000), true)).toBeUndefined();
    expect(fetchDueReason(failing, new Date(T0 + 30_000), false)).toBe('retry');
    expect(fetchDueReason({ ...healthy, retryNotBefore: 'garbage' }, now, false)).toBe('retry');
  });

  it('refreshes healthy federations only on schedule ticks in their slot', () => {
    const ticks = Array.from(
      { length: policy.refreshSeconds / policy.tickSeconds },
      (_, i) => new Date(T0 + i * policy.tickSeconds * 1000),
    );
    expect(ticks.filter((t) => fetchDueReason(healthy, t, true, policy) === 'refresh')).toHaveLength(1);
    expect(ticks.filter((t) => fetchDueReason(healthy, t, false, policy) !== undefined)).toHaveLength(0);
  });

  it('by default refreshes a healthy federation on every schedule tick (conditional requests make it cheap)', () => {
    const ticks = Array.from(
      { length: 10 },
      (_, i) => new Date(T0 + i * DEFAULT_REFRESH_POLICY.tickSeconds * 1000),
    );
    expect(ticks.filter((t) => fetchDueReason(healthy, t, true) === 'refresh')).toHaveLength(10);
    expect(DEFAULT_REFRESH_POLICY.refreshSeconds).toBe(DEFAULT_REFRESH_POLICY.tickSeconds);
  });
});

describe('refreshPolicyFromEnv', () => {
  it.each([
    [undefined, 2],
    ['4', 4],
    ['10', 10],
    ['60', 60],
    ['120', 120],
    ['3600', 3600],
    ['0', 2],
    ['5', 2],
    ['15', 2],
    ['7200', 2],
    ['1e3', 2],
    [' 30', 2],
    ['-10', 2],
  ])('%p -> refresh every %d s', (raw, seconds) => {
    const policy = refreshPolicyFromEnv(raw === undefined ? {} : { [REFRESH_SECONDS_ENV]: raw });
    expect(policy).toEqual({ ...policy, refreshSeconds: seconds, tickSeconds: 2 });
  });
});
