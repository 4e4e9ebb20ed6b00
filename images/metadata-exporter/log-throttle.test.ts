import { LogThrottle } from './log-throttle';

test('admits perWindow lines per window and reports what it left out', () => {
  let now = 0;
  const throttle = new LogThrottle(2, 1000, () => now);
  expect(throttle.admit()).toStrictEqual({ suppressed: 0 });
  expect(throttle.admit()).toStrictEqual({ suppressed: 0 });
  expect(throttle.admit()).toBeUndefined();
  expect(throttle.admit()).toBeUndefined();
  now = 999;
  expect(throttle.admit()).toBeUndefined();
  now = 1000;
  expect(throttle.admit()).toStrictEqual({ suppressed: 3 });
  expect(throttle.admit()).toStrictEqual({ suppressed: 0 });
  now = 5000;
  expect(throttle.admit()).toStrictEqual({ suppressed: 0 });
});
