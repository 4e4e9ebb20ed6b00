import { classifyTarget, forwardedRequestHeaders, forwardedResponseHeaders, isAllowedMethod } from './policy';

describe('methods', () => {
  test('GET is allowed', () => expect(isAllowedMethod('GET')).toBe(true));
  test.each(['HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'CONNECT', 'TRACE', 'get', undefined])(
    '%s is refused',
    (m) => expect(isAllowedMethod(m)).toBe(false),
  );
});

describe('classifyTarget', () => {
  test.each([
    ['/api', 'discovery'],
    ['/apis', 'discovery'],
    ['/version', 'discovery'],
    ['/api/v1', 'discovery'],
    ['/apis/discovery.k8s.io', 'discovery'],
    ['/apis/discovery.k8s.io/v1', 'discovery'],
    ['/api/v1/services', 'list'],
    ['/api/v1/namespaces', 'list'],
    ['/api/v1/namespaces/d8-istio', 'get'],
    ['/api/v1/namespaces/ns/services?limit=500&continue=abc', 'list'],
    ['/api/v1/namespaces/ns/services/foo', 'get'],
    ['/api/v1/namespaces/ns/services?watch=true&resourceVersion=1', 'watch'],
    ['/api/v1/services?watch=1', 'watch'],
    ['/api/v1/watch/namespaces/ns/pods', 'watch'],
    ['/apis/discovery.k8s.io/v1/namespaces/ns/endpointslices?labelSelector=a%3Db', 'list'],
    ['/apis/networking.istio.io/v1beta1/workloadentries', 'list'],
    ['/api/v1/nodes/node-1', 'get'],
  ])('%s is forwarded as %s', (url, verb) => {
    expect(classifyTarget(url)).toMatchObject({ kind: 'forward', verb });
  });

  // The apiserver's reading: the first `watch` value, decoded; all but `0`/`false` (any case) watch.
  test.each([
    ['/api/v1/services?watch=TRUE', 'watch'],
    ['/api/v1/services?watch=yes', 'watch'],
    ['/api/v1/services?watch=', 'watch'],
    ['/api/v1/services?watch', 'watch'],
    ['/api/v1/services?watch=%74rue', 'watch'],
    ['/api/v1/services?w%61tch=x', 'watch'],
    ['/api/v1/services?watch=2&watch=false', 'watch'],
    ['/api/v1/services?watch=0', 'list'],
    ['/api/v1/services?watch=false', 'list'],
    ['/api/v1/services?watch=FaLsE', 'list'],
    ['/api/v1/services?watch=false&watch=true', 'list'],
    ['/api/v1/services?rewatch=true', 'list'],
    ['/api/v1/namespaces/ns/services/foo?watch=on', 'watch'],
  ])('watch parameter: %s is forwarded as %s', (url, verb) => {
    expect(classifyTarget(url)).toMatchObject({ kind: 'forward', verb });
  });

  test.each([
    '/api/v1/namespaces/ns/pods/p/exec',
    '/api/v1/namespaces/ns/pods/p/exec?command=sh',
    '/api/v1/namespaces/ns/pods/p/attach',
    '/api/v1/namespaces/ns/pods/p/portforward',
    '/api/v1/namespaces/ns/pods/p/log',
    '/api/v1/namespaces/ns/pods/p/proxy/',
    '/api/v1/namespaces/ns/pods/p/proxy/some/path',
    '/api/v1/namespaces/ns/services/s/proxy',
    '/api/v1/nodes/n/proxy/metrics',
    '/api/v1/proxy/nodes/n',
    '/api/v1/namespaces/ns/status',
    '/api/v1/namespaces/ns/finalize',
    '/api/v1/namespaces/ns/pods/p/status',
    '/api/v1/namespaces/ns/serviceaccounts/sa/token',
    '/api/v1/secrets',
    '/api/v1/namespaces/d8-istio/secrets/cacerts',
    '/api/v1/watch/secrets',
    '/api/v1/namespaces/ns/secrets?watch=true',
    '/api/v1/serviceaccounts',
    '/apis/authorization.k8s.io/v1/selfsubjectrulesreviews',
    '/apis/authentication.k8s.io/v1/tokenreviews',
    '/apis/certificates.k8s.io/v1/certificatesigningrequests',
  ])('%s is forbidden', (url) => {
    expect(classifyTarget(url).kind).toBe('forbidden');
  });

  test.each([
    undefined,
    '',
    '*',
    'api',
    '/',
    '/api/',
    '/healthz',
    '/metrics',
    '/openapi/v2',
    '/logs/',
    '/debug/pprof/',
    '//api/v1/services',
    '/api//v1/services',
    '/api/v1/namespaces/ns/../secrets',
    '/api/v1/./services',
    '/api/v1/namespaces/%2e%2e/secrets',
    '/api/v1/namespaces%2fns',
    '/api\\v1\\services',
    '/api/v2/services',
    '/apis/Bad_Group/v1/things',
    '/apis/apps/version1/deployments',
    '/api/v1/watch',
    '/' + 'a'.repeat(9000),
  ])('%p is not found', (url) => {
    expect(classifyTarget(url)).toEqual({ kind: 'notFound' });
  });
});

describe('request headers', () => {
  const incoming = {
    accept: 'application/json;as=Table',
    'accept-encoding': 'gzip',
    'user-agent': 'pilot-discovery/1.30',
    authorization: 'Bearer peer-jwt',
    'impersonate-user': 'admin',
    'impersonate-group': ['system:masters'],
    'impersonate-uid': '1',
    'impersonate-extra-scopes': 'x',
    'x-remote-user': 'admin',
    'x-remote-group': 'system:masters',
    'x-remote-extra-foo': 'bar',
    cookie: 'session=1',
    connection: 'Upgrade',
    upgrade: 'SPDY/3.1',
    'transfer-encoding': 'chunked',
    'content-length': '10',
    'x-forwarded-for': '1.2.3.4',
    host: 'istio-api-proxy.example.com',
  };

  test('only the allow-listed headers pass, and Authorization is our own token', () => {
    expect(forwardedRequestHeaders(incoming, 'sa-token')).toEqual({
      accept: 'application/json;as=Table',
      'accept-encoding': 'gzip',
      'user-agent': 'pilot-discovery/1.30',
      authorization: 'Bearer sa-token',
    });
  });

  test('header names are matched case-insensitively', () => {
    const out = forwardedRequestHeaders(
      { 'Impersonate-User': 'admin', Accept: 'a', AUTHORIZATION: 'x' },
      't',
    );
    expect(out).toEqual({ accept: 'a', authorization: 'Bearer t' });
  });

  test('response headers lose hop-by-hop fields only', () => {
    expect(
      forwardedResponseHeaders({
        'content-type': 'application/json',
        'audit-id': 'abc',
        'transfer-encoding': 'chunked',
        connection: 'keep-alive',
        'keep-alive': 'timeout=5',
        'set-cookie': ['a=1'],
      }),
    ).toEqual({ 'content-type': 'application/json', 'audit-id': 'abc', 'set-cookie': ['a=1'] });
  });
});
