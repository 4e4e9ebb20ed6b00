import {
  answerEmptySecrets,
  classifyTarget,
  EMPTY_VIEW_RESOURCE_VERSION,
  forwardedRequestHeaders,
  forwardedResponseHeaders,
  isAllowedMethod,
  queryBool,
} from './policy';

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
    '/api/v1/namespaces/d8-istio/secrets/cacerts/status',
    '/api/v1/namespaces/d8-istio/secrets/cacerts/proxy',
    '/api/v1/watch/namespaces/d8-istio/secrets/cacerts/status',
    '/apis/example.com/v1/secrets',
    '/apis/example.com/v1/namespaces/ns/secrets/x',
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

describe('reads of core v1 Secrets get the empty view', () => {
  test.each([
    ['/api/v1/secrets', 'list', undefined],
    [
      '/api/v1/secrets?fieldSelector=type%21%3Dhelm.sh%2Frelease.v1&limit=500&resourceVersion=0',
      'list',
      undefined,
    ],
    ['/api/v1/namespaces/d8-istio/secrets?fieldSelector=metadata.name%3Dcacerts', 'list', undefined],
    ['/api/v1/namespaces/d8-istio/secrets?labelSelector=a%3Db', 'list', undefined],
    ['/api/v1/namespaces/d8-istio/secrets/cacerts', 'get', 'cacerts'],
    ['/api/v1/namespaces/d8-istio/secrets/cacerts?resourceVersion=0', 'get', 'cacerts'],
    ['/api/v1/secrets?watch=true&resourceVersion=1', 'watch', undefined],
    ['/api/v1/namespaces/ns/secrets?watch=1', 'watch', undefined],
    ['/api/v1/watch/secrets', 'watch', undefined],
    ['/api/v1/watch/namespaces/ns/secrets', 'watch', undefined],
    ['/api/v1/watch/namespaces/ns/secrets/one', 'watch', 'one'],
    ['/api/v1/namespaces/ns/secrets/one?watch=true', 'watch', 'one'],
    ['/api/v1/secrets?watch=false', 'list', undefined],
  ])('%s: %s', (url, verb, name) => {
    const decision = classifyTarget(url);
    expect(decision).toMatchObject({ kind: 'emptySecrets', verb, query: url.split('?')[1] ?? '' });
    expect(decision.kind === 'emptySecrets' ? decision.name : 'not empty').toBe(name);
  });

  test('the empty view uses a decimal resourceVersion', () =>
    expect(EMPTY_VIEW_RESOURCE_VERSION).toMatch(/^[1-9][0-9]*$/));

  const list = (query: string) => answerEmptySecrets({ verb: 'list', query });
  const watch = (query: string) => answerEmptySecrets({ verb: 'watch', query });

  test('a named GET is not found', () =>
    expect(answerEmptySecrets({ verb: 'get', name: 'cacerts', query: '' })).toEqual({
      kind: 'notFound',
      name: 'cacerts',
    }));

  test.each([
    ['', EMPTY_VIEW_RESOURCE_VERSION],
    ['resourceVersion=0', EMPTY_VIEW_RESOURCE_VERSION],
    ['resourceVersion=0&limit=500', EMPTY_VIEW_RESOURCE_VERSION],
    ['resourceVersion=0&resourceVersionMatch=NotOlderThan', EMPTY_VIEW_RESOURCE_VERSION],
    ['resourceVersion=4711', '4711'],
    ['resourceVersion=4711&resourceVersionMatch=Exact', '4711'],
    ['resourceVersion=4711&resourceVersionMatch=NotOlderThan', '4711'],
    ['limit=1&fieldSelector=metadata.name%3Dx&labelSelector=a', EMPTY_VIEW_RESOURCE_VERSION],
  ])('list %p: empty at resourceVersion %s', (query, resourceVersion) =>
    expect(list(query)).toEqual({ kind: 'list', resourceVersion }),
  );

  test.each([
    ['resourceVersion=abc', 400, /invalid resource version "abc"/],
    ['resourceVersion=-1', 400, /invalid resource version/],
    ['continue=eyJ2IjoibWV0YS5rOHMuaW8vdjEifQ', 400, /continue key is not valid/],
    ['resourceVersionMatch=NotOlderThan', 422, /forbidden unless resourceVersion is provided/],
    ['resourceVersion=0&resourceVersionMatch=Exact', 422, /"exact" is forbidden for resourceVersion "0"/],
    ['resourceVersion=5&resourceVersionMatch=Newest', 422, /Unsupported value: "Newest"/],
    ['resourceVersion=5&resourceVersionMatch=Exact&continue=x', 422, /forbidden when continue is provided/],
    ['sendInitialEvents=true', 422, /sendInitialEvents is forbidden for list/],
  ])('list %p: %d, as the apiserver', (query, code, message) => {
    const answer = list(query);
    expect(answer).toMatchObject({ kind: 'invalid', code });
    expect(answer.kind === 'invalid' ? answer.message : '').toMatch(message);
  });

  test.each([
    // What a client-go reflector sends after its list: a plain watch from that resourceVersion.
    ['resourceVersion=1&allowWatchBookmarks=true&timeoutSeconds=420', '1', false, 420_000],
    ['resourceVersion=4711&allowWatchBookmarks=true', '4711', false, undefined],
    // client-go WatchList (reflector.watchList): a streaming list, answered by its final bookmark.
    [
      'allowWatchBookmarks=true&resourceVersionMatch=NotOlderThan&sendInitialEvents=true&timeoutSeconds=300',
      EMPTY_VIEW_RESOURCE_VERSION,
      true,
      300_000,
    ],
    [
      'resourceVersion=9&resourceVersionMatch=NotOlderThan&sendInitialEvents=true&allowWatchBookmarks=1',
      '9',
      true,
      undefined,
    ],
    // Without bookmarks allowed the apiserver sends no bookmark either.
    [
      'resourceVersionMatch=NotOlderThan&sendInitialEvents=true',
      EMPTY_VIEW_RESOURCE_VERSION,
      false,
      undefined,
    ],
    [
      'resourceVersionMatch=NotOlderThan&sendInitialEvents=false&allowWatchBookmarks=true',
      EMPTY_VIEW_RESOURCE_VERSION,
      false,
      undefined,
    ],
    // The apiserver's default: a watch from "" or "0" without options is a streaming list.
    ['allowWatchBookmarks=true', EMPTY_VIEW_RESOURCE_VERSION, true, undefined],
    ['resourceVersion=0&allowWatchBookmarks=true', EMPTY_VIEW_RESOURCE_VERSION, true, undefined],
    ['', EMPTY_VIEW_RESOURCE_VERSION, false, undefined],
    ['timeoutSeconds=0', EMPTY_VIEW_RESOURCE_VERSION, false, undefined],
  ])('watch %p: from %s, bookmark %s, timeout %s', (query, resourceVersion, initialEventsEnd, timeoutMs) =>
    expect(watch(query)).toEqual({
      kind: 'watch',
      resourceVersion,
      initialEventsEnd,
      ...(timeoutMs === undefined ? {} : { timeoutMs }),
    }),
  );

  test.each([
    [
      'sendInitialEvents=true&allowWatchBookmarks=true',
      422,
      /requires setting resourceVersionMatch to NotOlderThan/,
    ],
    ['resourceVersion=5&sendInitialEvents=true', 422, /requires setting resourceVersionMatch/],
    ['resourceVersion=5&resourceVersionMatch=NotOlderThan', 422, /unless sendInitialEvents is provided/],
    ['sendInitialEvents=true&resourceVersionMatch=Exact', 422, /requires setting resourceVersionMatch/],
    ['resourceVersion=x1', 400, /invalid resource version/],
    ['timeoutSeconds=soon', 400, /timeoutSeconds/],
  ])('watch %p: %d, as the apiserver', (query, code, message) => {
    const answer = watch(query);
    expect(answer).toMatchObject({ kind: 'invalid', code });
    expect(answer.kind === 'invalid' ? answer.message : '').toMatch(message);
  });

  test.each([
    ['y=1', undefined],
    ['x=1', true],
    ['x=', true],
    ['x', true],
    ['x=0', false],
    ['x=FALSE', false],
    ['x=yes&x=false', true],
  ])('queryBool %p', (query, value) => expect(queryBool(new URLSearchParams(query), 'x')).toBe(value));
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
