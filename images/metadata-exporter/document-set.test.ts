import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateAuthnKeypair } from '../../lib/federation/identity/authn-keys';
import { parseDocumentSet, type RawDocuments } from './document-set';

const ROOT_CA = readFileSync(
  join(__dirname, '..', '..', 'tests', 'exporter', 'fixtures', 'ec-root-ca.pem'),
  'utf8',
);
const own = generateAuthnKeypair();
const peer = generateAuthnKeypair();

function raw(overrides: Partial<Record<keyof RawDocuments, unknown>> = {}): RawDocuments {
  const docs = {
    public: { clusterUUID: 'own-uuid', authnKeyPub: own.pub, rootCA: ROOT_CA },
    federation: {
      ingressGateways: [{ address: '192.0.2.1', port: 15443 }],
      publicServices: [
        { hostname: 'a.ns.svc.cluster.test', ports: [{ name: 'http', port: 80, protocol: 'HTTP' }] },
        { hostname: 'b.ns.svc.cluster.test', ports: [{ port: 81 }], allowedTrustDomains: ['peer.test'] },
      ],
    },
    remotes: {
      'peer-uuid': {
        clusterUUID: 'peer-uuid',
        authnKeyPub: peer.pub,
        rootCA: ROOT_CA,
        trustDomain: 'peer.test',
      },
    },
    ...overrides,
  };
  return {
    public: typeof docs.public === 'string' ? docs.public : JSON.stringify(docs.public),
    federation: typeof docs.federation === 'string' ? docs.federation : JSON.stringify(docs.federation),
    remotes: typeof docs.remotes === 'string' ? docs.remotes : JSON.stringify(docs.remotes),
  };
}

function errorOf(documents: RawDocuments): string {
  const result = parseDocumentSet(documents);
  if (result.ok) throw new Error('expected the set to be rejected');
  return result.error;
}

describe('parseDocumentSet', () => {
  test('a valid set: public document, services with their restriction, peers, SPIFFE bundle', () => {
    const result = parseDocumentSet(raw());
    if (!result.ok) throw new Error(result.error);
    const { set, rejectedRemotes } = result.value;
    expect(set.public).toStrictEqual({ clusterUUID: 'own-uuid', authnKeyPub: own.pub, rootCA: ROOT_CA });
    expect(set.federation.publicServices).toStrictEqual([
      { hostname: 'a.ns.svc.cluster.test', ports: [{ name: 'http', port: 80 }] },
      {
        hostname: 'b.ns.svc.cluster.test',
        ports: [{ name: '', port: 81 }],
        allowedTrustDomains: ['peer.test'],
      },
    ]);
    expect([...set.remotes.values()]).toStrictEqual([
      { clusterUUID: 'peer-uuid', authnKeyPub: peer.pub, trustDomain: 'peer.test' },
    ]);
    expect(set.spiffeBundle.keys).toHaveLength(1);
    expect(rejectedRemotes).toStrictEqual([]);
  });

  test('a service keeps its identities (issue 11)', () => {
    const identities = ['spiffe://cluster.test/ns/ns/sa/a'];
    const result = parseDocumentSet(
      raw({
        federation: {
          ingressGateways: [],
          publicServices: [
            { hostname: 'a.ns.svc.cluster.test', ports: [{ name: 'http', port: 80 }], identities },
          ],
        },
      }),
    );
    expect(result.ok && result.value.set.federation.publicServices).toStrictEqual([
      { hostname: 'a.ns.svc.cluster.test', ports: [{ name: 'http', port: 80 }], identities },
    ]);
  });

  test('extra keys of the public document are not carried over', () => {
    const result = parseDocumentSet(
      raw({ public: { clusterUUID: 'own-uuid', authnKeyPub: own.pub, rootCA: ROOT_CA, secret: 'x' } }),
    );
    expect(result.ok && Object.keys(result.value.set.public)).toStrictEqual([
      'clusterUUID',
      'authnKeyPub',
      'rootCA',
    ]);
  });

  test('null lists (Go nil slices) are empty lists', () => {
    const result = parseDocumentSet(raw({ federation: { ingressGateways: null, publicServices: null } }));
    expect(result.ok && result.value.set.federation).toStrictEqual({
      ingressGateways: [],
      publicServices: [],
    });
  });

  test.each([
    ['public.json is not JSON', { public: '{' }, 'public.json is not valid JSON'],
    ['public.json lacks rootCA', { public: { clusterUUID: 'u', authnKeyPub: own.pub } }, /^public\.json: /],
    [
      'authnKeyPub is not a key',
      { public: { clusterUUID: 'u', authnKeyPub: 'nope', rootCA: ROOT_CA } },
      /^public\.json: authnKeyPub: /,
    ],
    [
      'rootCA holds no certificate',
      { public: { clusterUUID: 'u', authnKeyPub: own.pub, rootCA: 'garbage' } },
      'public.json: rootCA: no certificate found',
    ],
    [
      'rootCA has a broken certificate',
      {
        public: {
          clusterUUID: 'u',
          authnKeyPub: own.pub,
          rootCA: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n',
        },
      },
      'public.json: rootCA: certificate 0 does not parse',
    ],
    [
      'a gateway port is out of range',
      { federation: { ingressGateways: [{ address: 'a', port: 0 }] } },
      /^federation\.json: \[0\] ingress gateway/,
    ],
    [
      'a service hostname is invalid',
      { federation: { publicServices: [{ hostname: 'UPPER', ports: [] }] } },
      /^federation\.json: \[0\] public service\/hostname/,
    ],
    [
      'allowedTrustDomains is not a list of trust domains',
      { federation: { publicServices: [{ hostname: 'a.b', ports: [], allowedTrustDomains: ['a b'] }] } },
      'federation.json: [0] allowedTrustDomains must be a list of trust domains',
    ],
    [
      'the remote map is a list',
      { remotes: [] },
      'remote-public-metadata.json: must be an object keyed by clusterUUID',
    ],
  ])('rejected as a whole when %s', (_name, overrides, expected) => {
    expect(errorOf(raw(overrides as Partial<Record<keyof RawDocuments, unknown>>))).toEqual(
      typeof expected === 'string' ? expected : expect.stringMatching(expected),
    );
  });

  test('a broken remote entry drops only that remote', () => {
    const result = parseDocumentSet(
      raw({
        remotes: {
          good: { clusterUUID: 'good', authnKeyPub: peer.pub, rootCA: ROOT_CA, trustDomain: 'good.test' },
          'bad-key': { clusterUUID: 'bad-key', authnKeyPub: 'x', rootCA: ROOT_CA },
          'wrong-id': { clusterUUID: 'other', authnKeyPub: peer.pub, rootCA: ROOT_CA },
          'bad-domain': {
            clusterUUID: 'bad-domain',
            authnKeyPub: peer.pub,
            rootCA: ROOT_CA,
            trustDomain: 'a/b',
          },
          'no-domain': { clusterUUID: 'no-domain', authnKeyPub: peer.pub, rootCA: ROOT_CA },
        },
      }),
    );
    if (!result.ok) throw new Error(result.error);
    expect([...result.value.set.remotes.keys()]).toStrictEqual(['good', 'no-domain']);
    expect(result.value.set.remotes.get('no-domain')).not.toHaveProperty('trustDomain');
    expect(result.value.rejectedRemotes.map((r) => [r.clusterUUID, r.reason])).toStrictEqual([
      ['bad-key', expect.stringMatching(/^authnKeyPub: /)],
      ['wrong-id', 'clusterUUID differs from its key'],
      ['bad-domain', 'trustDomain is invalid'],
    ]);
  });
});
