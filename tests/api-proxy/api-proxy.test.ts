// The compiled api-proxy in front of a real kube-apiserver whose RBAC for the proxy is the
// module's, rendered by Helm: reads, watches and pagination through a client-node client
// configured from a kubeconfig, then the attack suite. Every request that must fail is
// also shown to be one that would succeed without the proxy's protection, where possible.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { generateAuthnKeypair } from '../../lib/federation/identity/authn-keys';
import { KubeApi, resourcePath } from '../../tools/e2e/kube-api';
import { testCluster, type TestCluster } from '../exporter/fixtures';
import { eddsaToken, hmacWithPublicKeyToken, unsignedToken, type Claims } from '../exporter/tokens';
import {
  KubeClient,
  MODULE_NAMESPACE,
  PROXY_USER,
  TOOLS_TIMEOUT_MS,
  kubeconfigFor,
  openStream,
  pollUntil,
  proxyRequest,
  runClient,
  serviceAccountToken,
  startEnvironment,
  startProxy,
  stopEnvironment,
  writePeers,
  writeServiceAccountDir,
  writeTokenFile,
  type OpenStream,
  type ProxyEnvironment,
  type RunningProxy,
} from './environment';

const log = (line: string) => process.stderr.write(`[api-proxy e2e] ${line}\n`);
const YEAR_AND_A_DAY = 366 * 24 * 3600;

let env: ProxyEnvironment;
let proxy: RunningProxy;
/** Every service-account token the shared proxy has been given (its token file's contents). */
const proxyTokens = new Set<string>();

const now = () => Math.floor(Date.now() / 1000);
/** Claims exactly as the reference mints `api` tokens: 366 days, iss d8-istio. */
const apiClaims = (overrides: Claims = {}): Claims => ({
  iss: 'd8-istio',
  aud: env.local.clusterUUID,
  sub: env.peer.clusterUUID,
  scope: 'api',
  nbf: now(),
  exp: now() + YEAR_AND_A_DAY,
  ...overrides,
});
/** The reference's header: only alg (no typ, no kid). */
const peerToken = (overrides: Claims = {}) =>
  eddsaToken(env.peer.keypair.priv, apiClaims(overrides), { alg: 'EdDSA' });
const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

const api = () => env.apiServer.api;
interface WatchEvent {
  type: string;
  object: {
    kind: string;
    apiVersion: string;
    metadata: { resourceVersion?: string; annotations?: Record<string, string> };
  };
}
const servicePath = (namespace: string, name?: string) =>
  resourcePath('v1', 'services', { namespace, ...(name ? { name } : {}) });
const service = (namespace: string, name: string, labels: Record<string, string> = {}) => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name, namespace, labels },
  spec: { ports: [{ name: 'http', port: 80 }] },
});

beforeAll(async () => {
  env = await startEnvironment(log);
  proxy = await startProxy(env);
  proxyTokens.add(readFileSync(env.tokenFile, 'utf8').trim());
  // Objects the reads and the attacks look at.
  await api().create(servicePath('workloads'), service('workloads', 'frontend'));
  await api().create(resourcePath('v1', 'pods', { namespace: 'workloads' }), {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'frontend-0', namespace: 'workloads', labels: { app: 'frontend' } },
    spec: { containers: [{ name: 'app', image: 'example.com/app:1' }] },
  });
  await api().create(resourcePath('discovery.k8s.io/v1', 'endpointslices', { namespace: 'workloads' }), {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name: 'frontend-abc',
      namespace: 'workloads',
      labels: { 'kubernetes.io/service-name': 'frontend' },
    },
    addressType: 'IPv4',
    endpoints: [{ addresses: ['10.1.0.5'] }],
    ports: [{ name: 'http', port: 8080 }],
  });
  for (const name of ['cacerts', 'd8-remote-authn-keypair']) {
    await api().create(resourcePath('v1', 'secrets', { namespace: MODULE_NAMESPACE }), {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name, namespace: MODULE_NAMESPACE },
      stringData: { 'ca-key.pem': 'SECRET-KEY-MATERIAL' },
    });
  }
  await api().create(resourcePath('v1', 'configmaps', { namespace: 'workloads' }), {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'app-config', namespace: 'workloads' },
    data: { k: 'v' },
  });
}, TOOLS_TIMEOUT_MS);

afterAll(async () => {
  await proxy?.stop();
  await stopEnvironment(env);
}, 60_000);

describe('reads through a kubeconfig client (client-node)', () => {
  let kubeconfig: string;
  beforeAll(() => {
    kubeconfig = kubeconfigFor(env, proxy, peerToken());
  });

  test('GET /api answers APIVersions (the reference probe)', async () => {
    expect(await runClient(kubeconfig, 'api-versions')).toEqual({ kind: 'APIVersions', versions: ['v1'] });
  });

  test.each([
    ['services', 'workloads', 'frontend'],
    ['pods', 'workloads', 'frontend-0'],
    ['endpointslices', 'workloads', 'frontend-abc'],
    ['namespaces', undefined, MODULE_NAMESPACE],
    ['services', undefined, 'frontend'],
  ])('list %s (namespace %s)', async (kind, namespace, expected) => {
    const result = await runClient(kubeconfig, 'list', kind, ...(namespace ? [namespace] : []));
    expect(result.items).toContain(expected);
  });

  test('a paginated list (limit/continue) returns every object once', async () => {
    await api().apply(resourcePath('v1', 'namespaces', { name: 'paged' }), {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'paged' },
    });
    const names = Array.from({ length: 7 }, (_, i) => `svc-${i}`);
    for (const name of names) await api().create(servicePath('paged'), service('paged', name));
    const { pages } = (await runClient(kubeconfig, 'paginate', 'paged', '3')) as { pages: string[][] };
    expect(pages.map((p) => p.length)).toEqual([3, 3, 1]);
    expect(pages.flat().sort()).toEqual(names.sort());
  });

  test('watches stream events as objects change, and an idle watch keeps delivering', async () => {
    await api().apply(resourcePath('v1', 'namespaces', { name: 'watched' }), {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'watched' },
    });
    const watches = {
      services: new KubeClient(kubeconfig, ['watch', 'services', 'watched']),
      pods: new KubeClient(kubeconfig, ['watch', 'pods', 'watched']),
      endpointslices: new KubeClient(kubeconfig, ['watch', 'endpointslices', 'watched']),
      namespaces: new KubeClient(kubeconfig, ['watch', 'namespaces']),
    };
    try {
      for (const w of Object.values(watches)) await w.next((l) => 'watching' in l);
      // The watch on namespaces lists the existing ones first (ADDED, initial state).
      await watches.namespaces.next((l) => l.event === 'ADDED' && l.name === 'watched');
      await api().create(servicePath('watched'), service('watched', 'w1'));
      await watches.services.next((l) => l.event === 'ADDED' && l.name === 'w1');
      await api().mergePatch(servicePath('watched', 'w1'), { metadata: { labels: { changed: 'yes' } } });
      await watches.services.next((l) => l.event === 'MODIFIED' && l.name === 'w1');
      await api().create(resourcePath('v1', 'pods', { namespace: 'watched' }), {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'p1', namespace: 'watched' },
        spec: { containers: [{ name: 'app', image: 'example.com/app:1' }] },
      });
      await watches.pods.next((l) => l.event === 'ADDED' && l.name === 'p1');
      await api().create(resourcePath('discovery.k8s.io/v1', 'endpointslices', { namespace: 'watched' }), {
        apiVersion: 'discovery.k8s.io/v1',
        kind: 'EndpointSlice',
        metadata: { name: 'w1-xyz', namespace: 'watched' },
        addressType: 'IPv4',
        endpoints: [{ addresses: ['10.1.0.9'] }],
      });
      await watches.endpointslices.next((l) => l.event === 'ADDED' && l.name === 'w1-xyz');
      await api().apply(resourcePath('v1', 'namespaces', { name: 'late' }), {
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: { name: 'late' },
      });
      await watches.namespaces.next((l) => l.event === 'ADDED' && l.name === 'late');
      // The services watch has been idle since its last event while the others ran; it
      // still delivers, and deletes too.
      await api().delete(servicePath('watched', 'w1'));
      await watches.services.next((l) => l.event === 'DELETED' && l.name === 'w1');
      for (const w of Object.values(watches))
        expect(w.lines.filter((l) => 'done' in l || 'error' in l)).toEqual([]);
    } finally {
      for (const w of Object.values(watches)) w.stop();
    }
  });

  test('a raw watch delivers the first event while the response is still open (streamed, not buffered)', async () => {
    const events: string[] = [];
    let closed = false;
    const request = (await import('node:https')).request(
      {
        host: '127.0.0.1',
        port: proxy.port,
        path: '/api/v1/namespaces/watched/services?watch=true&allowWatchBookmarks=false',
        headers: bearer(peerToken()),
        ca: env.proxyCa.certPem,
        agent: false,
      },
      (res) => {
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => events.push(chunk));
        res.on('close', () => (closed = true));
      },
    );
    request.end();
    try {
      await pollUntil(async () => (request.socket ? true : undefined), {
        what: 'watch connected',
        timeoutMs: 10_000,
        intervalMs: 50,
      });
      await api().create(servicePath('watched'), service('watched', 'streamed'));
      await pollUntil(async () => (events.join('').includes('"streamed"') ? true : undefined), {
        what: 'event for "streamed" through the raw watch',
        timeoutMs: 20_000,
        intervalMs: 50,
      });
      expect(closed).toBe(false);
    } finally {
      request.destroy();
    }
  });
});

describe('Secrets: the empty view (a vanilla istiod syncs; no Secret ever leaves)', () => {
  const EMPTY_LIST = '{"kind":"SecretList","apiVersion":"v1","metadata":{"resourceVersion":"1"},"items":[]}';
  const secret = (name: string) => ({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name, namespace: MODULE_NAMESPACE },
    stringData: { 'ca-key.pem': 'SECRET-KEY-MATERIAL' },
  });
  const configMap = (name: string) => ({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name, namespace: MODULE_NAMESPACE },
    data: { k: 'v' },
  });
  /** istiod's credentials controller selector (pilot/pkg/credentials/kube/secrets.go). */
  const ISTIOD_SELECTOR = encodeURIComponent(
    'type!=helm.sh/release.v1,type!=kubernetes.io/service-account-token',
  );
  const asPeer = () => bearer(peerToken());
  const toProxy = () => ({ port: proxy.port, ca: env.proxyCa.certPem });
  const emptySecretLogs = () => proxy.logs.filter((l) => l.msg === 'request' && l.verb === 'empty-secrets');

  test('control: Secrets with key material exist in the apiserver (something that could leak)', async () => {
    const direct = await api().raw('GET', '/api/v1/secrets');
    expect(direct.status).toBe(200);
    expect(direct.body).toContain('cacerts');
    expect(direct.body).toContain(Buffer.from('SECRET-KEY-MATERIAL').toString('base64'));
  });

  test('a client-node informer on all Secrets syncs empty; its watch stays open and delivers nothing as Secrets are created', async () => {
    const kubeconfig = kubeconfigFor(env, proxy, peerToken());
    const informer = new KubeClient(kubeconfig, ['secret-informer']);
    const namespaced = new KubeClient(kubeconfig, ['secret-informer', MODULE_NAMESPACE]);
    // A watch through the proxy on a kind it forwards: the sign that the apiserver's events went out.
    const marker = new KubeClient(kubeconfig, ['watch', 'configmaps', MODULE_NAMESPACE]);
    const raw: OpenStream[] = [];
    try {
      for (const client of [informer, namespaced]) {
        expect(await client.next((l) => 'synced' in l || 'informerError' in l || 'error' in l)).toMatchObject(
          {
            items: [],
            resourceVersion: '1',
          },
        );
      }
      await marker.next((l) => 'watching' in l);
      // The watch forms a client may use, opened raw: query, legacy path, one named object.
      for (const path of [
        `/api/v1/secrets?watch=true&resourceVersion=1&allowWatchBookmarks=true&fieldSelector=${ISTIOD_SELECTOR}`,
        `/api/v1/watch/namespaces/${MODULE_NAMESPACE}/secrets`,
        `/api/v1/watch/namespaces/${MODULE_NAMESPACE}/secrets/late-secret`,
      ]) {
        const stream = await openStream(toProxy(), path, asPeer());
        raw.push(stream);
        expect(stream.status).toBe(200);
        expect(stream.headers['content-type']).toBe('application/json');
      }
      await api().create(
        resourcePath('v1', 'secrets', { namespace: MODULE_NAMESPACE }),
        secret('late-secret'),
      );
      await api().mergePatch(
        resourcePath('v1', 'secrets', { namespace: MODULE_NAMESPACE, name: 'cacerts' }),
        {
          metadata: { labels: { touched: 'yes' } },
        },
      );
      await api().create(
        resourcePath('v1', 'configmaps', { namespace: MODULE_NAMESPACE }),
        configMap('after-secrets'),
      );
      await marker.next((l) => l.event === 'ADDED' && l.name === 'after-secrets');
      // The Secret really exists, and nothing about it (or the modified one) came through.
      expect(
        await api().get(resourcePath('v1', 'secrets', { namespace: MODULE_NAMESPACE, name: 'late-secret' })),
      ).toBeDefined();
      for (const client of [informer, namespaced]) {
        expect(client.lines.filter((l) => !('synced' in l))).toEqual([]);
      }
      for (const stream of raw) {
        expect(stream.received()).toBe('');
        expect(stream.closed()).toBe(false);
      }
      // Answered by the proxy itself: lists and watches under its own verb, none forwarded.
      const answered = emptySecretLogs().map((l) => `${l.request} ${l.code}`);
      expect(answered).toEqual(expect.arrayContaining(['list 200']));
      expect(
        proxy.logs.filter(
          (l) => l.msg === 'request' && String(l.path).includes('/secrets') && l.verb !== 'empty-secrets',
        ),
      ).toEqual([]);
    } finally {
      for (const stream of raw) stream.stop();
      for (const client of [informer, namespaced, marker]) client.stop();
      await api().delete(
        resourcePath('v1', 'configmaps', { namespace: MODULE_NAMESPACE, name: 'after-secrets' }),
      );
    }
  });

  test("a reflector's list, watch from its resourceVersion and relist all work (raw, as client-go sends them)", async () => {
    const get = (path: string) => proxyRequest(env, proxy, path, { headers: asPeer() });
    for (const path of [
      // client-go's first list (a pager, resourceVersion 0) with istiod's selector.
      `/api/v1/secrets?fieldSelector=${ISTIOD_SELECTOR}&limit=500&resourceVersion=0`,
      // The relist from the last synced resourceVersion, and the consistency check's exact read.
      `/api/v1/secrets?fieldSelector=${ISTIOD_SELECTOR}&resourceVersion=1`,
      '/api/v1/secrets?resourceVersion=1&resourceVersionMatch=Exact',
      // A Deckhouse-patched istiod reads remote secrets by name in d8-istio.
      `/api/v1/namespaces/${MODULE_NAMESPACE}/secrets?fieldSelector=${encodeURIComponent('metadata.name=cacerts')}`,
      `/api/v1/namespaces/${MODULE_NAMESPACE}/secrets?limit=1`,
    ]) {
      const res = await get(path);
      expect({ path, status: res.status, type: res.headers['content-type'], body: res.body }).toEqual({
        path,
        status: 200,
        type: 'application/json',
        body: EMPTY_LIST,
      });
    }
    // The watch from that resourceVersion ends when the client's timeoutSeconds are up, cleanly
    // and with nothing in it, as an apiserver's quiet watch does.
    const watch = await openStream(
      toProxy(),
      `/api/v1/secrets?watch=true&resourceVersion=1&allowWatchBookmarks=true&timeoutSeconds=1&fieldSelector=${ISTIOD_SELECTOR}`,
      asPeer(),
    );
    expect(watch.status).toBe(200);
    expect(await watch.ended).toBe('');
    // A list option the apiserver rejects is rejected the same way.
    const invalid = await get('/api/v1/secrets?resourceVersion=0&resourceVersionMatch=Exact');
    expect(invalid.status).toBe(422);
    expect(JSON.parse(invalid.body)).toMatchObject({ kind: 'Status', reason: 'Invalid', code: 422 });
    // Control: the apiserver answers that request the same way.
    expect(
      (await api().raw('GET', '/api/v1/secrets?resourceVersion=0&resourceVersionMatch=Exact')).status,
    ).toBe(422);
  });

  test('a streaming list (WatchList) gets the initial-events-end bookmark, shaped as the apiserver sends it', async () => {
    const query =
      '?watch=true&sendInitialEvents=true&allowWatchBookmarks=true&resourceVersionMatch=NotOlderThan&timeoutSeconds=1';
    // Control: the apiserver's own answer for an empty namespace, read with the admin token.
    const connection = env.apiServer.connection;
    const direct = await openStream(
      { port: Number(new URL(connection.server).port), ca: connection.caPem },
      `/api/v1/namespaces/empty-of-secrets/secrets${query}`,
      { Authorization: `Bearer ${connection.token}` },
    );
    const apiserverEvents = (await direct.ended)
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as WatchEvent);
    const throughProxy = await openStream(toProxy(), `/api/v1/secrets${query}`, asPeer());
    expect(throughProxy.status).toBe(200);
    expect(throughProxy.headers['content-type']).toBe(direct.headers['content-type']);
    const proxyEvents = (await throughProxy.ended)
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as WatchEvent);
    expect(proxyEvents).toEqual([
      {
        type: 'BOOKMARK',
        object: {
          kind: 'Secret',
          apiVersion: 'v1',
          metadata: { resourceVersion: '1', annotations: { 'k8s.io/initial-events-end': 'true' } },
        },
      },
    ]);
    // The apiserver's first event is the same bookmark (its resourceVersion aside).
    const first = apiserverEvents[0]!;
    expect({ type: first.type, kind: first.object.kind, apiVersion: first.object.apiVersion }).toEqual({
      type: 'BOOKMARK',
      kind: 'Secret',
      apiVersion: 'v1',
    });
    expect(first.object.metadata.annotations).toEqual({ 'k8s.io/initial-events-end': 'true' });
  });

  test.each([
    ['cacerts (the mesh CA key)', 'cacerts'],
    ['d8-remote-authn-keypair (our signing key)', 'd8-remote-authn-keypair'],
  ])('a named Secret, %s: 404 NotFound, the view being empty', async (_what, name) => {
    const res = await proxyRequest(env, proxy, `/api/v1/namespaces/${MODULE_NAMESPACE}/secrets/${name}`, {
      headers: asPeer(),
    });
    expect(res.status).toBe(404);
    expect(JSON.parse(res.body)).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: `secrets "${name}" not found`,
      reason: 'NotFound',
      details: { name, kind: 'secrets' },
      code: 404,
    });
    expect(res.body).not.toContain('SECRET-KEY-MATERIAL');
    // It exists (the apiserver has it), and the proxy's service account could not even read it.
    expect(
      await api().get(resourcePath('v1', 'secrets', { namespace: MODULE_NAMESPACE, name })),
    ).toBeDefined();
  });

  test('answers are counted under verb="empty-secrets" and logged like other requests', async () => {
    const metrics = (await proxyRequest(env, proxy, '/metrics')).body;
    expect(metrics).toMatch(/d8_istio_api_proxy_requests_total\{verb="empty-secrets",code="200"\} [1-9]/);
    expect(metrics).toMatch(/d8_istio_api_proxy_requests_total\{verb="empty-secrets",code="404"\} [1-9]/);
    const requests = new Set(emptySecretLogs().map((l) => l.request));
    expect([...requests].sort()).toEqual(['get', 'list', 'watch']);
    expect(emptySecretLogs()[0]).toMatchObject({
      peer: env.peer.clusterUUID,
      method: 'GET',
      durationMs: expect.any(Number),
    });
  });

  test('SIGTERM ends open empty watches at once: the shutdown is clean', async () => {
    const stopping = await startProxy(env, ['--shutdown-timeout', '20']);
    const watch = await openStream(
      { port: stopping.port, ca: env.proxyCa.certPem },
      '/api/v1/secrets?watch=true&resourceVersion=1',
      asPeer(),
    );
    expect(watch.status).toBe(200);
    stopping.proc.kill('SIGTERM');
    expect(await stopping.exited).toEqual({ code: 0, signal: null });
    expect(stopping.logs.at(-1)).toMatchObject({ msg: 'stopped', outcome: 'clean' });
    expect(await watch.ended).toBe('');
  });
});

describe('what client-go (istiod) sends passes unchanged', () => {
  test('protobuf is negotiated end to end (Accept forwarded, bytes streamed as they are)', async () => {
    const res = await proxyRequest(env, proxy, '/api/v1/namespaces/workloads/services/frontend', {
      headers: { ...bearer(peerToken()), Accept: 'application/vnd.kubernetes.protobuf, */*' },
    });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/vnd.kubernetes.protobuf');
    // The protobuf envelope: magic "k8s\0", then the object.
    expect(res.body.startsWith('k8s\u0000')).toBe(true);
    expect(res.body).toContain('frontend');
  });

  test('HEAD is refused by the proxy: through it the apiserver never answers HEAD usefully', async () => {
    // Control: even for an admin, the apiserver does not serve HEAD on resources.
    expect((await api().raw('HEAD', '/api/v1/namespaces/workloads/services')).status).toBe(405);
    const res = await proxyRequest(env, proxy, '/api/v1/namespaces/workloads/services', {
      method: 'HEAD',
      headers: bearer(peerToken()),
    });
    expect(res.status).toBe(405);
    expect(res.headers.allow).toBe('GET');
    expect(res.body).toBe('');
  });

  test('with --tls-self-signed the proxy serves HTTPS with a certificate made at start', async () => {
    const selfSigned = await startProxy(env, ['--tls-self-signed']);
    try {
      const certificate = await new Promise<{ subject: { CN: string }; subjectaltname: string }>(
        (resolve, reject) => {
          const socket = tlsConnect(
            { host: '127.0.0.1', port: selfSigned.port, rejectUnauthorized: false },
            () => {
              resolve(
                socket.getPeerCertificate() as unknown as { subject: { CN: string }; subjectaltname: string },
              );
              socket.destroy();
            },
          );
          socket.on('error', reject);
        },
      );
      expect(certificate.subject.CN).toBe('istio-api-proxy');
      expect(certificate.subjectaltname).toContain('DNS:api-proxy.d8-istio.svc');
      expect(selfSigned.logs[0]).toMatchObject({ msg: 'listening', tls: true });
    } finally {
      await selfSigned.stop();
    }
  });
});

describe('the proxy re-reads its service-account token as it rotates', () => {
  test('after the old token is revoked, requests still pass with the new one', async () => {
    const kubeconfig = kubeconfigFor(env, proxy, peerToken());
    expect((await runClient(kubeconfig, 'list', 'services', 'workloads')).items).toContain('frontend');
    const oldToken = (await import('node:fs')).readFileSync(env.tokenFile, 'utf8');
    writeTokenFile(env.tokenFile, await serviceAccountToken(env, 'proxy-token-anchor-2'));
    proxyTokens.add(readFileSync(env.tokenFile, 'utf8').trim());
    await api().delete(
      resourcePath('v1', 'secrets', { namespace: MODULE_NAMESPACE, name: 'proxy-token-anchor-1' }),
    );
    // The old token is really dead (the apiserver itself refuses it) ...
    const direct = new (await import('../../tools/e2e/kube-api')).KubeApi({
      ...env.apiServer.connection,
      token: oldToken,
    });
    await pollUntil(async () => ((await direct.raw('GET', '/api')).status === 401 ? true : undefined), {
      what: 'old service-account token refused by the apiserver',
      timeoutMs: 30_000,
      intervalMs: 200,
    });
    // ... and the proxy works, so it uses the new one.
    const res = await proxyRequest(env, proxy, '/api/v1/namespaces/workloads/services', {
      headers: bearer(peerToken()),
    });
    expect(res.status).toBe(200);
    const metrics = (await proxyRequest(env, proxy, '/metrics')).body;
    expect(
      Number(/d8_istio_api_proxy_service_account_token_reads (\d+)/.exec(metrics)?.[1]),
    ).toBeGreaterThanOrEqual(2);
  });
});

describe('in-cluster mode (KUBERNETES_SERVICE_HOST/PORT, kubelet-projected token)', () => {
  test('serves with the projected token and follows its rotation through ..data', async () => {
    const prefix = join(env.dir, 'pod-root');
    const caPem = readFileSync(join(env.dir, 'apiserver', 'ca.crt'), 'utf8');
    const firstToken = await serviceAccountToken(env, 'in-cluster-anchor-1');
    writeServiceAccountDir(prefix, { token: firstToken, 'ca.crt': caPem });
    const inCluster = await startProxy(env, [], { inClusterPrefix: prefix });
    try {
      expect(inCluster.logs[0]).toMatchObject({
        msg: 'listening',
        apiserver: env.apiServer.connection.server,
      });
      const read = () =>
        proxyRequest(env, inCluster, '/api/v1/namespaces/workloads/services', {
          headers: bearer(peerToken()),
        });
      expect((await read()).status).toBe(200);
      expect((await proxyRequest(env, inCluster, '/ready')).status).toBe(200);
      // The kubelet rotates: a new generation directory, ..data swapped; the old token revoked.
      writeServiceAccountDir(prefix, {
        token: await serviceAccountToken(env, 'in-cluster-anchor-2'),
        'ca.crt': caPem,
      });
      await api().delete(
        resourcePath('v1', 'secrets', { namespace: MODULE_NAMESPACE, name: 'in-cluster-anchor-1' }),
      );
      const old = new KubeApi({ ...env.apiServer.connection, token: firstToken });
      await pollUntil(async () => ((await old.raw('GET', '/api')).status === 401 ? true : undefined), {
        what: 'first projected token refused by the apiserver',
        timeoutMs: 30_000,
        intervalMs: 200,
      });
      expect((await read()).status).toBe(200);
    } finally {
      await inCluster.stop();
    }
  });
});

describe('the rendered RBAC, checked by the apiserver itself', () => {
  test("the proxy's ServiceAccount has exactly the documented rule set", async () => {
    const token = await serviceAccountToken(env, 'rules-review-anchor');
    const asProxy = new (await import('../../tools/e2e/kube-api')).KubeApi({
      ...env.apiServer.connection,
      token,
    });
    const review = async (namespace: string) => {
      const res = await asProxy.raw(
        'POST',
        '/apis/authorization.k8s.io/v1/selfsubjectrulesreviews',
        JSON.stringify({
          apiVersion: 'authorization.k8s.io/v1',
          kind: 'SelfSubjectRulesReview',
          spec: { namespace },
        }),
        { 'Content-Type': 'application/json' },
      );
      expect(res.status).toBe(201);
      const rules = (
        JSON.parse(res.body) as {
          status: {
            resourceRules: {
              verbs: string[];
              apiGroups?: string[];
              resources?: string[];
              resourceNames?: string[];
            }[];
          };
        }
      ).status.resourceRules;
      // What every authenticated user has (system:basic-user): asking about itself.
      return rules.filter((r) => !(r.resources ?? []).every((res) => res.startsWith('selfsubject')));
    };
    const flatten = (rules: Awaited<ReturnType<typeof review>>) =>
      rules
        .flatMap((r) =>
          (r.apiGroups ?? ['']).flatMap((g) =>
            (r.resources ?? []).map((res) => `${g}/${res}:${[...r.verbs].sort().join(',')}`),
          ),
        )
        .sort();
    const clusterWide = [
      '/endpoints',
      '/namespaces',
      '/nodes',
      '/pods',
      '/services',
      'apiextensions.k8s.io/customresourcedefinitions',
      'discovery.k8s.io/endpointslices',
      'extensions.istio.io/*',
      'gateway.networking.k8s.io/gateways',
      'networking.istio.io/*',
      'security.istio.io/*',
      'telemetry.istio.io/*',
    ].map((r) => `${r}:get,list,watch`);
    expect(flatten(await review('workloads'))).toEqual(clusterWide.sort());
    expect(flatten(await review(MODULE_NAMESPACE))).toEqual(
      [...clusterWide, '/configmaps:get,list,watch'].sort(),
    );
    // No secret rule anywhere: the empty Secrets view needs none.
    const everyRule = [...flatten(await review('workloads')), ...flatten(await review(MODULE_NAMESPACE))];
    expect(everyRule.filter((r) => r.includes('secrets') || r.startsWith('/*') || r.startsWith('*'))).toEqual(
      [],
    );
    // Never a secret, directly against the apiserver either.
    for (const name of ['cacerts', 'd8-remote-authn-keypair']) {
      expect(
        (await asProxy.raw('GET', resourcePath('v1', 'secrets', { namespace: MODULE_NAMESPACE, name })))
          .status,
      ).toBe(403);
    }
    expect((await asProxy.raw('GET', '/api/v1/secrets')).status).toBe(403);
  });
});

describe('attack suite', () => {
  /** The proxy's own wording (server.ts, policy.ts): an apiserver refusal names the user. */
  const PROXY_REFUSALS: Record<number, RegExp> = {
    401: /^(invalid token|missing authorization header|malformed authorization header)$/,
    404: /^not served by the api-proxy$/,
    403: /^(proxy is|subresource \w+ is|\w+ are) not served$/,
    405: /^method \w+ is not allowed: the proxy is read-only$/,
  };
  const refusedBy = (res: { status: number; body: string }, code: number) => {
    expect(res.status).toBe(code);
    // The proxy's own refusal (a Status object), never data, never the apiserver's RBAC 403.
    const status = JSON.parse(res.body) as { message?: string };
    expect(status).toMatchObject({ kind: 'Status', code });
    expect(status.message).toMatch(PROXY_REFUSALS[code]!);
    expect(res.body).not.toContain('User "system:serviceaccount');
    expect(res.body).not.toContain('SECRET-KEY-MATERIAL');
  };

  test.each(['POST', 'PUT', 'PATCH', 'DELETE'])(
    '%s is refused with 405 and changes nothing',
    async (method) => {
      const path = method === 'POST' ? servicePath('workloads') : servicePath('workloads', 'frontend');
      const body = JSON.stringify(
        service('workloads', method === 'POST' ? 'evil' : 'frontend', { owned: 'yes' }),
      );
      const res = await proxyRequest(env, proxy, path, {
        method,
        headers: {
          ...bearer(peerToken()),
          'Content-Type': method === 'PATCH' ? 'application/merge-patch+json' : 'application/json',
        },
        ...(method === 'DELETE' ? {} : { body }),
      });
      refusedBy(res, 405);
      expect(res.headers.allow).toBe('GET');
      expect(await api().get(servicePath('workloads', 'evil'))).toBeUndefined();
      const frontend = await api().get<{ metadata: { labels?: Record<string, string> } }>(
        servicePath('workloads', 'frontend'),
      );
      expect(frontend?.metadata.labels?.owned).toBeUndefined();
    },
  );

  test('a GET carrying a body is refused (400, connection closed)', async () => {
    // Over TLS, Bun may cut the connection before the refusal body is read (the request body
    // is never read): the status is what counts.
    const res = await proxyRequest(env, proxy, servicePath('workloads'), {
      headers: bearer(peerToken()),
      body: '{}',
    });
    expect(res.status).toBe(400);
    expect(res.body).not.toContain('frontend');
  });

  test.each([
    ['exec', '/api/v1/namespaces/workloads/pods/frontend-0/exec?command=id&stdout=true'],
    ['attach', '/api/v1/namespaces/workloads/pods/frontend-0/attach?stdout=true'],
    ['portforward', '/api/v1/namespaces/workloads/pods/frontend-0/portforward?ports=80'],
    ['pod proxy', '/api/v1/namespaces/workloads/pods/frontend-0/proxy/'],
    ['service proxy', '/api/v1/namespaces/workloads/services/frontend/proxy/'],
    ['node proxy', '/api/v1/nodes/node-1/proxy/metrics'],
    ['legacy proxy path', '/api/v1/proxy/namespaces/workloads/services/frontend'],
    ['log', '/api/v1/namespaces/workloads/pods/frontend-0/log'],
    ['namespace finalize', `/api/v1/namespaces/${MODULE_NAMESPACE}/finalize`],
  ])('subresource %s is refused with 403', async (_name, path) => {
    refusedBy(await proxyRequest(env, proxy, path, { headers: bearer(peerToken()) }), 403);
  });

  test('an exec upgrade (SPDY/WebSocket) is refused before any stream opens', async () => {
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = tlsConnect({ host: '127.0.0.1', port: proxy.port, ca: env.proxyCa.certPem }, () => {
        socket.write(
          'GET /api/v1/namespaces/workloads/pods/frontend-0/exec?command=id HTTP/1.1\r\nHost: x\r\n' +
            `Authorization: Bearer ${peerToken()}\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\n\r\n`,
        );
      });
      let data = '';
      socket.on('data', (chunk: Buffer) => (data += chunk.toString()));
      socket.on('close', () => resolve(data));
      socket.on('error', reject);
    });
    expect(answer).toMatch(/^HTTP\/1\.1 403 /);
    // The proxy's own bodiless refusal of every upgrade, not an apiserver Status naming the user.
    expect(answer).toContain('\r\nContent-Length: 0\r\n');
    expect(answer).not.toContain('system:serviceaccount');
    expect(answer).not.toMatch(/101 Switching/);
  });

  test.each([
    ['service-account tokens', `/api/v1/namespaces/${MODULE_NAMESPACE}/serviceaccounts`],
    ['a Secret subresource', `/api/v1/namespaces/${MODULE_NAMESPACE}/secrets/cacerts/status`],
    ['secrets of another API group', '/apis/example.com/v1/secrets'],
  ])('%s: refused with 403', async (_name, path) => {
    refusedBy(await proxyRequest(env, proxy, path, { headers: bearer(peerToken()) }), 403);
  });

  // Reads of Secrets get the empty view (see above); every form of it is checked here for
  // leaks: no key material, no Secret name, not the apiserver's answer for the proxy's user.
  test.each([
    ['cacerts (the mesh CA key)', `/api/v1/namespaces/${MODULE_NAMESPACE}/secrets/cacerts`, 404],
    [
      'd8-remote-authn-keypair (our signing key)',
      `/api/v1/namespaces/${MODULE_NAMESPACE}/secrets/d8-remote-authn-keypair`,
      404,
    ],
    ['all secrets', '/api/v1/secrets', 200],
    ['secrets of a namespace', `/api/v1/namespaces/${MODULE_NAMESPACE}/secrets`, 200],
    ['a watch on secrets', '/api/v1/secrets?watch=true&allowWatchBookmarks=true&timeoutSeconds=1', 200],
    ['a legacy watch on secrets', '/api/v1/watch/secrets?timeoutSeconds=1', 200],
  ])('%s (%s): %d, the empty view, no Secret data', async (_name, path, code) => {
    const res = await proxyRequest(env, proxy, path, { headers: bearer(peerToken()) });
    expect(res.status).toBe(code);
    expect(res.body).not.toContain('SECRET-KEY-MATERIAL');
    expect(res.body).not.toContain(Buffer.from('SECRET-KEY-MATERIAL').toString('base64'));
    expect(res.body).not.toContain('system:serviceaccount');
    if (code === 200) expect(res.body).not.toMatch(/cacerts|authn-keypair|"type":"(ADDED|MODIFIED)"/);
  });

  test.each(['POST', 'PUT', 'PATCH', 'DELETE'])(
    '%s on a Secret: 405, the Secret unchanged',
    async (method) => {
      const path =
        method === 'POST'
          ? `/api/v1/namespaces/${MODULE_NAMESPACE}/secrets`
          : `/api/v1/namespaces/${MODULE_NAMESPACE}/secrets/cacerts`;
      const body = JSON.stringify({
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'cacerts' },
        stringData: { x: 'y' },
      });
      const res = await proxyRequest(env, proxy, path, {
        method,
        headers: { ...bearer(peerToken()), 'Content-Type': 'application/json' },
        ...(method === 'DELETE' ? {} : { body }),
      });
      refusedBy(res, 405);
      const stored = await api().get<{ data: Record<string, string> }>(
        resourcePath('v1', 'secrets', { namespace: MODULE_NAMESPACE, name: 'cacerts' }),
      );
      expect(stored?.data).toEqual({ 'ca-key.pem': Buffer.from('SECRET-KEY-MATERIAL').toString('base64') });
    },
  );

  test('what RBAC does not grant is refused by the apiserver (configmaps outside d8-istio)', async () => {
    const res = await proxyRequest(env, proxy, '/api/v1/namespaces/workloads/configmaps', {
      headers: bearer(peerToken()),
    });
    expect(res.status).toBe(403);
    expect(res.body).toContain(PROXY_USER);
    // ... while the one namespace the Role covers is readable.
    expect(
      (
        await proxyRequest(env, proxy, `/api/v1/namespaces/${MODULE_NAMESPACE}/configmaps`, {
          headers: bearer(peerToken()),
        })
      ).status,
    ).toBe(200);
  });

  test('impersonation headers are stripped: the request runs as the proxy, not as the impersonated admin', async () => {
    const path = '/api/v1/namespaces/workloads/configmaps';
    const impersonation = {
      'Impersonate-User': 'e2e-admin',
      'Impersonate-Group': ['system:masters', 'system:authenticated'],
      'Impersonate-Uid': 'e2e-admin-uid',
      'Impersonate-Extra-Scopes': 'all',
      'X-Remote-User': 'e2e-admin',
      'X-Remote-Group': 'system:masters',
    };
    // Control: the apiserver honours these headers for a user allowed to impersonate.
    const direct = await api().raw('GET', path, undefined, {
      'Impersonate-User': 'e2e-admin',
      'Impersonate-Group': 'system:masters',
    });
    expect(direct.status).toBe(200);
    const res = await proxyRequest(env, proxy, path, {
      headers: { ...bearer(peerToken()), ...impersonation },
    });
    expect(res.status).toBe(403);
    // Not "cannot impersonate" (headers forwarded, then refused): a plain list as the proxy.
    expect(JSON.parse(res.body).message).toBe(
      `configmaps is forbidden: User "${PROXY_USER}" cannot list resource "configmaps" in API group "" in the namespace "workloads"`,
    );
  });

  test('the apiserver admin token sent as the bearer is not forwarded', async () => {
    const res = await proxyRequest(env, proxy, '/api/v1/namespaces/workloads/configmaps', {
      headers: bearer(env.apiServer.connection.token),
    });
    refusedBy(res, 401);
    // Control: the same token straight to the apiserver reads them.
    expect((await api().raw('GET', '/api/v1/namespaces/workloads/configmaps')).status).toBe(200);
  });

  test('two Authorization headers (a valid one and the admin token) are refused', async () => {
    const res = await proxyRequest(env, proxy, '/api/v1/namespaces/workloads/services', {
      headers: { Authorization: [`Bearer ${peerToken()}`, `Bearer ${env.apiServer.connection.token}`] },
    });
    refusedBy(res, 401);
  });

  describe('tokens', () => {
    const expect401 = async (authorization: string | undefined) => {
      const res = await proxyRequest(env, proxy, '/api/v1/namespaces/workloads/services', {
        headers: authorization === undefined ? {} : { Authorization: authorization },
      });
      refusedBy(res, 401);
      expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
    };

    test('control: the reference-format token (only alg in the header, 366 days) is accepted', async () => {
      const res = await proxyRequest(env, proxy, '/api/v1/namespaces/workloads/services', {
        headers: bearer(peerToken()),
      });
      expect(res.status).toBe(200);
      expect(
        JSON.parse(res.body).items.map((i: { metadata: { name: string } }) => i.metadata.name),
      ).toContain('frontend');
    });

    test('a peer clock 30 s ahead (nbf in the future) is tolerated', async () => {
      const res = await proxyRequest(env, proxy, '/api', { headers: bearer(peerToken({ nbf: now() + 30 })) });
      expect(res.status).toBe(200);
    });

    test('no Authorization', () => expect401(undefined));
    test("a federation peer's api token (known to the cluster, not a multicluster peer)", () =>
      expect401(
        `Bearer ${eddsaToken(env.federationPeer.keypair.priv, apiClaims({ sub: env.federationPeer.clusterUUID }))}`,
      ));
    test('signed with the wrong key (a stranger claiming to be the peer)', () =>
      expect401(`Bearer ${eddsaToken(env.stranger.keypair.priv, apiClaims())}`));
    test('an unknown subject', () =>
      expect401(
        `Bearer ${eddsaToken(env.stranger.keypair.priv, apiClaims({ sub: env.stranger.clusterUUID }))}`,
      ));
    test('the wrong audience', () => expect401(`Bearer ${peerToken({ aud: env.peer.clusterUUID })}`));
    test.each(['private-multicluster', 'private-federation', 'API', ''])('the wrong scope %p', (scope) =>
      expect401(`Bearer ${peerToken({ scope })}`),
    );
    test('the wrong issuer', () => expect401(`Bearer ${peerToken({ iss: 'someone-else' })}`));
    test('expired', () => expect401(`Bearer ${peerToken({ nbf: now() - 7200, exp: now() - 3600 })}`));
    test('no exp', () => expect401(`Bearer ${peerToken({ exp: undefined })}`));
    test('not yet valid (nbf an hour ahead)', () => expect401(`Bearer ${peerToken({ nbf: now() + 3600 })}`));
    test('a lifetime beyond 367 days', () =>
      expect401(`Bearer ${peerToken({ exp: now() + 400 * 24 * 3600 })}`));
    test('alg none', () => expect401(`Bearer ${unsignedToken(apiClaims())}`));
    test('HS256 keyed with the peer public key', () =>
      expect401(`Bearer ${hmacWithPublicKeyToken(env.peer.keypair.pub, apiClaims())}`));
    test('a tampered payload (signature of another payload)', () => {
      const [header, , signature] = peerToken().split('.');
      const payload = Buffer.from(
        JSON.stringify(apiClaims({ sub: env.peer.clusterUUID, extra: 'x' })),
      ).toString('base64url');
      return expect401(`Bearer ${header}.${payload}.${signature}`);
    });
    test('an oversized token', () => expect401(`Bearer ${peerToken({ pad: 'a'.repeat(5000) })}`));
    test('another scheme', () => expect401(`Basic ${Buffer.from('admin:admin').toString('base64')}`));
  });

  test('a peer removed from the multicluster peers is refused once the file changes', async () => {
    const token = peerToken();
    expect((await proxyRequest(env, proxy, '/api', { headers: bearer(token) })).status).toBe(200);
    writePeers(env.peersFile, [env.stranger]);
    try {
      await pollUntil(
        async () =>
          (await proxyRequest(env, proxy, '/api', { headers: bearer(token) })).status === 401
            ? true
            : undefined,
        {
          what: 'removed peer refused',
          timeoutMs: 15_000,
          intervalMs: 100,
        },
      );
    } finally {
      writePeers(env.peersFile, [env.peer]);
      await pollUntil(
        async () =>
          (await proxyRequest(env, proxy, '/api', { headers: bearer(token) })).status === 200
            ? true
            : undefined,
        {
          what: 'peer accepted again',
          timeoutMs: 15_000,
          intervalMs: 100,
        },
      );
    }
  });

  test.each([
    '/',
    '/healthz/../api',
    '/openapi/v2',
    '/openapi/v3',
    '/logs/',
    '/debug/pprof/',
    '/metrics/cadvisor',
    '//api/v1/secrets',
    '/api/v1/namespaces/workloads/services/../../../secrets',
    '/api/v1/namespaces/workloads/%2e%2e/secrets',
    '/api/v1/namespaces%2fd8-istio%2fsecrets',
    '/apis/..%2f..%2fapi',
    '/api/v2/services',
  ])('non-API path %s: 404, never forwarded', async (path) => {
    refusedBy(await proxyRequest(env, proxy, path, { headers: bearer(peerToken()) }), 404);
  });

  test('an unauthenticated request to a non-API path gets 401: nothing is revealed before authentication', async () => {
    refusedBy(await proxyRequest(env, proxy, '/openapi/v2'), 401);
  });

  test('oversized request heads get 431, many headers too', async () => {
    const big = await proxyRequest(env, proxy, '/api', {
      headers: { ...bearer(peerToken()), 'X-Big': 'a'.repeat(20_000) },
    });
    expect(big.status).toBe(431);
    const many = Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`X-H-${i}`, 'b'.repeat(60)]));
    expect(
      (await proxyRequest(env, proxy, '/api', { headers: { ...bearer(peerToken()), ...many } })).status,
    ).toBe(431);
  });

  /** Trickles a request head line by line; resolves when the server hangs up (or after 5 s). */
  const slowloris = (port: number) =>
    new Promise<{ closedByServer: boolean; received: string; lines: number }>((resolve) => {
      let lines = 0;
      let received = '';
      let trickle: NodeJS.Timeout | undefined;
      const socket = tlsConnect({ host: '127.0.0.1', port, ca: env.proxyCa.certPem }, () => {
        socket.write(`GET /api HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${peerToken()}\r\n`);
        trickle = setInterval(() => {
          if (lines < 100) socket.write(`X-Slow-${lines++}: a\r\n`);
        }, 50);
      });
      const patience = setTimeout(() => finish(false), 5_000);
      const finish = (closedByServer: boolean) => {
        clearInterval(trickle);
        clearTimeout(patience);
        socket.destroy();
        resolve({ closedByServer, received, lines });
      };
      socket.on('data', (chunk: Buffer) => (received += chunk.toString()));
      socket.on('close', () => finish(true));
      socket.on('error', () => undefined);
    });

  test('slowloris is cut off, while a watch idle for longer than every idle bound keeps delivering', async () => {
    const slow = await startProxy(env, ['--header-timeout', '0.3', '--keep-alive-timeout', '0.3']);
    const watch = new KubeClient(kubeconfigFor(env, slow, peerToken()), ['watch', 'services', 'workloads']);
    try {
      await watch.next((l) => 'watching' in l);
      await watch.next((l) => l.event === 'ADDED' && l.name === 'frontend');
      const observed = await slowloris(slow.port);
      expect(observed.closedByServer).toBe(true);
      expect(observed.received).toBe('');
      expect(observed.lines).toBeGreaterThan(0);
      expect(observed.lines).toBeLessThan(100);
      // The cut-off above proves the header and keep-alive bounds (0.3 s) have passed since
      // the watch's last byte; the watch is bounded by --max-request-duration instead.
      await api().create(servicePath('workloads'), service('workloads', 'after-idle'));
      await watch.next((l) => l.event === 'ADDED' && l.name === 'after-idle');
      expect(watch.lines.filter((l) => 'done' in l || 'error' in l)).toEqual([]);
    } finally {
      watch.stop();
      await slow.stop();
      await api().delete(servicePath('workloads', 'after-idle'));
    }
  });

  test('a watch longer than --max-request-duration is ended by the proxy', async () => {
    const limitMs = 2_000;
    const bounded = await startProxy(env, ['--max-request-duration', String(limitMs / 1000)]);
    // Taken before the client starts: a lower bound for the time the watch really lasted.
    const started = Date.now();
    const watch = new KubeClient(kubeconfigFor(env, bounded, peerToken()), [
      'watch',
      'services',
      'workloads',
    ]);
    try {
      await watch.next((l) => l.event === 'ADDED' && l.name === 'frontend');
      // client-node reports the end of the stream through its done callback.
      await watch.next((l) => 'done' in l, 20_000);
      expect(Date.now() - started).toBeGreaterThanOrEqual(limitMs);
      // The proxy's own record agrees. Its clock starts once the token is verified, after
      // the connection's timer: a few milliseconds short of the limit at most.
      const record = await pollUntil(
        async () => bounded.logs.find((l) => l.msg === 'request' && l.verb === 'watch'),
        { what: "the watch's request log line", timeoutMs: 5_000, intervalMs: 50 },
      );
      expect(record).toMatchObject({ durationMs: expect.any(Number) });
      expect(Number(record.durationMs)).toBeGreaterThanOrEqual(limitMs - 100);
      // Only that request ended: the proxy still serves.
      expect((await proxyRequest(env, bounded, '/livez')).status).toBe(200);
    } finally {
      watch.stop();
      await bounded.stop();
    }
  });

  test('connections beyond --max-connections are refused; the proxy stays up', async () => {
    const capped = await startProxy(env, ['--max-connections', '2']);
    const sockets: ReturnType<typeof tlsConnect>[] = [];
    try {
      const outcomes = await Promise.all(
        Array.from(
          { length: 5 },
          () =>
            new Promise<'answered' | 'refused'>((resolve) => {
              const socket = tlsConnect(
                { host: '127.0.0.1', port: capped.port, ca: env.proxyCa.certPem },
                () => socket.write(`GET /livez HTTP/1.1\r\nHost: x\r\n\r\n`),
              );
              sockets.push(socket);
              socket.once('data', () => resolve('answered'));
              socket.once('close', () => resolve('refused'));
              socket.on('error', () => undefined);
            }),
        ),
      );
      expect(outcomes.filter((o) => o === 'answered').length).toBeLessThanOrEqual(2);
      expect(outcomes).toContain('refused');
      for (const socket of sockets) socket.destroy();
      await pollUntil(
        async () =>
          (await proxyRequest(env, capped, '/livez').catch(() => ({ status: 0 }))).status === 200
            ? true
            : undefined,
        { what: 'served again once the held connections are gone', timeoutMs: 15_000, intervalMs: 100 },
      );
    } finally {
      for (const socket of sockets) socket.destroy();
      await capped.stop();
    }
  });

  test('SIGTERM ends open watches within the shutdown bound and exits 0', async () => {
    const stopping = await startProxy(env, ['--shutdown-timeout', '1']);
    const watch = new KubeClient(kubeconfigFor(env, stopping, peerToken()), [
      'watch',
      'services',
      'workloads',
    ]);
    try {
      await watch.next((l) => l.event === 'ADDED' && l.name === 'frontend');
      stopping.proc.kill('SIGTERM');
      expect(await stopping.exited).toEqual({ code: 0, signal: null });
      expect(stopping.logs.at(-1)).toMatchObject({ msg: 'stopped', outcome: 'forced' });
      await watch.next((l) => 'done' in l);
    } finally {
      watch.stop();
    }
  });

  test('every refusal is counted and no token or secret reaches the logs', async () => {
    const metrics = (await proxyRequest(env, proxy, '/metrics')).body;
    expect(metrics).toMatch(/d8_istio_api_proxy_auth_failures_total\{reason="unknown subject"\} [1-9]/);
    expect(metrics).toMatch(/d8_istio_api_proxy_policy_refusals_total\{code="403"\} [1-9]/);
    expect(proxy.rawOutput).not.toContain(env.apiServer.connection.token);
    // No JWT at all: neither the peers' bearer tokens nor the proxy's own.
    expect(proxy.rawOutput).not.toMatch(/eyJ[\w-]{10,}\.eyJ[\w-]{10,}\./);
    expect(proxyTokens.size).toBeGreaterThan(0);
    for (const token of proxyTokens) expect(proxy.rawOutput).not.toContain(token);
    expect(proxy.rawOutput).not.toContain('SECRET-KEY-MATERIAL');
  });
});

describe('revocation reaches the requests in flight (watches a remote istiod keeps open)', () => {
  const WATCH = '/api/v1/namespaces/workloads/services?watch=1';
  /** Peer Y: stays accepted while X (env.peer) is revoked. */
  const other = testCluster('cluster.local');
  const tokenOf = (cluster: TestCluster, overrides: Claims = {}) =>
    eddsaToken(cluster.keypair.priv, apiClaims({ sub: cluster.clusterUUID, ...overrides }), { alg: 'EdDSA' });
  let revoking: RunningProxy;
  const watch = (token: string, path = WATCH) =>
    openStream({ port: revoking.port, ca: env.proxyCa.certPem }, path, bearer(token));
  /** How the stream ended ('ended' cleanly or 'cut'), within a bound. */
  const streamEnd = (stream: OpenStream, deadlineMs = 20_000): Promise<'ended' | 'cut'> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`stream still open after ${deadlineMs} ms: ${stream.received().slice(-300)}`)),
        deadlineMs,
      );
      void stream.ended
        .then(
          () => 'ended' as const,
          () => 'cut' as const,
        )
        .then((how) => {
          clearTimeout(timer);
          resolve(how);
        });
    });
  const revokedCounts = async () => {
    const text = (await proxyRequest(env, revoking, '/metrics')).body;
    return Object.fromEntries(
      [...text.matchAll(/^d8_istio_api_proxy_revoked_requests_total\{reason="([\w-]+)"\} (\d+)/gm)].map(
        (m) => [m[1], Number(m[2])],
      ),
    );
  };
  const endedLines = () => revoking.logs.filter((l) => l.msg === 'in-flight requests ended');

  beforeEach(async () => {
    writePeers(env.peersFile, [env.peer, other]);
    revoking = await startProxy(env);
  });
  afterEach(async () => {
    await revoking.stop();
    writePeers(env.peersFile, [env.peer]);
    await pollUntil(
      async () =>
        (await proxyRequest(env, proxy, '/api', { headers: bearer(peerToken()) })).status === 200
          ? true
          : undefined,
      { what: 'the shared proxy accepts the peer again', timeoutMs: 15_000, intervalMs: 100 },
    );
  });

  test("removing peer X ends X's watches (proxied and empty Secrets), not Y's, which still delivers", async () => {
    const x = await watch(tokenOf(env.peer));
    const xSecrets = await watch(tokenOf(env.peer), '/api/v1/secrets?watch=1');
    const y = await watch(tokenOf(other));
    try {
      expect([x.status, xSecrets.status, y.status]).toEqual([200, 200, 200]);
      expect(await revokedCounts()).toEqual({ 'peer-removed': 0, 'key-changed': 0, 'token-expired': 0 });
      writePeers(env.peersFile, [other]);
      // Cut (an event could be split by a clean end); the empty watch, having sent nothing, ends cleanly.
      expect(await streamEnd(x)).toBe('cut');
      expect(await streamEnd(xSecrets)).toBe('ended');
      // Its re-watch is refused.
      expect((await proxyRequest(env, revoking, WATCH, { headers: bearer(tokenOf(env.peer)) })).status).toBe(
        401,
      );
      // Y's watch is still open and still delivers.
      await api().create(servicePath('workloads'), service('workloads', 'after-revocation'));
      await pollUntil(async () => (y.received().includes('"after-revocation"') ? true : undefined), {
        what: "Y's watch delivers a Service created after X's revocation",
        timeoutMs: 15_000,
        intervalMs: 50,
      });
      expect(y.closed()).toBe(false);
      expect(await revokedCounts()).toEqual({ 'peer-removed': 2, 'key-changed': 0, 'token-expired': 0 });
      expect(endedLines()).toEqual([
        expect.objectContaining({ peer: env.peer.clusterUUID, reason: 'peer-removed', requests: 2 }),
      ]);
      const outcomes = revoking.logs
        .filter((l) => l.msg === 'request' && l.peer === env.peer.clusterUUID)
        .map((l) => `${String(l.verb)} ${String(l.outcome)}`)
        .sort();
      expect(outcomes).toEqual(['empty-secrets revoked: peer-removed', 'watch revoked: peer-removed']);
      expect(revoking.rawOutput).not.toMatch(/eyJ[\w-]{10,}\.eyJ[\w-]{10,}\./);
    } finally {
      for (const stream of [x, xSecrets, y]) stream.stop();
      await api().delete(servicePath('workloads', 'after-revocation'));
    }
  });

  test("a changed key ends X's watches verified with the old key; the new key's token is accepted", async () => {
    const x = await watch(tokenOf(env.peer));
    const y = await watch(tokenOf(other));
    const rotated: TestCluster = { ...env.peer, keypair: generateAuthnKeypair() };
    try {
      writePeers(env.peersFile, [rotated, other]);
      expect(await streamEnd(x)).toBe('cut');
      expect(y.closed()).toBe(false);
      expect((await proxyRequest(env, revoking, '/api', { headers: bearer(tokenOf(env.peer)) })).status).toBe(
        401,
      );
      expect((await proxyRequest(env, revoking, '/api', { headers: bearer(tokenOf(rotated)) })).status).toBe(
        200,
      );
      expect(await revokedCounts()).toEqual({ 'peer-removed': 0, 'key-changed': 1, 'token-expired': 0 });
      expect(endedLines()).toEqual([
        expect.objectContaining({ peer: env.peer.clusterUUID, reason: 'key-changed', requests: 1 }),
      ]);
    } finally {
      x.stop();
      y.stop();
    }
  });

  test('a watch ends when its token expires, at exp plus the 5 s leeway; a 366-day token is unaffected', async () => {
    const exp = now() + 1;
    const short = await watch(tokenOf(env.peer, { exp }));
    const long = await watch(tokenOf(env.peer));
    try {
      expect(short.status).toBe(200);
      expect(await streamEnd(short)).toBe('cut');
      // Never before the instant from which a new request with that token is refused.
      expect(Date.now()).toBeGreaterThanOrEqual((exp + 5) * 1000);
      expect(
        (await proxyRequest(env, revoking, '/api', { headers: bearer(tokenOf(env.peer, { exp })) })).status,
      ).toBe(401);
      expect(long.closed()).toBe(false);
      expect(await revokedCounts()).toEqual({ 'peer-removed': 0, 'key-changed': 0, 'token-expired': 1 });
      expect(endedLines()).toEqual([
        expect.objectContaining({ peer: env.peer.clusterUUID, reason: 'token-expired', requests: 1 }),
      ]);
    } finally {
      short.stop();
      long.stop();
    }
  });
});
