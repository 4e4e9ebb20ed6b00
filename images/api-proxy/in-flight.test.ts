import { InFlightRequests, type RevocationReason } from './in-flight';

const LEEWAY = 5;
const NOW_MS = Date.UTC(2026, 10, 30, 12);
const NOW = NOW_MS / 1000;
const YEAR = 366 * 86400;

let keys: Map<string, string>;
let ended: [string, RevocationReason, number][];
let inFlight: InFlightRequests;

beforeEach(() => {
  jest.useFakeTimers({ now: NOW_MS });
  keys = new Map([
    ['x', 'KEY-X'],
    ['y', 'KEY-Y'],
  ]);
  ended = [];
  inFlight = new InFlightRequests({
    publicKey: (uuid) => keys.get(uuid),
    expiryLeewaySeconds: LEEWAY,
    onEnded: (peer, reason, requests) => ended.push([peer, reason, requests]),
  });
});
afterEach(() => jest.useRealTimers());

/** A tracked request: the reasons it was ended with, and its untrack function. */
function request(clusterUUID: string, authnKeyPub: string, exp = NOW + YEAR) {
  const reasons: RevocationReason[] = [];
  const untrack = inFlight.track({ clusterUUID, authnKeyPub, exp }, (reason) => reasons.push(reason));
  return { reasons, untrack };
}

test('removing a peer ends all of its requests, and only its; one report per peer', () => {
  const x1 = request('x', 'KEY-X');
  const x2 = request('x', 'KEY-X');
  const y = request('y', 'KEY-Y');
  keys.delete('x');
  expect(inFlight.revokeUnaccepted()).toEqual([{ clusterUUID: 'x', reason: 'peer-removed', requests: 2 }]);
  expect([x1.reasons, x2.reasons, y.reasons]).toEqual([['peer-removed'], ['peer-removed'], []]);
  expect(ended).toEqual([['x', 'peer-removed', 2]]);
  expect([inFlight.size, inFlight.countFor('x'), inFlight.countFor('y')]).toEqual([1, 0, 1]);
  // A second reload finds nothing more to end; the untrack of an ended request is harmless.
  expect(inFlight.revokeUnaccepted()).toEqual([]);
  x1.untrack();
  expect(x1.reasons).toEqual(['peer-removed']);
});

test('a changed key ends the requests verified with the old one, not those verified with the new', () => {
  const old = request('x', 'KEY-X');
  keys.set('x', 'KEY-X2');
  const renewed = request('x', 'KEY-X2');
  expect(inFlight.revokeUnaccepted()).toEqual([{ clusterUUID: 'x', reason: 'key-changed', requests: 1 }]);
  expect([old.reasons, renewed.reasons]).toEqual([['key-changed'], []]);
});

test('the same key re-read (surrounding whitespace aside) ends nothing', () => {
  const x = request('x', 'KEY-X');
  keys.set('x', 'KEY-X\n');
  expect(inFlight.revokeUnaccepted()).toEqual([]);
  expect(x.reasons).toEqual([]);
});

test('an untracked (finished) request is never ended', () => {
  const x = request('x', 'KEY-X', NOW + 10);
  x.untrack();
  keys.delete('x');
  inFlight.revokeUnaccepted();
  jest.advanceTimersByTime(60_000);
  expect(x.reasons).toEqual([]);
  expect(ended).toEqual([]);
});

test('a token ends its request at exp plus the leeway, not before', () => {
  const short = request('x', 'KEY-X', NOW + 10);
  const long = request('x', 'KEY-X');
  jest.advanceTimersByTime((10 + LEEWAY) * 1000 - 1);
  expect(short.reasons).toEqual([]);
  jest.advanceTimersByTime(1);
  expect(short.reasons).toEqual(['token-expired']);
  expect(long.reasons).toEqual([]);
  expect(ended).toEqual([['x', 'token-expired', 1]]);
  expect(inFlight.size).toBe(1);
});

test("a 366-day token's expiry is beyond setTimeout's range: re-armed, not fired at once", () => {
  const long = request('x', 'KEY-X');
  jest.advanceTimersByTime(2 ** 31); // ~24.8 days: one re-arm
  expect(long.reasons).toEqual([]);
  jest.advanceTimersByTime((YEAR + LEEWAY) * 1000 - 2 ** 31);
  expect(long.reasons).toEqual(['token-expired']);
});

test('never ends synchronously inside track, even for a token already past its deadline', () => {
  const late = request('x', 'KEY-X', NOW - LEEWAY - 1);
  expect(late.reasons).toEqual([]);
  jest.advanceTimersByTime(0);
  expect(late.reasons).toEqual(['token-expired']);
});

test('verdict: why a verified token is no longer accepted', () => {
  const token = { clusterUUID: 'x', authnKeyPub: 'KEY-X', exp: NOW + 10 };
  expect(inFlight.verdict(token)).toBeUndefined();
  expect(inFlight.verdict({ ...token, exp: NOW - LEEWAY })).toBe('token-expired');
  keys.set('x', 'KEY-X2');
  expect(inFlight.verdict(token)).toBe('key-changed');
  keys.delete('x');
  expect(inFlight.verdict(token)).toBe('peer-removed');
});
