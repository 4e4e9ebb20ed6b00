// The attack suite: forged, stale and misdirected tokens, path tricks and odd methods,
// all sent to the compiled exporter over loopback.
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request, startExporter, type RunningExporter } from './exporter-process';
import { documentFiles, multiclusterFiles, testCluster, writeKubernetesSecretDir } from './fixtures';
import { eddsaToken, hmacWithPublicKeyToken, referenceClaims, unsignedToken, type Claims } from './tokens';

const PRIVATE = '/metadata/private/federation.json';
/** Both private documents are served; the battery runs against each with its own scope. */
const PRIVATE_DOCUMENTS = [
  { path: PRIVATE, scope: 'private-federation', otherScope: 'private-multicluster' },
  {
    path: '/metadata/private/multicluster.json',
    scope: 'private-multicluster',
    otherScope: 'private-federation',
  },
];

const local = testCluster('cluster-local.test');
const peer = testCluster('cluster-a.local');
const otherPeer = testCluster('cluster-b.local');
const stranger = testCluster('cluster-x.local');

let dir: string;
let exporter: RunningExporter;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'exporter-attacks-'));
  const federation = {
    ingressGateways: [{ address: '192.0.2.10', port: 15443 }],
    publicServices: [{ hostname: 'foo.ns.svc.cluster-local.test', ports: [{ name: 'http', port: 8080 }] }],
  };
  // The same peers in both allow-lists: the relationship checks are in relationships.test.ts.
  writeKubernetesSecretDir(dir, {
    ...documentFiles(local, federation, [peer, otherPeer]),
    ...multiclusterFiles(
      {
        ingressGateways: federation.ingressGateways,
        apiHost: 'istio-api-proxy.example.com',
        networkName: 'network-a',
      },
      [peer, otherPeer],
    ),
  });
  exporter = await startExporter(dir, ['--private-documents', 'federation,multicluster']);
  await exporter.waitForLog((r) => r.msg === 'documents loaded');
});

afterAll(async () => {
  await exporter?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const now = () => Math.floor(Date.now() / 1000);
const validClaims = (): Claims => referenceClaims(local.clusterUUID, peer.clusterUUID);
const signedByPeer = (claims: Claims) => eddsaToken(peer.keypair.priv, claims);

/** Problems of the header itself: returned as they are (they tell nothing about peers). */
const HEADER_REASONS = new Set(['missing authorization header', 'malformed authorization header']);

async function authFailures(reason: string): Promise<number> {
  const metrics = (await request(exporter.port, '/metrics')).body;
  const match = new RegExp(
    `d8_istio_metadata_exporter_auth_failures_total\\{reason="${reason}"\\} (\\d+)`,
  ).exec(metrics);
  return match ? Number(match[1]) : 0;
}

/**
 * 401 with one generic body for every token problem; the detailed `reason` is what the
 * auth-failure metric counts (tests in this file run one after another).
 */
async function expectRefused(
  authorization: string | undefined,
  reason: string,
  path = PRIVATE,
): Promise<void> {
  const before = await authFailures(reason);
  const res = await request(exporter.port, path, {
    headers: authorization === undefined ? {} : { Authorization: authorization },
  });
  expect(res.status).toBe(401);
  expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
  expect(JSON.parse(res.body)).toStrictEqual({
    error: HEADER_REASONS.has(reason) ? reason : 'invalid token',
  });
  expect(await authFailures(reason)).toBe(before + 1);
}

describe('clock skew with Deckhouse peers (issue 10 item 11)', () => {
  // The reference exporter ignores nbf; a peer whose clock runs ahead signs nbf in our future.
  const ahead = (seconds: number, lifetime = 60): Claims => ({
    ...validClaims(),
    nbf: now() + seconds,
    exp: now() + seconds + lifetime,
  });
  const status = async (claims: Claims) =>
    (await request(exporter.port, PRIVATE, { headers: { Authorization: `Bearer ${signedByPeer(claims)}` } }))
      .status;

  test('a reference token from a peer 30 s ahead is served', async () => {
    expect(await status(ahead(30))).toBe(200);
  });

  test('a reference token from a peer 50 s ahead is served', async () => {
    expect(await status(ahead(50))).toBe(200);
  });

  test('a peer further ahead than the token lives is refused (nbf)', () =>
    expectRefused(`Bearer ${signedByPeer(ahead(90))}`, 'invalid claim nbf'));

  test('skew does not stretch the 300 s cap: 100 s ahead with a 250 s token is refused', () =>
    expectRefused(`Bearer ${signedByPeer(ahead(100, 250))}`, 'token lifetime too long'));

  test('a peer whose clock runs behind is not helped: its expired token stays refused', () =>
    expectRefused(
      `Bearer ${signedByPeer({ ...validClaims(), nbf: now() - 90, exp: now() - 30 })}`,
      'token expired',
    ));
});

describe.each(PRIVATE_DOCUMENTS)('$path refuses', ({ path, scope, otherScope }) => {
  // The same battery for each private document, with a token of its own scope.
  const validClaims = (): Claims => referenceClaims(local.clusterUUID, peer.clusterUUID, now(), scope);
  const refused = (authorization: string | undefined, reason: string) =>
    expectRefused(authorization, reason, path);

  test('a request without Authorization', () => refused(undefined, 'missing authorization header'));

  test.each([
    ['another scheme', 'Basic dXNlcjpwYXNz'],
    ['Bearer without a token', 'Bearer '],
    ['two tokens', 'Bearer a.b.c d.e.f'],
    ['characters outside base64url', 'Bearer a.b.c<script>'],
  ])('a malformed header: %s', (_name, header) => refused(header, 'malformed authorization header'));

  test('a token that is not a JWT', () => refused('Bearer not-a-jwt', 'malformed token'));

  test('alg: none', () => refused(`Bearer ${unsignedToken(validClaims())}`, 'algorithm not allowed'));

  test('HS256 signed with the peer public key as the HMAC secret', () =>
    refused(`Bearer ${hmacWithPublicKeyToken(peer.keypair.pub, validClaims())}`, 'algorithm not allowed'));

  test('a signature by another key (a known peer impersonating another)', () =>
    refused(`Bearer ${eddsaToken(otherPeer.keypair.priv, validClaims())}`, 'bad signature'));

  test('a tampered payload', () => {
    const [header, , signature] = signedByPeer(validClaims()).split('.');
    const payload = Buffer.from(JSON.stringify({ ...validClaims(), scope: 'admin' })).toString('base64url');
    return refused(`Bearer ${header}.${payload}.${signature}`, 'bad signature');
  });

  test('an expired token', () =>
    refused(
      `Bearer ${signedByPeer({ ...validClaims(), nbf: now() - 600, exp: now() - 300 })}`,
      'token expired',
    ));

  test('a token without exp', () => {
    const { exp: _exp, ...claims } = validClaims();
    return refused(`Bearer ${signedByPeer(claims)}`, 'invalid claim exp');
  });

  test('a token not valid yet (nbf in the future)', () =>
    refused(
      `Bearer ${signedByPeer({ ...validClaims(), nbf: now() + 600, exp: now() + 660 })}`,
      'invalid claim nbf',
    ));

  test('a token for another cluster (wrong audience)', () =>
    refused(`Bearer ${signedByPeer({ ...validClaims(), aud: otherPeer.clusterUUID })}`, 'invalid claim aud'));

  test.each([
    ['another scope', 'public-federation'],
    ['the other private document', otherScope],
    ['no scope', undefined],
    ['scope as a list', [scope]],
  ])('a token for another route: %s', (_name, scope) =>
    refused(`Bearer ${signedByPeer({ ...validClaims(), scope })}`, 'wrong scope'),
  );

  test('an unknown subject, validly signed by its own key', () =>
    refused(
      `Bearer ${eddsaToken(stranger.keypair.priv, referenceClaims(local.clusterUUID, stranger.clusterUUID, now(), scope))}`,
      'unknown subject',
    ));

  test('our own cluster as the subject', () =>
    refused(
      `Bearer ${eddsaToken(local.keypair.priv, referenceClaims(local.clusterUUID, local.clusterUUID, now(), scope))}`,
      'unknown subject',
    ));

  test('a validly signed token that lives far longer than a peer token (exp - now > 300 s)', () =>
    refused(`Bearer ${signedByPeer({ ...validClaims(), exp: now() + 3600 })}`, 'token lifetime too long'));

  test('an unsigned token answers the same whether its subject is a peer or not', async () => {
    const probe = async (subject: string) => {
      const token = unsignedToken(referenceClaims(local.clusterUUID, subject, now(), scope));
      const res = await request(exporter.port, path, { headers: { Authorization: `Bearer ${token}` } });
      return { status: res.status, body: res.body, authenticate: res.headers['www-authenticate'] };
    };
    const asPeer = await probe(peer.clusterUUID);
    expect(asPeer.status).toBe(401);
    expect(await probe(stranger.clusterUUID)).toStrictEqual(asPeer);
  });

  test('an oversized token', () =>
    refused(`Bearer ${signedByPeer({ ...validClaims(), pad: 'x'.repeat(6000) })}`, 'token too large'));

  test('refusals are counted by reason, and the tokens never reach the logs', async () => {
    const token = eddsaToken(otherPeer.keypair.priv, validClaims());
    await refused(`Bearer ${token}`, 'bad signature');
    const metrics = (await request(exporter.port, '/metrics')).body;
    expect(metrics).toMatch(
      /d8_istio_metadata_exporter_auth_failures_total\{reason="bad signature"\} ([2-9]|[1-9]\d+)\n/,
    );
    expect(metrics).toMatch(
      /d8_istio_metadata_exporter_auth_failures_total\{reason="algorithm not allowed"\} ([2-9]|[1-9]\d+)\n/,
    );
    expect(exporter.rawOutput).toContain('"reason":"bad signature"');
    expect(exporter.rawOutput).not.toContain(token.split('.')[2]);
    expect(exporter.rawOutput).not.toContain(token.split('.')[1]);
  });

  test('yet a peer clock a few seconds ahead (nbf just in the future) is tolerated', async () => {
    const ahead = now() + 3;
    const res = await request(exporter.port, path, {
      headers: { Authorization: `Bearer ${signedByPeer({ ...validClaims(), nbf: ahead, exp: ahead + 60 })}` },
    });
    expect(res.status).toBe(200);
  });

  test('yet a token living up to 300 s is accepted', async () => {
    const res = await request(exporter.port, path, {
      headers: { Authorization: `Bearer ${signedByPeer({ ...validClaims(), exp: now() + 290 })}` },
    });
    expect(res.status).toBe(200);
  });

  test('yet the same request with a valid token is served', async () => {
    const res = await request(exporter.port, path, {
      headers: { Authorization: `Bearer ${signedByPeer(validClaims())}` },
    });
    expect(res.status).toBe(200);
  });
});

describe('path tricks never reach a document', () => {
  test.each([
    '/metadata/../metadata/private/federation.json',
    '/metadata/public/../private/federation.json',
    '/metadata/public/%2e%2e/private/federation.json',
    '/metadata/public/%2E%2E/%2E%2E/metadata/public/public.json',
    '/metadata//public/public.json',
    '//metadata/public/public.json',
    '/metadata/public%2fpublic.json',
    '/metadata%2Fprivate%2Ffederation.json',
    '/metadata/public/public.json/',
    '/metadata/public/public.json%00',
    '/metadata/public/./public.json',
    '/metadata/private/federation.json;.css',
    '/metadata/public/..%2f..%2fetc%2fpasswd',
    '/metadata/public/../private/multicluster.json',
    '/metadata/private/multicluster.json/',
    '/metadata/private/Multicluster.json',
    '/metadata/private/multicluster.json;.css',
    '/metadata/private%2Fmulticluster.json',
  ])('%s is 404', async (path) => {
    const res = await request(exporter.port, path);
    expect(res.status).toBe(404);
    expect(res.body).toBe('{"error":"not found"}');
  });

  test('a query string does not change the route', async () => {
    expect((await request(exporter.port, '/metadata/public/public.json?x=../private')).status).toBe(200);
  });

  test('an absolute-form request target is 404', async () => {
    const response = await new Promise<string>((resolve, reject) => {
      const socket = connect(exporter.port, '127.0.0.1', () =>
        socket.write(
          `GET http://127.0.0.1:${exporter.port}/metadata/public/public.json HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
        ),
      );
      let data = '';
      socket.on('data', (chunk) => (data += chunk.toString()));
      socket.on('end', () => resolve(data));
      socket.on('error', reject);
    });
    expect(response).toMatch(/^HTTP\/1\.1 404 /);
  });
});

describe('methods other than GET and HEAD', () => {
  test.each(
    ['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'TRACE'].flatMap((method) =>
      PRIVATE_DOCUMENTS.map(({ path, scope }) => [method, path, scope]),
    ),
  )('%s on %s is 405', async (method, path, scope) => {
    const claims = referenceClaims(local.clusterUUID, peer.clusterUUID, now(), scope);
    const res = await request(exporter.port, path!, {
      method,
      headers: { Authorization: `Bearer ${signedByPeer(claims)}` },
    });
    expect(res.status).toBe(405);
    expect(res.headers.allow).toBe('GET, HEAD');
    expect(res.body).not.toContain('ingressGateways');
  });

  test('a POST with a body is answered and the connection closed', async () => {
    const response = await new Promise<string>((resolve, reject) => {
      const socket = connect(exporter.port, '127.0.0.1', () =>
        socket.write(
          'POST /metadata/public/public.json HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\nabc',
        ),
      );
      let data = '';
      socket.on('data', (chunk) => (data += chunk.toString()));
      socket.on('close', () => resolve(data));
      socket.on('error', reject);
    });
    expect(response).toMatch(/^HTTP\/1\.1 405 /);
    expect(response.toLowerCase()).toContain('connection: close');
  });
});
