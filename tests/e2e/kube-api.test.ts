// The harness's API client against a loopback HTTPS server: the TLS trust and the bearer
// token come from @kubernetes/client-node (loaded here through jest's SWC transform), and
// each operation sends the method, path, query and content type the API server expects.
import { createServer, type Server } from 'node:https';
import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { makeServerPki } from '../fetch/certs';
import { ApiError, KubeApi, resourcePath } from '../../tools/e2e/kube-api';

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

const pki = makeServerPki('kube-api');
const TOKEN = 'token-123';
const seen: Seen[] = [];
/** Answer per request: [status, body]; `undefined` leaves the request unanswered. */
let answer: (s: Seen) => [number, unknown] | undefined = () => [200, {}];
let server: Server;
let base: string;

beforeAll(async () => {
  server = createServer({ cert: pki.server.certPem, key: pki.server.keyPem }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const s: Seen = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      seen.push(s);
      const reply = answer(s);
      if (!reply) return;
      res.writeHead(reply[0], { 'Content-Type': 'application/json' });
      res.end(typeof reply[1] === 'string' ? reply[1] : JSON.stringify(reply[1]));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(() => {
  seen.length = 0;
  answer = () => [200, {}];
});

const api = (timeoutMs?: number) =>
  new KubeApi({ server: base, caPem: pki.ca.certPem, token: TOKEN }, timeoutMs);

const CM = resourcePath('v1', 'configmaps', { namespace: 'ns', name: 'cm' });
const configMap = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm', namespace: 'ns' } };

test('trusts the connection CA and sends its bearer token', async () => {
  answer = () => [200, { ...configMap, data: { a: 'b' } }];
  expect(await api().get(CM)).toEqual({ ...configMap, data: { a: 'b' } });
  expect(seen).toHaveLength(1);
  expect(seen[0]).toMatchObject({ method: 'GET', url: '/api/v1/namespaces/ns/configmaps/cm' });
  expect(seen[0]!.headers.authorization).toBe(`Bearer ${TOKEN}`);
  expect(seen[0]!.headers.accept).toBe('application/json');
});

test('refuses a server its CA did not sign', async () => {
  const other = makeServerPki('other');
  const stranger = new KubeApi({ server: base, caPem: other.ca.certPem, token: TOKEN });
  await expect(stranger.raw('GET', '/readyz')).rejects.toThrow(/certificate|self.signed|verify/i);
  expect(seen).toHaveLength(0);
});

test('get: undefined on 404, ApiError on other failures', async () => {
  answer = () => [404, { kind: 'Status', reason: 'NotFound' }];
  expect(await api().get(CM)).toBeUndefined();
  answer = () => [403, { kind: 'Status', reason: 'Forbidden' }];
  const error: unknown = await api()
    .get(CM)
    .catch((e: unknown) => e);
  expect(error).toBeInstanceOf(ApiError);
  expect(error).toMatchObject({ method: 'GET', path: CM, status: 403 });
  expect((error as ApiError).message).toMatch(/HTTP 403: .*Forbidden/);
});

test('apply, patches, create, list and delete send what the API server expects', async () => {
  answer = (s) => (s.method === 'GET' ? [200, { items: [configMap] }] : [200, configMap]);
  const client = api();
  await client.apply(CM, configMap);
  await client.mergePatch(CM, { data: { a: 'c' } });
  await client.jsonPatch(CM, [{ op: 'remove', path: '/metadata/labels/a~1b' }]);
  await client.create(resourcePath('v1', 'configmaps', { namespace: 'ns' }), configMap);
  expect(await client.list(resourcePath('v1', 'configmaps'), 'a=b,c')).toEqual([configMap]);
  await client.delete(CM);
  expect(seen.map((s) => [s.method, s.url, s.headers['content-type']])).toEqual([
    ['PATCH', `${CM}?fieldManager=istio-federation-e2e&force=true`, 'application/apply-patch+yaml'],
    ['PATCH', CM, 'application/merge-patch+json'],
    ['PATCH', CM, 'application/json-patch+json'],
    ['POST', '/api/v1/namespaces/ns/configmaps', 'application/json'],
    ['GET', '/api/v1/configmaps?labelSelector=a%3Db%2Cc', undefined],
    ['DELETE', CM, undefined],
  ]);
  expect(JSON.parse(seen[0]!.body)).toEqual(configMap);
  expect(JSON.parse(seen[2]!.body)).toEqual([{ op: 'remove', path: '/metadata/labels/a~1b' }]);
  expect(seen.every((s) => s.headers.authorization === `Bearer ${TOKEN}`)).toBe(true);
});

test('delete: a missing object is fine, a refusal is not', async () => {
  answer = () => [404, {}];
  await expect(api().delete(CM)).resolves.toBeUndefined();
  answer = () => [409, { reason: 'Conflict' }];
  await expect(api().delete(CM)).rejects.toThrow(/DELETE .*: HTTP 409/);
});

test('table asks for a server-side Table and returns its columns and rows', async () => {
  answer = () => [
    200,
    {
      kind: 'Table',
      columnDefinitions: [{ name: 'Name' }, { name: 'Age' }],
      rows: [{ cells: ['cm', '1m'] }],
    },
  ];
  expect(await api().table(resourcePath('v1', 'configmaps'))).toEqual({
    columns: ['Name', 'Age'],
    rows: [['cm', '1m']],
  });
  expect(seen[0]!.headers.accept).toBe('application/json;as=Table;v=v1;g=meta.k8s.io');
});

test('raw passes status codes and extra headers through', async () => {
  answer = () => [418, 'teapot'];
  const res = await api().raw('POST', '/x', '{}', { 'Content-Type': 'application/json', 'X-Extra': '1' });
  expect(res).toEqual({ status: 418, body: 'teapot' });
  expect(seen[0]!.headers['x-extra']).toBe('1');
  expect(seen[0]!.headers['content-length']).toBe('2');
});

test('a request without an answer fails after the timeout', async () => {
  answer = () => undefined;
  const started = Date.now();
  await expect(api(300).raw('GET', '/slow')).rejects.toThrow('GET /slow: no answer in 300 ms');
  expect(Date.now() - started).toBeLessThan(10_000);
});
