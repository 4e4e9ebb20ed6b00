// Routes of the compiled exporter over real loopback HTTP(S), including the private
// document's export scoping with tokens built the way the reference builds them.
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import forge from 'node-forge';
import { signPeerToken } from '../../lib/federation/identity/jwt';
import { request, startExporter, type RunningExporter } from './exporter-process';
import {
  EC_ROOT_CA,
  documentFiles,
  selfSignedRsa,
  testCluster,
  writeKubernetesSecretDir,
  type FederationInput,
} from './fixtures';
import { eddsaToken, referenceClaims } from './tokens';

const PUBLIC = '/metadata/public/public.json';
const SPIFFE = '/metadata/public/spiffe-bundle-endpoint';
const PRIVATE = '/metadata/private/federation.json';

const rsaRoot = selfSignedRsa('Test RSA Root CA', 'ca');
const local = testCluster('cluster-local.test', rsaRoot.certPem + EC_ROOT_CA);
const peerA = testCluster('cluster-a.local');
const peerB = testCluster('cluster-b.local');
const federation: FederationInput = {
  ingressGateways: [{ address: '192.0.2.10', port: 15443 }],
  publicServices: [
    { hostname: 'foo.ns.svc.cluster-local.test', ports: [{ name: 'http', port: 8080, protocol: 'HTTP' }] },
    {
      hostname: 'bar.ns.svc.cluster-local.test',
      ports: [{ name: 'grpc-api', port: 9090 }],
      allowedTrustDomains: ['cluster-a.local'],
    },
  ],
};

let dir: string;
let exporter: RunningExporter;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'exporter-routes-'));
  writeKubernetesSecretDir(join(dir, 'documents'), documentFiles(local, federation, [peerA, peerB]));
  exporter = await startExporter(join(dir, 'documents'));
  await exporter.waitForLog((r) => r.msg === 'documents loaded');
});

afterAll(async () => {
  await exporter?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });
const referenceToken = (peer: typeof peerA) =>
  eddsaToken(peer.keypair.priv, referenceClaims(local.clusterUUID, peer.clusterUUID));

describe('public routes', () => {
  test('public.json is exactly {clusterUUID, authnKeyPub, rootCA}', async () => {
    const res = await request(exporter.port, PUBLIC);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/json');
    expect(JSON.parse(res.body)).toStrictEqual({
      clusterUUID: local.clusterUUID,
      authnKeyPub: local.keypair.pub,
      rootCA: local.rootCA,
    });
  });

  test('HEAD answers the headers of GET without a body', async () => {
    const get = await request(exporter.port, PUBLIC);
    const head = await request(exporter.port, PUBLIC, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.body).toBe('');
    expect(head.headers['content-length']).toBe(String(Buffer.byteLength(get.body)));
    expect(head.headers.etag).toBe(get.headers.etag);
  });

  test('a matching If-None-Match gets 304', async () => {
    const first = await request(exporter.port, PUBLIC);
    const again = await request(exporter.port, PUBLIC, { headers: { 'If-None-Match': first.headers.etag! } });
    expect(again.status).toBe(304);
    expect(again.body).toBe('');
  });

  test('the SPIFFE bundle holds every root certificate as an x509-svid key', async () => {
    const res = await request(exporter.port, SPIFFE);
    expect(res.status).toBe(200);
    const bundle = JSON.parse(res.body) as { keys: Record<string, unknown>[] } & Record<string, unknown>;
    // the reference's values
    expect(bundle.spiffe_sequence).toBe(1);
    expect(bundle.spiffe_refresh_hint).toBe(2419200);
    expect(bundle.keys).toHaveLength(2);

    const rsaCert = forge.pki.certificateFromPem(rsaRoot.certPem);
    const rsaPublic = rsaCert.publicKey as forge.pki.rsa.PublicKey;
    const unsignedBytes = (n: forge.jsbn.BigInteger) => {
      const hex = n.toString(16);
      return Buffer.from(hex.length % 2 ? '0' + hex : hex, 'hex').toString('base64url');
    };
    const rsaDer = Buffer.from(forge.asn1.toDer(forge.pki.certificateToAsn1(rsaCert)).getBytes(), 'binary');
    expect(bundle.keys[0]).toStrictEqual({
      kty: 'RSA',
      use: 'x509-svid',
      n: unsignedBytes(rsaPublic.n),
      e: unsignedBytes(rsaPublic.e),
      x5c: [rsaDer.toString('base64')],
    });

    const ec = new X509Certificate(EC_ROOT_CA);
    const ecJwk = ec.publicKey.export({ format: 'jwk' });
    expect(bundle.keys[1]).toStrictEqual({
      kty: 'EC',
      use: 'x509-svid',
      crv: 'P-256',
      x: ecJwk.x,
      y: ecJwk.y,
      x5c: [ec.raw.toString('base64')],
    });
  });

  test('healthz is 200 while a valid set is loaded', async () => {
    expect((await request(exporter.port, '/healthz')).status).toBe(200);
  });
});

describe('private document', () => {
  test('a token built the way the reference builds it is accepted; scoping admits peer A', async () => {
    const res = await request(exporter.port, PRIVATE, { headers: bearer(referenceToken(peerA)) });
    expect(res.status).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(JSON.parse(res.body)).toStrictEqual({
      ingressGateways: [{ address: '192.0.2.10', port: 15443 }],
      publicServices: [
        { hostname: 'foo.ns.svc.cluster-local.test', ports: [{ name: 'http', port: 8080 }] },
        { hostname: 'bar.ns.svc.cluster-local.test', ports: [{ name: 'grpc-api', port: 9090 }] },
      ],
    });
  });

  test('a peer outside allowedTrustDomains does not see the restricted service', async () => {
    const res = await request(exporter.port, PRIVATE, { headers: bearer(referenceToken(peerB)) });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toStrictEqual({
      ingressGateways: [{ address: '192.0.2.10', port: 15443 }],
      publicServices: [{ hostname: 'foo.ns.svc.cluster-local.test', ports: [{ name: 'http', port: 8080 }] }],
    });
  });

  test("a token from this module's own signer is accepted", async () => {
    const token = await signPeerToken({
      privateKeyPem: peerB.keypair.priv,
      audience: local.clusterUUID,
      subject: peerB.clusterUUID,
    });
    expect((await request(exporter.port, PRIVATE, { headers: bearer(token) })).status).toBe(200);
  });

  test('the Authorization scheme is case-insensitive', async () => {
    const res = await request(exporter.port, PRIVATE, {
      headers: { Authorization: `bearer ${referenceToken(peerA)}` },
    });
    expect(res.status).toBe(200);
  });
});

describe('everything else', () => {
  test.each([
    '/',
    '/metadata',
    '/metadata/',
    '/metadata/public/',
    '/metadata/public/PUBLIC.JSON',
    '/metadata/private/',
    // Served only with --private-documents multicluster (tests/exporter/relationships.test.ts).
    '/metadata/private/multicluster.json',
  ])('%s is 404', async (path) => {
    const res = await request(exporter.port, path);
    expect(res.status).toBe(404);
    expect(JSON.parse(res.body)).toStrictEqual({ error: 'not found' });
  });

  test.each(['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'])(
    '%s on a route is 405 with Allow',
    async (method) => {
      const res = await request(exporter.port, PUBLIC, { method });
      expect(res.status).toBe(405);
      expect(res.headers.allow).toBe('GET, HEAD');
    },
  );

  test('metrics count requests by route and code, and reloads', async () => {
    await request(exporter.port, '/nowhere');
    const res = await request(exporter.port, '/metrics');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    expect(res.body).toMatch(/d8_istio_metadata_exporter_requests_total\{route="public",code="200"\} [1-9]/);
    expect(res.body).toMatch(/d8_istio_metadata_exporter_requests_total\{route="unknown",code="404"\} [1-9]/);
    expect(res.body).toMatch(/d8_istio_metadata_exporter_document_reloads_total\{result="success"\} 1\b/);
    expect(res.body).toMatch(/d8_istio_metadata_exporter_document_last_reload_timestamp_seconds [1-9]/);
    expect(res.body).toMatch(/^process_resident_memory_bytes [1-9]/m);
  });

  test('logs are JSON lines and carry no key material', () => {
    for (const record of exporter.logs) expect(record.level).toMatch(/^(info|warn|error)$/);
    expect(exporter.rawOutput).not.toContain('PRIVATE KEY');
    expect(exporter.rawOutput).not.toContain(local.keypair.pub.split('\n')[1]);
    expect(exporter.rawOutput).not.toContain('BEGIN CERTIFICATE');
  });
});

describe('HTTPS', () => {
  test('--tls-cert/--tls-key serve the same documents over TLS', async () => {
    const serving = selfSignedRsa('127.0.0.1', 'server');
    writeFileSync(join(dir, 'tls.crt'), serving.certPem);
    writeFileSync(join(dir, 'tls.key'), serving.keyPem);
    const tls = await startExporter(join(dir, 'documents'), [
      '--tls-cert',
      join(dir, 'tls.crt'),
      '--tls-key',
      join(dir, 'tls.key'),
    ]);
    try {
      expect(tls.logs[0]).toMatchObject({ msg: 'listening', tls: true });
      const res = await request(tls.port, PUBLIC, { ca: serving.certPem });
      expect(res.status).toBe(200);
      expect(JSON.parse(res.body)).toMatchObject({ clusterUUID: local.clusterUUID });
      const priv = await request(tls.port, PRIVATE, {
        ca: serving.certPem,
        headers: bearer(referenceToken(peerA)),
      });
      expect(priv.status).toBe(200);
      await expect(request(tls.port, PUBLIC)).rejects.toThrow();
    } finally {
      await tls.stop();
    }
  });
});
