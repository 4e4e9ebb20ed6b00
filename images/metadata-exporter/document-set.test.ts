import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateAuthnKeypair } from '../../lib/federation/identity/authn-keys';
import { documentKeys, parseDocumentSet, type DocumentKey, type RawDocuments } from './document-set';

const ROOT_CA = readFileSync(
  join(__dirname, '..', '..', 'tests', 'exporter', 'fixtures', 'ec-root-ca.pem'),
  'utf8',
);
const own = generateAuthnKeypair();
const peer = generateAuthnKeypair();

const PEERS = {
  'peer-uuid': { clusterUUID: 'peer-uuid', authnKeyPub: peer.pub, rootCA: ROOT_CA, trustDomain: 'peer.test' },
};
const MULTICLUSTER = {
  ingressGateways: [{ address: '192.0.2.1', port: 15443 }],
  apiHost: 'istio-api-proxy.example.com',
  networkName: 'network-cluster-test-1234',
};
const MC_PEERS = { 'mc-uuid': { clusterUUID: 'mc-uuid', authnKeyPub: peer.pub, rootCA: ROOT_CA } };

/** The federation set by default; an override of `undefined` leaves that file out. */
function raw(overrides: Partial<Record<DocumentKey, unknown>> = {}): RawDocuments {
  const docs: Partial<Record<DocumentKey, unknown>> = {
    public: { clusterUUID: 'own-uuid', authnKeyPub: own.pub, rootCA: ROOT_CA },
    federation: {
      ingressGateways: [{ address: '192.0.2.1', port: 15443 }],
      publicServices: [
        { hostname: 'a.ns.svc.cluster.test', ports: [{ name: 'http', port: 80, protocol: 'HTTP' }] },
        { hostname: 'b.ns.svc.cluster.test', ports: [{ port: 81 }], allowedTrustDomains: ['peer.test'] },
      ],
    },
    remotes: PEERS,
    ...overrides,
  };
  return Object.fromEntries(
    Object.entries(docs)
      .filter(([, value]) => value !== undefined)
      .map(([key, value]) => [key, typeof value === 'string' ? value : JSON.stringify(value)]),
  ) as RawDocuments;
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
    expect(set.federation?.publicServices).toStrictEqual([
      { hostname: 'a.ns.svc.cluster.test', ports: [{ name: 'http', port: 80 }] },
      {
        hostname: 'b.ns.svc.cluster.test',
        ports: [{ name: '', port: 81 }],
        allowedTrustDomains: ['peer.test'],
      },
    ]);
    expect([...(set.peers.federation?.values() ?? [])]).toStrictEqual([
      { clusterUUID: 'peer-uuid', authnKeyPub: peer.pub, trustDomain: 'peer.test' },
    ]);
    expect(set.spiffeBundle.keys).toHaveLength(1);
    expect(rejectedRemotes).toStrictEqual([]);
    expect(set.multicluster).toBeUndefined();
    expect(set.peers.multicluster).toBeUndefined();
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
    expect(result.ok && result.value.set.federation?.publicServices).toStrictEqual([
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
    expect(errorOf(raw(overrides as Partial<Record<DocumentKey, unknown>>))).toEqual(
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
    expect([...(result.value.set.peers.federation?.keys() ?? [])]).toStrictEqual(['good', 'no-domain']);
    expect(result.value.set.peers.federation?.get('no-domain')).not.toHaveProperty('trustDomain');
    expect(result.value.rejectedRemotes.map((r) => [r.clusterUUID, r.reason])).toStrictEqual([
      ['bad-key', expect.stringMatching(/^authnKeyPub: /)],
      ['wrong-id', 'clusterUUID differs from its key'],
      ['bad-domain', 'trustDomain is invalid'],
    ]);
  });
});

describe('the multicluster document and its allow-list', () => {
  const multiclusterOnly = (overrides: Partial<Record<DocumentKey, unknown>> = {}) =>
    raw({
      federation: undefined,
      remotes: undefined,
      multicluster: MULTICLUSTER,
      multiclusterRemotes: MC_PEERS,
      ...overrides,
    });

  test('documentKeys: public.json, then each served document with its allow-list', () => {
    expect(documentKeys(['federation'])).toStrictEqual(['public', 'federation', 'remotes']);
    expect(documentKeys(['multicluster'])).toStrictEqual(['public', 'multicluster', 'multiclusterRemotes']);
    expect(documentKeys(['multicluster', 'federation'])).toStrictEqual([
      'public',
      'federation',
      'remotes',
      'multicluster',
      'multiclusterRemotes',
    ]);
  });

  test('multicluster only: the document, its own peers, nothing of federation', () => {
    const result = parseDocumentSet(multiclusterOnly());
    if (!result.ok) throw new Error(result.error);
    const { set } = result.value;
    expect(set.multicluster).toStrictEqual(MULTICLUSTER);
    expect([...(set.peers.multicluster?.values() ?? [])]).toStrictEqual([
      { clusterUUID: 'mc-uuid', authnKeyPub: peer.pub },
    ]);
    expect(set.federation).toBeUndefined();
    expect(set.peers.federation).toBeUndefined();
  });

  test('both: two separate allow-lists, a UUID may be in both', () => {
    const result = parseDocumentSet(
      raw({ multicluster: MULTICLUSTER, multiclusterRemotes: { ...MC_PEERS, ...PEERS } }),
    );
    if (!result.ok) throw new Error(result.error);
    expect([...(result.value.set.peers.federation?.keys() ?? [])]).toStrictEqual(['peer-uuid']);
    expect([...(result.value.set.peers.multicluster?.keys() ?? [])]).toStrictEqual(['mc-uuid', 'peer-uuid']);
  });

  test('an empty gateway list is kept as a list; extra keys are dropped', () => {
    const result = parseDocumentSet(
      multiclusterOnly({ multicluster: { ...MULTICLUSTER, ingressGateways: [], clusterID: 'x' } }),
    );
    expect(result.ok && result.value.set.multicluster).toStrictEqual({
      ...MULTICLUSTER,
      ingressGateways: [],
    });
  });

  test.each(['127.0.0.1:8443', 'api.example.com', 'api.example.com:443', '[::1]:6443'])(
    'apiHost %s is a host or host:port',
    (apiHost) => {
      expect(parseDocumentSet(multiclusterOnly({ multicluster: { ...MULTICLUSTER, apiHost } })).ok).toBe(
        true,
      );
    },
  );

  test('a broken multicluster peer entry drops only that peer, named with its list', () => {
    const result = parseDocumentSet(
      multiclusterOnly({ multiclusterRemotes: { ...MC_PEERS, bad: { clusterUUID: 'bad' } } }),
    );
    if (!result.ok) throw new Error(result.error);
    expect([...(result.value.set.peers.multicluster?.keys() ?? [])]).toStrictEqual(['mc-uuid']);
    expect(result.value.rejectedRemotes).toStrictEqual([
      { list: 'remote-multiclusters-public-metadata.json', clusterUUID: 'bad', reason: expect.any(String) },
    ]);
  });

  test.each([
    [
      'ingressGateways is missing',
      { ...MULTICLUSTER, ingressGateways: undefined },
      'ingressGateways must be a list',
    ],
    ['ingressGateways is null', { ...MULTICLUSTER, ingressGateways: null }, 'ingressGateways must be a list'],
    [
      'a gateway is invalid',
      { ...MULTICLUSTER, ingressGateways: [{ address: 'a b', port: 1 }] },
      /^ingressGateways\[0\]: /,
    ],
    ['apiHost is empty', { ...MULTICLUSTER, apiHost: '' }, 'apiHost must be a host or host:port'],
    [
      'apiHost has a scheme',
      { ...MULTICLUSTER, apiHost: 'https://a.example.com' },
      'apiHost must be a host or host:port',
    ],
    [
      'apiHost has a path',
      { ...MULTICLUSTER, apiHost: 'a.example.com/api' },
      'apiHost must be a host or host:port',
    ],
    [
      'apiHost has port 0',
      { ...MULTICLUSTER, apiHost: 'a.example.com:0' },
      'apiHost must be a host or host:port',
    ],
    [
      'apiHost has port 70000',
      { ...MULTICLUSTER, apiHost: 'a.example.com:70000' },
      'apiHost must be a host or host:port',
    ],
    [
      'networkName is missing',
      { ...MULTICLUSTER, networkName: undefined },
      'networkName must be a label value',
    ],
    ['networkName has a space', { ...MULTICLUSTER, networkName: 'a b' }, 'networkName must be a label value'],
    ['the document is a list', [], 'must be an object'],
  ])('the set is rejected when %s', (_name, multicluster, expected) => {
    const error = errorOf(multiclusterOnly({ multicluster }));
    expect(error).toEqual(
      typeof expected === 'string'
        ? `multicluster.json: ${expected}`
        : expect.stringMatching(/^multicluster\.json: /),
    );
    if (typeof expected !== 'string') expect(error.slice('multicluster.json: '.length)).toMatch(expected);
  });

  test.each([
    [
      'the allow-list is missing',
      { multiclusterRemotes: undefined },
      'remote-multiclusters-public-metadata.json: missing',
    ],
    ['the document is missing', { multicluster: undefined }, 'multicluster.json: missing'],
    [
      'the allow-list is a list',
      { multiclusterRemotes: [] },
      'remote-multiclusters-public-metadata.json: must be an object keyed by clusterUUID',
    ],
    ['the document is not JSON', { multicluster: '{' }, 'multicluster.json is not valid JSON'],
  ])('the set is rejected when %s', (_name, overrides, expected) => {
    expect(errorOf(multiclusterOnly(overrides))).toBe(expected);
  });
});
