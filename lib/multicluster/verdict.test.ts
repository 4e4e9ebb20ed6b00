import { testPublicDocument as pub } from '../../tests/support/peer-identity';
import { istioClusterId } from '../istio/cluster-id';
import { identityOf } from '../federation/trust/select';
import { MULTICLUSTER_KIND, readMulticluster, type Multicluster } from './kind';
import { decideMulticlusters } from './verdict';

const DOMAIN = 'cluster.local';
const OWN_UUID = 'uuid-own';
const OWN_ID = istioClusterId(DOMAIN, OWN_UUID);
const NOW = new Date();
const local = { trustDomain: DOMAIN, clusterUUID: OWN_UUID, now: NOW };

interface Spec {
  uuid?: string;
  created?: string;
  enableIngressGateway?: boolean;
  private?: unknown;
  identity?: unknown;
  noPublic?: boolean;
}
const doc = (name: string, extra: object = {}) => ({
  ingressGateways: [{ address: '192.0.2.1', port: 15443 }],
  apiHost: `api.${name}.example`,
  networkName: `network-${name}`,
  ...extra,
});
/** A peer read as both hooks read it: raw status through readMulticluster. */
function peer(name: string, spec: Spec = {}): Multicluster {
  const read = readMulticluster(
    {
      name,
      created: spec.created ?? '2026-01-01T00:00:00Z',
      spec: {
        metadataEndpoint: `https://${name}.example/metadata/`,
        ...(spec.enableIngressGateway !== undefined
          ? { enableIngressGateway: spec.enableIngressGateway }
          : {}),
        metadata: { ca: 'CA', insecureSkipVerify: true },
      },
      status: {
        metadataCache: {
          ...(spec.noPublic ? {} : { public: pub(spec.uuid ?? `uuid-${name}`) }),
          private: spec.private === undefined ? doc(name) : spec.private,
        },
        ...(spec.identity ? { trustedIdentity: spec.identity } : {}),
      },
    },
    { ownTrustDomain: DOMAIN },
  );
  if (!read) throw new Error('unreadable');
  return read;
}
const summary = (peers: Multicluster[], options = {}) => {
  const v = decideMulticlusters(peers, local, options);
  return {
    trusted: v.trusted.map((t) => t.name),
    usable: v.usable.map((u) => u.name),
    states: Object.fromEntries(
      [...v.federations].map(([n, p]) => [n, p.trust.trusted ? p.join.state : `refused:${p.trust.reason}`]),
    ),
  };
};

describe('decideMulticlusters', () => {
  test('a complete peer is trusted and usable, with what mc-merge renders', () => {
    const v = decideMulticlusters([peer('b')], local);
    expect(v.trusted).toEqual([{ name: 'b', ...pub('uuid-b') }]);
    expect(v.usable).toEqual([
      {
        name: 'b',
        ...pub('uuid-b'),
        apiHost: 'api.b.example',
        networkName: 'network-b',
        ingressGateways: [{ address: '192.0.2.1', port: 15443 }],
        enableIngressGateway: true,
        tls: { ca: 'CA', insecureSkipVerify: true },
      },
    ]);
    expect(v.federations.get('b')).toEqual({
      trust: { trusted: true, identity: identityOf({ public: pub('uuid-b') }) },
      join: { state: 'Joined', message: expect.stringContaining('api host api.b.example') },
      gateways: 1,
    });
  });

  test('no trust domain: our own domain is no refusal (a multicluster peer shares it)', () => {
    // The shared reader sees no spec.trustDomain; the federation refusals must not apply.
    expect(MULTICLUSTER_KIND.trustDomains([{ name: 'b', trustDomain: '' }], DOMAIN).size).toBe(0);
    expect(summary([peer('b')]).usable).toEqual(['b']);
  });

  test('our own clusterUUID is refused', () => {
    expect(summary([peer('mirror', { uuid: OWN_UUID }), peer('b')])).toEqual({
      trusted: ['b'],
      usable: ['b'],
      states: { b: 'Joined', mirror: 'refused:LocalClusterUUID' },
    });
  });

  test('a duplicate clusterUUID: the first by creation, then name, keeps it', () => {
    const older = peer('zz-real', { uuid: 'uuid-x', created: '2026-01-01T00:00:00Z' });
    const impostor = peer('aa-impostor', { uuid: 'uuid-x', created: '2026-02-01T00:00:00Z' });
    expect(summary([impostor, older]).states).toEqual({
      'aa-impostor': 'refused:DuplicateClusterUUID',
      'zz-real': 'Joined',
    });
    // Same creation: the name decides.
    const twin = peer('aa-twin', { uuid: 'uuid-x', created: '2026-01-01T00:00:00Z' });
    expect(summary([older, twin]).states).toEqual({
      'aa-twin': 'Joined',
      'zz-real': 'refused:DuplicateClusterUUID',
    });
  });

  test('the identity pin: a peer that established the UUID keeps it against an older impostor', () => {
    const pinned = identityOf({ public: pub('uuid-x') });
    const real = peer('real', {
      uuid: 'uuid-x',
      created: '2026-03-01T00:00:00Z',
      identity: { ...pinned, since: '2026-03-01T00:00:00Z' },
    });
    const impostor = peer('impostor', { uuid: 'uuid-x', created: '2025-01-01T00:00:00Z' });
    expect(summary([impostor, real]).states).toEqual({
      impostor: 'refused:DuplicateClusterUUID',
      real: 'Joined',
    });
  });

  test('without a public document: not trusted, not usable', () => {
    expect(summary([peer('new', { noPublic: true })]).states).toEqual({ new: 'refused:NoPublicMetadata' });
  });

  test('a name equal to our Istio cluster id: trusted, never joined', () => {
    const v = decideMulticlusters([peer(OWN_ID)], local);
    expect(v.trusted.map((t) => t.name)).toEqual([OWN_ID]);
    expect(v.usable).toEqual([]);
    expect(v.federations.get(OWN_ID)!.join).toEqual({
      state: 'LocalClusterID',
      message: expect.stringContaining('istiod ignores'),
    });
  });

  test('a name istiod refuses as a cluster id (dots): trusted, never joined', () => {
    const v = decideMulticlusters([peer('b.example')], local);
    expect(v.trusted.map((t) => t.name)).toEqual(['b.example']);
    expect(v.usable).toEqual([]);
    expect(v.federations.get('b.example')!.join).toEqual({
      state: 'InvalidClusterID',
      message: expect.stringContaining('not a DNS-1123 label'),
    });
  });

  test('incomplete private documents say what is missing', () => {
    expect(
      summary([
        peer('none', { private: null }),
        peer('nohost', { private: doc('nohost', { apiHost: '' }) }),
        peer('badhost', { private: doc('badhost', { apiHost: 'https://x/y' }) }),
        peer('nonet', { private: doc('nonet', { networkName: undefined }) }),
        peer('nogw', { private: doc('nogw', { ingressGateways: [] }) }),
        peer('flat', { private: doc('flat', { ingressGateways: [] }), enableIngressGateway: false }),
      ]).states,
    ).toEqual({
      badhost: 'MissingAPIHost',
      flat: 'Joined',
      nogw: 'NoGateways',
      nohost: 'MissingAPIHost',
      none: 'NoPrivateMetadata',
      nonet: 'MissingNetworkName',
    });
  });

  test('our own network, and a network claimed by an earlier peer, are refused', () => {
    const own = peer('own-net', { private: doc('own-net', { networkName: `network-${OWN_ID}` }) });
    const first = peer('zz-first', {
      created: '2026-01-01T00:00:00Z',
      private: doc('x', { networkName: 'shared' }),
    });
    const later = peer('aa-later', {
      created: '2026-05-01T00:00:00Z',
      private: doc('y', { networkName: 'shared' }),
    });
    const result = summary([own, later, first]);
    expect(result.states).toEqual({
      'aa-later': 'DuplicateNetwork',
      'own-net': 'OwnNetwork',
      'zz-first': 'Joined',
    });
    expect(result.trusted).toEqual(['aa-later', 'own-net', 'zz-first']);
    expect(result.usable).toEqual(['zz-first']);
    // A refused (untrusted) peer claims no network.
    const impostor = peer('aa-imp', {
      uuid: OWN_UUID,
      created: '2020-01-01T00:00:00Z',
      private: doc('z', { networkName: 'shared' }),
    });
    expect(summary([impostor, first]).states['zz-first']).toBe('Joined');
  });

  test('disabled: nothing trusted, every peer says why', () => {
    const v = decideMulticlusters([peer('b'), peer('a')], local, { disabled: true });
    expect(v.trusted).toEqual([]);
    expect(v.usable).toEqual([]);
    expect([...v.federations.keys()]).toEqual(['a', 'b']);
    expect(v.federations.get('a')!.trust).toMatchObject({ trusted: false, reason: 'MulticlusterDisabled' });
  });

  test('without our clusterUUID yet: no own-id/own-network check, the rest applies', () => {
    const v = decideMulticlusters([peer(OWN_ID)], { trustDomain: DOMAIN, now: NOW });
    expect(v.usable.map((u) => u.name)).toEqual([OWN_ID]);
  });

  test('deterministic whatever the input order', () => {
    const peers = [peer('c'), peer('a', { uuid: 'uuid-c' }), peer('b', { private: null })];
    const once = decideMulticlusters(peers, local);
    const reversed = decideMulticlusters([...peers].reverse(), local);
    expect([...reversed.federations]).toEqual([...once.federations]);
    expect(reversed.trusted).toEqual(once.trusted);
    expect(reversed.usable).toEqual(once.usable);
  });

  test('the kind decides with the spec flag read by readMulticluster', () => {
    const flat = peer('flat', { private: doc('flat', { ingressGateways: [] }), enableIngressGateway: false });
    expect(flat.enableIngressGateway).toBe(false);
    expect(MULTICLUSTER_KIND.decide([flat], local).usable.map((u) => u.name)).toEqual(['flat']);
    expect(MULTICLUSTER_KIND.decide([flat], local, { disabled: true }).usable).toEqual([]);
  });
});

describe('readMulticluster', () => {
  test('an edited status: bad cached items are dropped and named, never trusted', () => {
    const read = peer('b', {
      private: {
        ingressGateways: [
          { address: '127.0.0.1', port: 1 },
          { address: '192.0.2.9', port: 2 },
        ],
        apiHost: 'x y',
      },
    });
    expect(read.status.metadataCache?.private).toEqual({
      ingressGateways: [{ address: '192.0.2.9', port: 2 }],
      apiHost: '',
      networkName: '',
    });
    expect(read.rejected).toEqual([
      expect.stringMatching(/^metadataCache.private.ingressGateways\[0\]/),
      expect.stringMatching(/^metadataCache.private.apiHost/),
    ]);
    expect(read.storedStatus).toBeDefined();
    expect(readMulticluster({ name: '' }, { ownTrustDomain: DOMAIN })).toBeUndefined();
    expect(readMulticluster({ name: 'x', spec: {} }, { ownTrustDomain: DOMAIN })?.enableIngressGateway).toBe(
      true,
    );
  });
});
