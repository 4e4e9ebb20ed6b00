import { bearerToken, resolveRoute } from './routes';

const BOTH = ['federation', 'multicluster'] as const;

describe('resolveRoute', () => {
  test.each([
    ['/metadata/public/public.json', 'public'],
    ['/metadata/public/spiffe-bundle-endpoint', 'spiffeBundle'],
    ['/metadata/private/federation.json', 'federation'],
    ['/metadata/private/federation.json?a=b', 'federation'],
    ['/metadata/private/multicluster.json', 'multicluster'],
    ['/healthz', 'healthz'],
    ['/livez', 'livez'],
    ['/metrics', 'metrics'],
  ])('%s -> %s', (url, route) => {
    expect(resolveRoute('GET', url, BOTH)).toStrictEqual({ kind: 'route', route });
    expect(resolveRoute('HEAD', url, BOTH)).toStrictEqual({ kind: 'route', route });
  });

  test.each([
    '',
    '/metadata/public/../private/federation.json',
    '/metadata/public/%2e%2e/private/federation.json',
    '/metadata//public/public.json',
    '/metadata/public%2Fpublic.json',
    '/constructor',
    '/__proto__',
    '/toString',
    'http://host/metadata/public/public.json',
    '/METRICS',
  ])('%j is not found, whatever the method', (url) => {
    expect(resolveRoute('GET', url, BOTH)).toStrictEqual({ kind: 'notFound' });
    expect(resolveRoute('POST', url, BOTH)).toStrictEqual({ kind: 'notFound' });
  });

  test.each(['POST', 'PUT', 'DELETE', 'OPTIONS', 'get', undefined])(
    '%s on a route is not allowed',
    (method) => {
      expect(resolveRoute(method, '/metadata/public/public.json', BOTH)).toStrictEqual({
        kind: 'methodNotAllowed',
        route: 'public',
      });
    },
  );
});

describe('a private document that is not served', () => {
  test.each([
    [['federation'] as const, '/metadata/private/multicluster.json'],
    [['multicluster'] as const, '/metadata/private/federation.json'],
  ])('with %j, %s is not found, whatever the method', (served, url) => {
    for (const method of ['GET', 'HEAD', 'POST'])
      expect(resolveRoute(method, url, served)).toStrictEqual({ kind: 'notFound' });
  });

  test('the served one still resolves, the public routes too', () => {
    expect(resolveRoute('GET', '/metadata/private/multicluster.json', ['multicluster'])).toStrictEqual({
      kind: 'route',
      route: 'multicluster',
    });
    expect(resolveRoute('GET', '/metadata/public/public.json', [])).toStrictEqual({
      kind: 'route',
      route: 'public',
    });
  });
});

describe('bearerToken', () => {
  test('takes the token of a Bearer header, scheme in any case', () => {
    expect(bearerToken('Bearer a.b.c')).toStrictEqual({ ok: true, token: 'a.b.c' });
    expect(bearerToken('bearer a-_.b.c')).toStrictEqual({ ok: true, token: 'a-_.b.c' });
    expect(bearerToken('BEARER   a.b.c ')).toStrictEqual({ ok: true, token: 'a.b.c' });
  });

  test.each([undefined, ''])('missing: %j', (header) => {
    expect(bearerToken(header)).toStrictEqual({ ok: false, reason: 'missing authorization header' });
  });

  test.each([
    'Basic abc',
    'Bearer',
    'Bearer ',
    'Bearer a b',
    'Bearer\ta.b.c',
    'Bearer a.b.c;',
    'Token a.b.c',
  ])('malformed: %j', (header) => {
    expect(bearerToken(header)).toStrictEqual({ ok: false, reason: 'malformed authorization header' });
  });
});
