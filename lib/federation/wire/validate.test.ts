import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import { makeCertificate } from '../../../tests/fetch/certs';
import { deckhouseKeypair } from '../../../tests/fetch/peer';
import { toPem } from '../../pki/ca-certificates';
import { testPublicDocument } from '../../../tests/support/peer-identity';
import { decideImports } from '../import/verdict';
import {
  checkPrivateDocument,
  checkPublicDocument,
  hostnameScopeChecker,
  type HostnameScope,
  parseJsonBody,
} from './validate';

const hostnameProblem = (hostname: string, scope: HostnameScope) => hostnameScopeChecker(scope)(hostname);

const NOW = new Date('2026-11-21T06:00:00Z');
const scope = { peerTrustDomain: 'cluster-b.local', ownTrustDomain: 'cluster-a.local' };
// Explicit validity: the default (real time minus one hour) would pass NOW by and fail these tests after 07:00.
const rootCA = makeCertificate({
  commonName: 'root',
  isCA: true,
  notBefore: new Date('2026-01-01T00:00:00Z'),
  notAfter: new Date('2030-01-01T00:00:00Z'),
});
const keypair = deckhouseKeypair();

describe('checkPublicDocument', () => {
  const good = { clusterUUID: 'b-uuid', authnKeyPub: keypair.pub, rootCA: rootCA.certPem };

  it('accepts a Deckhouse public document and keeps only the known keys', () => {
    // rootCA comes back re-encoded (forge writes CRLF; we write LF from the DER).
    expect(checkPublicDocument({ ...good, extra: 'x' }, NOW)).toEqual({
      ok: true,
      value: { ...good, rootCA: toPem(new X509Certificate(rootCA.certPem).raw) },
    });
  });

  it.each([
    ['missing keys', { clusterUUID: 'b-uuid' }, /authnKeyPub|rootCA/],
    ['wrong shape', ['not', 'an', 'object'], /must be object/],
    ['garbage key', { ...good, authnKeyPub: 'hello' }, /authnKeyPub is unusable/],
    ['RSA key instead of Ed25519', { ...good, authnKeyPub: rsaPublicPem() }, /authnKeyPub is unusable/],
    [
      'garbage root CA',
      { ...good, rootCA: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n' },
      /does not parse/,
    ],
    ['no PEM at all', { ...good, rootCA: 'not a certificate' }, /no usable CA certificate.*no PEM block/],
  ])('rejects %s', (_name, doc, error) => {
    const result = checkPublicDocument(doc, NOW);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error).toMatch(error);
  });
});

describe('hostnameProblem', () => {
  it.each([
    ['bar.xyz.svc.cluster-b.local', undefined],
    ['bar.xyz.svc.cluster-c.local', /outside \*\.svc\.cluster-b\.local/],
    ['bar.xyz.svc.cluster-a.local', /inside our own domain/],
    ['xyz.svc.cluster-b.local', /not <service>\.<namespace>/],
    ['a.bar.xyz.svc.cluster-b.local', /not <service>\.<namespace>/],
  ])('%s', (hostname, problem) => {
    const result = hostnameProblem(hostname, scope);
    if (problem) expect(result).toMatch(problem);
    else expect(result).toBeUndefined();
  });

  it('refuses names inside our domain even when the peer domain is a subdomain of ours', () => {
    expect(
      hostnameProblem('a.b.svc.evil.cluster-a.local', {
        peerTrustDomain: 'evil.cluster-a.local',
        ownTrustDomain: 'cluster-a.local',
      }),
    ).toMatch(/inside our own domain/);
  });
});

describe('checkPrivateDocument', () => {
  const gateway = { address: '192.0.2.10', port: 15443 };
  const service = (hostname: string, ports: unknown) => ({ hostname, ports });

  it('treats null and absent lists as empty (Go nil slices)', () => {
    expect(checkPrivateDocument({ ingressGateways: null, publicServices: null }, scope)).toEqual({
      ok: true,
      value: { document: { ingressGateways: [], publicServices: [] }, rejected: [] },
    });
    expect(checkPrivateDocument({}, scope)).toMatchObject({ ok: true, value: { rejected: [] } });
  });

  it('rejects a document of the wrong shape as a whole', () => {
    expect(checkPrivateDocument({ publicServices: 'x' }, scope)).toMatchObject({ ok: false });
    expect(checkPrivateDocument('just a string', scope)).toMatchObject({ ok: false });
  });

  it('enriches ports with a protocol and keeps valid items next to rejected ones', () => {
    const result = checkPrivateDocument(
      {
        ingressGateways: [
          gateway,
          gateway,
          { address: 'bad address!', port: 1 },
          { address: '192.0.2.11', port: 70000 },
        ],
        publicServices: [
          service('bar.xyz.svc.cluster-b.local', [
            { name: 'http-api', port: 8080 },
            { name: 'grpc', port: 9090 },
            { port: 7000 },
          ]),
          service('foo.xyz.svc.cluster-c.local', [{ name: 'http', port: 80 }]),
          service('own.xyz.svc.cluster-a.local', [{ name: 'http', port: 80 }]),
          service('hi.xyz.svc.cluster-b.local', [{ name: 'http', port: 0 }]),
          service('big.xyz.svc.cluster-b.local', [{ name: 'http', port: 65536 }]),
          service('dup.xyz.svc.cluster-b.local', [
            { name: 'http', port: 80 },
            { name: 'http-2', port: 80 },
          ]),
          service('bar.xyz.svc.cluster-b.local', [{ name: 'tcp', port: 1 }]),
          service('names.xyz.svc.cluster-b.local', [
            { name: 'http', port: 80 },
            { name: 'http', port: 81 },
          ]),
          service('none.xyz.svc.cluster-b.local', null),
          { hostname: 'noports.xyz.svc.cluster-b.local' },
        ],
      },
      scope,
    );
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.value.document).toEqual({
      ingressGateways: [gateway],
      publicServices: [
        {
          hostname: 'bar.xyz.svc.cluster-b.local',
          ports: [
            { name: 'http-api', port: 8080, protocol: 'HTTP' },
            { name: 'grpc', port: 9090, protocol: 'HTTP2' },
            { name: '', port: 7000, protocol: 'TCP' },
          ],
        },
      ],
    });
    expect(result.value.rejected).toEqual([
      expect.stringMatching(/^ingressGateways\[2\]: .*address/),
      expect.stringMatching(/^ingressGateways\[3\]: .*port/),
      'publicServices[1] foo.xyz.svc.cluster-c.local: hostname outside *.svc.cluster-b.local',
      'publicServices[2] own.xyz.svc.cluster-a.local: hostname inside our own domain cluster-a.local',
      expect.stringMatching(
        /^publicServices\[3\] hi\.xyz\.svc\.cluster-b\.local: .*ports\/0\/port must be >= 1/,
      ),
      expect.stringMatching(
        /^publicServices\[4\] big\.xyz\.svc\.cluster-b\.local: .*ports\/0\/port must be <= 65535/,
      ),
      'publicServices[5] dup.xyz.svc.cluster-b.local: duplicate port 80',
      'publicServices[6] bar.xyz.svc.cluster-b.local: duplicate hostname',
      'publicServices[7] names.xyz.svc.cluster-b.local: duplicate port name http',
      'publicServices[8] none.xyz.svc.cluster-b.local: no ports',
      expect.stringMatching(/^publicServices\[9\] noports\.xyz\.svc\.cluster-b\.local: .*ports/),
    ]);
  });

  it('caps the list of rejected items', () => {
    const many = Array.from({ length: 80 }, (_, i) =>
      service(`s${i}.x.svc.elsewhere`, [{ name: 'http', port: 80 }]),
    );
    const result = checkPrivateDocument({ publicServices: many }, scope);
    expect(result.ok && result.value.rejected.length).toBe(51);
    expect(result.ok && result.value.rejected.at(-1)).toBe('... and 30 more');
  });
});

describe('parseJsonBody', () => {
  it('rejects non-JSON', () => {
    expect(parseJsonBody(Buffer.from('<html>oops</html>'))).toMatchObject({
      ok: false,
      error: expect.stringMatching(/^not JSON/),
    });
  });
  it.each([
    ['a service-account token', 'eyJhbGciOiJSUzI1NiIsImtpZCI6InNlY3JldCJ9.payload.sig'],
    ['a key=value file', 'password=hunter2\n'],
    ['broken JSON', '{"secret":"hunter2",}'],
  ])('never quotes the body in the error (%s)', (_, text) => {
    const result = parseJsonBody(Buffer.from(text));
    expect(result).toMatchObject({ ok: false, error: expect.stringMatching(/^not JSON: the \d+-byte body/) });
    const error = result.ok ? '' : result.error;
    for (const fragment of ['eyJ', 'hunter2', 'password', 'secret']) expect(error).not.toContain(fragment);
  });

  it('keeps the offset of the syntax error when the parser gives one (V8 does; Bun does not)', () => {
    expect(parseJsonBody(Buffer.from('{"a":1,}'))).toEqual({
      ok: false,
      error: 'not JSON: the 8-byte body does not parse (syntax error at character 7)',
    });
  });

  it('parses Go-style escaped JSON', () => {
    expect(parseJsonBody(Buffer.from('{"a":"\\u003cb\\u003e"}\n'))).toEqual({
      ok: true,
      value: { a: '<b>' },
    });
  });
});

function rsaPublicPem(): string {
  return generateKeyPairSync('rsa', { modulusLength: 1024 })
    .publicKey.export({ type: 'spki', format: 'pem' })
    .toString();
}

describe('unnamed remote ports (issue 10 item 14)', () => {
  const importOne = (doc: unknown) => {
    const result = checkPrivateDocument(doc, scope);
    if (!result.ok) throw new Error(result.error);
    const verdict = decideImports(
      [
        {
          name: 'b',
          trustDomain: 'cluster-b.local',
          public: testPublicDocument('uuid-b'),
          private: result.value.document,
        },
      ],
      { trustDomain: 'cluster-a.local', now: new Date() },
    );
    return {
      status: result.value.document.publicServices,
      rendered: verdict.serviceEntries.flatMap((e) => e.ports),
    };
  };

  it('keep what the peer sent in status; names are generated only for rendered objects', () => {
    const { status, rendered } = importOne({
      ingressGateways: [{ address: '192.0.2.1', port: 15443 }],
      publicServices: [
        {
          hostname: 'web.xyz.svc.cluster-b.local',
          ports: [{ port: 80, protocol: 'HTTP' }, { port: 5432 }, { name: '', port: 6379 }],
        },
      ],
    });
    expect(status).toEqual([
      {
        hostname: 'web.xyz.svc.cluster-b.local',
        ports: [
          { name: '', port: 80, protocol: 'HTTP' },
          { name: '', port: 5432, protocol: 'TCP' },
          { name: '', port: 6379, protocol: 'TCP' },
        ],
      },
    ]);
    expect(rendered).toEqual([
      { number: 80, name: 'http-80', protocol: 'HTTP' },
      { number: 5432, name: 'tcp-5432', protocol: 'TCP' },
      { number: 6379, name: 'tcp-6379', protocol: 'TCP' },
    ]);
  });

  it('a generated name never takes a name that a later port of the service states explicitly', () => {
    const { status, rendered } = importOne({
      ingressGateways: [{ address: '192.0.2.1', port: 15443 }],
      publicServices: [
        {
          hostname: 'web.xyz.svc.cluster-b.local',
          ports: [{ port: 80 }, { name: 'tcp-80', port: 81 }, { port: 82 }, { name: 'tcp-82', port: 83 }],
        },
      ],
    });
    expect(status[0]?.ports.map((p) => p.name)).toEqual(['', 'tcp-80', '', 'tcp-82']);
    expect(rendered.map((p) => [p.number, p.name])).toEqual([
      [80, 'tcp-80-2'],
      [81, 'tcp-80'],
      [82, 'tcp-82-2'],
      [83, 'tcp-82'],
    ]);
  });

  it('still reject two explicit ports with the same name', () => {
    const result = checkPrivateDocument(
      {
        publicServices: [
          {
            hostname: 'web.xyz.svc.cluster-b.local',
            ports: [
              { name: 'tcp-80', port: 80 },
              { name: 'tcp-80', port: 81 },
            ],
          },
        ],
      },
      scope,
    );
    expect(result.ok && result.value.rejected).toEqual([
      'publicServices[0] web.xyz.svc.cluster-b.local: duplicate port name tcp-80',
    ]);
  });
});

describe('remote port names Istio would refuse', () => {
  it.each(['grpc_api', 'http.v1', '-http', 'x'.repeat(63)])('reject the service publishing %p', (name) => {
    const result = checkPrivateDocument(
      { publicServices: [{ hostname: 'web.xyz.svc.cluster-b.local', ports: [{ name, port: 80 }] }] },
      { peerTrustDomain: 'cluster-b.local', ownTrustDomain: 'cluster-a.local' },
    );
    expect(result.ok && result.value.document.publicServices).toEqual([]);
    expect(result.ok && result.value.rejected).toEqual([
      expect.stringMatching(/^publicServices\[0\] web\.xyz\.svc\.cluster-b\.local: .*ports\/0\/name/),
    ]);
  });
});

test.each([
  ['a.ns.svc.b.local', 'b.local', undefined],
  ['a.ns.svc.B.local', 'b.local', undefined],
  ['a.ns.svc.b.local.evil', 'b.local', 'outside'],
  ['svc.b.local', 'b.local', 'outside'],
  ['.svc.b.local', 'b.local', 'not <service>.<namespace>'],
  ['a.ns.svc.c.local', 'b.local', 'outside'],
  ['a.ns.svc.cluster-a.local', 'b.local', 'inside our own domain'],
  ['a.ns.svc.cluster.local', 'b.local', 'inside our own domain cluster.local'],
  // A peer whose domain sits inside ours still cannot publish into it.
  ['a.ns.svc.x.svc.cluster-a.local', 'x.svc.cluster-a.local', 'inside our own domain'],
])('hostnameProblem(%p, peer %p)', (hostname, peer, expected) => {
  const violation = hostnameProblem(hostname, { peerTrustDomain: peer, ownTrustDomain: 'cluster-a.local' });
  if (expected === undefined) expect(violation).toBeUndefined();
  else expect(violation).toContain(expected);
});

describe('gateway addresses (issue 10 item 3): parsed, canonicalised, local spellings refused', () => {
  it('keeps canonical forms and refuses every spelling of loopback, metadata and our own domain', () => {
    const addresses = [
      '2001:0DB8:0000:0000:0000:0000:0000:0001',
      'gw.example.com',
      '10.1.2.3',
      '2130706433',
      '0177.0.0.1',
      '0x7f.1',
      '127.1',
      '::ffff:7f00:1',
      '0:0:0:0:0:0:0:1',
      '169.254.169.254',
      'fd00:ec2::254',
      'metadata.google.internal',
      'foo.localhost',
      'ingressgateway.d8-istio.svc.cluster-a.local',
    ];
    const result = checkPrivateDocument(
      { ingressGateways: addresses.map((address) => ({ address, port: 15443 })) },
      scope,
    );
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.value.document.ingressGateways).toEqual([
      { address: '2001:db8::1', port: 15443 },
      { address: 'gw.example.com', port: 15443 },
      { address: '10.1.2.3', port: 15443 },
    ]);
    expect(result.value.rejected).toHaveLength(addresses.length - 3);
    expect(result.value.rejected[0]).toMatch(/^ingressGateways\[3\]: .*127\.0\.0\.1/);
  });

  it('two spellings of one gateway are one gateway', () => {
    const result = checkPrivateDocument(
      {
        ingressGateways: [
          { address: '2001:db8::1', port: 15443 },
          { address: '2001:DB8:0::0:1', port: 15443 },
        ],
      },
      scope,
    );
    expect(result.ok && result.value.document.ingressGateways).toEqual([
      { address: '2001:db8::1', port: 15443 },
    ]);
  });
});

describe('root CA filtering (issue 10 item 4): only re-encoded CA certificates reach trust', () => {
  const leaf = makeCertificate({
    commonName: 'leaf',
    isCA: false,
    issuer: rootCA,
    notBefore: new Date('2026-01-01T00:00:00Z'),
    notAfter: new Date('2030-01-01T00:00:00Z'),
  });
  const good = { clusterUUID: 'b-uuid', authnKeyPub: keypair.pub };
  const reencoded = toPem(new X509Certificate(rootCA.certPem).raw);

  it('drops a private key, a leaf and text from rootCA, keeps the CA re-encoded, reports the rest', () => {
    const rootCAText = ['comment', rootCA.certPem, rootCA.keyPem, leaf.certPem].join('\n');
    const result = checkPublicDocument({ ...good, rootCA: rootCAText }, NOW);
    expect(result).toMatchObject({ ok: true, value: { ...good, rootCA: reencoded } });
    if (!result.ok) return;
    expect(result.value.rootCA).not.toContain('PRIVATE KEY');
    expect(result.rejected).toEqual([
      expect.stringMatching(/^rootCA block #2 \(RSA PRIVATE KEY\): a private key/),
      expect.stringMatching(/^rootCA block #3 \(CERTIFICATE\): CN=leaf is not a CA/),
      'rootCA: 1 line(s) of text outside PEM blocks ignored',
    ]);
  });

  it('refuses the document when no CA certificate is left', () => {
    const result = checkPublicDocument({ ...good, rootCA: rootCA.keyPem + leaf.certPem }, NOW);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error).toMatch(/no usable CA certificate.*private key.*not a CA/);
  });
});

describe("peers' port protocols follow the reference rule (issue 10 item 13)", () => {
  it('classifies by substring of the prefix, case-sensitive; a stated protocol wins', () => {
    const result = checkPrivateDocument(
      {
        publicServices: [
          {
            hostname: 'a.ns.svc.cluster-b.local',
            ports: [
              { name: 'myhttp', port: 1 },
              { name: 'HTTP', port: 2 },
              { name: 'grpcweb-x', port: 3 },
              { name: 'mtls', port: 4 },
              { name: 'http', port: 5, protocol: 'TCP' },
            ],
          },
        ],
      },
      scope,
    );
    expect(result.ok && result.value.document.publicServices[0]!.ports.map((p) => p.protocol)).toEqual([
      'HTTP',
      'TCP',
      'HTTP2',
      'TLS',
      'TCP',
    ]);
  });
});

describe('emptied imports (issue 10 item 5)', () => {
  const scope = { peerTrustDomain: 'cluster-b.local', ownTrustDomain: 'cluster-a.local' };
  const gw = { address: '192.0.2.10', port: 15443 };
  const ok = { hostname: 'a.ns.svc.cluster-b.local', ports: [{ name: 'http', port: 80 }] };
  const bad = { hostname: 'a.ns.svc.cluster-x.local', ports: [{ name: 'http', port: 80 }] };
  const emptied = (doc: unknown) => {
    const result = checkPrivateDocument(doc, scope);
    return result.ok ? result.value.emptied : 'invalid';
  };
  test.each([
    [
      'every service refused',
      { ingressGateways: [gw], publicServices: [bad] },
      'every one of the 1 published service(s)',
    ],
    [
      'every gateway refused',
      { ingressGateways: [{ address: '127.0.0.1', port: 1 }], publicServices: [ok] },
      'gateway(s)',
    ],
    ['some refused', { ingressGateways: [gw], publicServices: [ok, bad] }, undefined],
    ['empty lists', { ingressGateways: [], publicServices: [] }, undefined],
    ['null lists', { ingressGateways: null, publicServices: null }, undefined],
    [
      'gateways refused, no services',
      { ingressGateways: [{ address: '127.0.0.1', port: 1 }], publicServices: [] },
      undefined,
    ],
  ])('%s', (_, doc, expected) => {
    if (expected === undefined) expect(emptied(doc)).toBeUndefined();
    else expect(emptied(doc)).toContain(expected);
  });
});

describe('identities of a service (issue 11: identity pinning)', () => {
  const svc = (identities: unknown) => ({
    hostname: 'bar.xyz.svc.cluster-b.local',
    ports: [{ name: 'http', port: 8080 }],
    identities,
  });
  const check = (services: unknown[]) => {
    const result = checkPrivateDocument({ ingressGateways: [], publicServices: services }, scope);
    if (!result.ok) throw new Error(result.error);
    return result.value;
  };

  it('keeps the peer identities of the hostname namespace, sorted and deduplicated', () => {
    const ids = [
      'spiffe://cluster-b.local/ns/xyz/sa/web',
      'spiffe://cluster-b.local/ns/xyz/sa/bar',
      'spiffe://cluster-b.local/ns/xyz/sa/web',
    ];
    expect(check([svc(ids)]).document.publicServices[0]!.identities).toEqual([
      'spiffe://cluster-b.local/ns/xyz/sa/bar',
      'spiffe://cluster-b.local/ns/xyz/sa/web',
    ]);
  });

  it('absent, null or empty: unpinned (no identities key)', () => {
    for (const ids of [undefined, null, []])
      expect(check([svc(ids)]).document.publicServices[0]).not.toHaveProperty('identities');
  });

  it.each([
    ['another trust domain', 'spiffe://cluster-c.local/ns/xyz/sa/bar'],
    ['our trust domain', 'spiffe://cluster-a.local/ns/xyz/sa/bar'],
    ['another namespace', 'spiffe://cluster-b.local/ns/other/sa/bar'],
    ['a path beyond the account', 'spiffe://cluster-b.local/ns/xyz/sa/bar/x'],
    ['an empty account', 'spiffe://cluster-b.local/ns/xyz/sa/'],
    ['an invalid account', 'spiffe://cluster-b.local/ns/xyz/sa/Bar_1'],
    ['a trust domain prefix trick', 'spiffe://cluster-b.local.evil/ns/xyz/sa/bar'],
    ['not spiffe', 'https://cluster-b.local/ns/xyz/sa/bar'],
  ])('refuses the service for %s, into rejectedItems, and keeps the others', (_what, identity) => {
    const value = check([
      svc(['spiffe://cluster-b.local/ns/xyz/sa/ok', identity]),
      { hostname: 'web.xyz.svc.cluster-b.local', ports: [{ name: 'http', port: 80 }] },
    ]);
    expect(value.document.publicServices.map((s) => s.hostname)).toEqual(['web.xyz.svc.cluster-b.local']);
    expect(value.rejected).toEqual([
      expect.stringMatching(
        /^publicServices\[0\] bar\.xyz\.svc\.cluster-b\.local: identity .* is not spiffe:\/\/cluster-b\.local\/ns\/xyz\/sa\/<service account>/,
      ),
    ]);
  });

  it('refuses more than 64 identities and non-string identities (shape)', () => {
    const many = Array.from({ length: 65 }, (_, i) => `spiffe://cluster-b.local/ns/xyz/sa/sa-${i}`);
    expect(check([svc(many)]).rejected).toEqual([
      expect.stringMatching(/identities must NOT have more than 64 items/),
    ]);
    expect(check([svc(many.slice(0, 64))]).document.publicServices[0]!.identities).toHaveLength(64);
    expect(check([svc([42])]).rejected).toEqual([expect.stringMatching(/identities\/0 must be string/)]);
  });
});
