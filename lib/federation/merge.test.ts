import { join } from 'node:path';
import { testPublicDocument } from '../../tests/support/peer-identity';
import fc from 'fast-check';
import { moduleValidators } from '../hook-sdk/testing';
import { protocolFromPortName } from './protocol';
import { hostnameProblem } from './remote-validation';
import {
  detectImportConflicts,
  isAcceptableGatewayAddress,
  mergeFederations,
  parseFederationSnapshot,
  selectTrustedPeers,
  type FederationInput,
  type MergeResult,
} from './merge';

const LOCAL = 'cluster-a.local';
const pub = testPublicDocument;
type Svc = {
  hostname: string;
  ports: { name: string; port: number; protocol?: 'HTTP' | 'HTTP2' | 'TLS' | 'TCP' }[];
};
const fed = (
  name: string,
  trustDomain: string,
  services: Svc[] = [],
  gateways = [{ address: '192.0.2.1', port: 15443 }],
  uuid = `uuid-${name}`,
): FederationInput => ({
  name,
  trustDomain,
  public: pub(uuid),
  private: { ingressGateways: gateways, publicServices: services },
});
const svc = (hostname: string, ...ports: Svc['ports']): Svc => ({ hostname, ports });
const merge = (
  feds: FederationInput[],
  limits?: { maxServicesPerFederation: number; maxServicesTotal: number },
) => mergeFederations(feds, { localTrustDomain: LOCAL, ...(limits ? { limits } : {}) });

const validators = moduleValidators(join(__dirname, '..', '..'));
function valuesErrors(result: MergeResult): string[] {
  const values = validators.values.withDefaults({
    internal: { federation: { trustedPeers: result.trustedPeers, serviceEntries: result.serviceEntries } },
  });
  return validators.values.errors(values);
}

describe('parseFederationSnapshot tolerates garbage', () => {
  test.each([null, 7, 'x', [], {}, { name: '' }, { name: 3 }])('%p -> undefined', (raw) => {
    expect(parseFederationSnapshot(raw)).toBeUndefined();
  });

  test('name only: no documents, nothing rejected', () => {
    expect(parseFederationSnapshot({ name: 'b', trustDomain: null, public: null, private: null })).toEqual({
      name: 'b',
      trustDomain: '',
      rejected: [],
    });
  });

  test('a public document of the wrong shape is dropped and named', () => {
    const parsed = parseFederationSnapshot({
      name: 'b',
      trustDomain: 'b.local',
      public: { clusterUUID: 'x' },
    });
    expect(parsed?.public).toBeUndefined();
    expect(parsed?.rejected[0]).toContain('public document');
  });

  test('null lists and missing keys in the private document are empty lists', () => {
    expect(parseFederationSnapshot({ name: 'b', private: { ingressGateways: null } })?.private).toEqual({
      ingressGateways: [],
      publicServices: [],
    });
    expect(parseFederationSnapshot({ name: 'b', private: {} })?.private).toEqual({
      ingressGateways: [],
      publicServices: [],
    });
  });

  test('a private document that is not an object is dropped', () => {
    const parsed = parseFederationSnapshot({ name: 'b', private: { publicServices: 'all' } });
    expect(parsed?.private).toBeUndefined();
    expect(parsed?.rejected).toHaveLength(1);
  });

  test('invalid items are dropped one by one; unknown fields are not copied', () => {
    const parsed = parseFederationSnapshot({
      name: 'b',
      trustDomain: 'b.local',
      public: { ...pub('u1'), extra: 'x' },
      private: {
        ingressGateways: [
          { address: '192.0.2.1', port: 15443, evil: true },
          { address: '192.0.2.2', port: 70000 },
          { address: 'a b', port: 1 },
          null,
        ],
        publicServices: [
          { hostname: 'ok.ns.svc.b.local', ports: [{ name: 'http', port: 80, protocol: 'HTTP', x: 1 }] },
          { hostname: 'bad.ns.svc.b.local', ports: [{ name: 'http', port: 0 }] },
          { hostname: 'UPPER.ns.svc.b.local', ports: [] },
          { hostname: 'nullports.ns.svc.b.local', ports: null },
          { ports: [] },
        ],
      },
    });
    expect(parsed?.public).toEqual(pub('u1'));
    expect(parsed?.private).toEqual({
      ingressGateways: [{ address: '192.0.2.1', port: 15443 }],
      publicServices: [
        { hostname: 'ok.ns.svc.b.local', ports: [{ name: 'http', port: 80, protocol: 'HTTP' }] },
        { hostname: 'nullports.ns.svc.b.local', ports: [] },
      ],
    });
    expect(parsed?.rejected).toHaveLength(6);
  });
});

describe('trusted peers', () => {
  test('sorted by name; own, cluster.local, invalid and public-less federations refused', () => {
    const { peers, refused } = selectTrustedPeers(
      [
        fed('zeta', 'z.local'),
        fed('own', 'Cluster-A.local'),
        fed('default', 'cluster.local'),
        fed('broken', 'bad domain!'),
        { name: 'fresh', trustDomain: 'f.local' },
        fed('alpha', 'b.local'),
      ],
      { trustDomain: LOCAL },
    );
    expect(peers.map((p) => p.name)).toEqual(['alpha', 'zeta']);
    expect(peers[0]).toEqual({ name: 'alpha', trustDomain: 'b.local', ...pub('uuid-alpha') });
    expect(refused.map((r) => [r.federation, r.reason])).toEqual([
      ['broken', 'InvalidTrustDomain'],
      ['default', 'ClusterLocalTrustDomain'],
      ['fresh', 'NoPublicMetadata'],
      ['own', 'LocalTrustDomain'],
    ]);
  });

  test('same trust domain (any case): the first by name wins, the other is reported', () => {
    const { peers, refused } = selectTrustedPeers(
      [fed('b-2', 'B.local'), fed('b-1', 'b.local'), fed('b-0', 'b.local', [], undefined, 'uuid-x')].map(
        (f) => (f.name === 'b-0' ? { name: f.name, trustDomain: f.trustDomain } : f),
      ),
      { trustDomain: LOCAL },
    );
    expect(peers.map((p) => p.name)).toEqual(['b-1']);
    expect(refused.map((r) => [r.federation, r.reason])).toEqual([
      ['b-0', 'NoPublicMetadata'],
      ['b-2', 'DuplicateTrustDomain'],
    ]);
    expect(refused[1]!.message).toContain('b-1');
  });

  test('a clusterUUID claimed twice is trusted for nobody, and ours is never a peer', () => {
    // "First by name wins" would let a hostile peer evict another by copying its public UUID.
    const { peers, refused } = selectTrustedPeers(
      [
        fed('a-evil', 'evil.local', [], undefined, 'uuid-good'),
        fed('good', 'good.local', [], undefined, 'uuid-good'),
        fed('mirror', 'm.local', [], undefined, 'uuid-ours'),
        fed('fine', 'f.local'),
      ],
      { trustDomain: LOCAL, clusterUUID: 'uuid-ours' },
    );
    expect(peers.map((p) => p.name)).toEqual(['fine']);
    expect(refused.map((r) => [r.federation, r.reason])).toEqual([
      ['a-evil', 'DuplicateClusterUUID'],
      ['good', 'DuplicateClusterUUID'],
      ['mirror', 'LocalClusterUUID'],
    ]);
    expect(refused[0]!.message).toContain('a-evil, good');
  });

  test('a public document read back from status is checked like a fetched one', () => {
    const garbageKey = { ...fed('k', 'k.local'), public: { ...pub('uuid-k'), authnKeyPub: 'not a key' } };
    const garbageCA = { ...fed('c', 'c.local'), public: { ...pub('uuid-c'), rootCA: 'not a certificate' } };
    const { peers, refused } = selectTrustedPeers([garbageKey, garbageCA, fed('ok', 'o.local')], {
      trustDomain: LOCAL,
    });
    expect(peers.map((p) => p.name)).toEqual(['ok']);
    expect(refused.map((r) => [r.federation, r.reason])).toEqual([
      ['c', 'InvalidPublicMetadata'],
      ['k', 'InvalidPublicMetadata'],
    ]);
    // The root CA expires: from then on the peer is no longer trusted.
    const later = selectTrustedPeers([fed('ok', 'o.local')], {
      trustDomain: LOCAL,
      now: new Date('2127-01-01T00:00:00Z'),
    });
    expect(later.refused.map((r) => r.reason)).toEqual(['InvalidPublicMetadata']);
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
  const violation = hostnameProblem(hostname, { peerTrustDomain: peer, ownTrustDomain: LOCAL });
  if (expected === undefined) expect(violation).toBeUndefined();
  else expect(violation).toContain(expected);
});

test.each([
  ['192.0.2.1', true],
  ['10.0.0.1', true],
  ['gw.example.com', true],
  ['2001:db8::1', true],
  ['127.0.0.1', false],
  ['0.0.0.0', false],
  ['169.254.169.254', false],
  ['224.0.0.1', false],
  ['::1', false],
  ['::', false],
  ['fe80::1', false],
  ['::ffff:127.0.0.1', false],
  ['localhost', false],
  ['x.localhost', false],
  // Issue 10 item 3: other spellings of the same addresses (lib/net/address.ts).
  ['2130706433', false],
  ['0177.0.0.1', false],
  ['0x7f.1', false],
  ['127.1', false],
  ['::ffff:7f00:1', false],
  ['0:0:0:0:0:0:0:1', false],
  ['0000:0000:0000:0000:0000:0000:0000:0000', false],
  ['FE80::1', false],
  ['FF02::1', false],
  ['fd00:ec2::254', false],
  ['metadata.google.internal', false],
  ['LOCALHOST.', false],
  ['localhost.localdomain', false],
  ['ip6-localhost', false],
  ['gw.cluster-a.local', false],
  ['kubernetes.default.svc.cluster.local', false],
])('isAcceptableGatewayAddress(%p) = %p', (address, ok) => {
  expect(isAcceptableGatewayAddress(address, LOCAL)).toBe(ok);
});

describe('service entries', () => {
  test('the reference example: one entry per hostname and gateway set, values validate', () => {
    const result = merge([
      fed('cluster-b', 'cluster-b.local', [
        svc(
          'bar.xyz.svc.cluster-b.local',
          { name: 'http', port: 8080 },
          { name: 'grpc-api', port: 9090, protocol: 'HTTP2' },
        ),
      ]),
    ]);
    expect(result.serviceEntries).toEqual([
      {
        hostname: 'bar.xyz.svc.cluster-b.local',
        resolution: 'STATIC',
        federations: ['cluster-b'],
        ports: [
          { number: 8080, name: 'http', protocol: 'HTTP' },
          { number: 9090, name: 'grpc-api', protocol: 'HTTP2' },
        ],
        endpoints: [{ address: '192.0.2.1', ports: { http: 15443, 'grpc-api': 15443 } }],
      },
    ]);
    expect(result.importedServices).toEqual({ 'cluster-b': 1 });
    expect(valuesErrors(result)).toEqual([]);
  });

  test('hostnames outside the peer domain or inside ours are rejected, the rest imported', () => {
    const result = merge([
      fed('b', 'b.local', [
        svc('ok.ns.svc.b.local', { name: 'http', port: 80 }),
        svc('evil.ns.svc.c.local', { name: 'http', port: 80 }),
        svc('kube-dns.kube-system.svc.cluster-a.local', { name: 'dns', port: 53 }),
        svc('x.ns.svc.cluster.local', { name: 'http', port: 80 }),
      ]),
    ]);
    expect(result.serviceEntries.map((e) => e.hostname)).toEqual(['ok.ns.svc.b.local']);
    expect(result.rejected.map((r) => r.item).sort()).toEqual([
      'evil.ns.svc.c.local',
      'kube-dns.kube-system.svc.cluster-a.local',
      'x.ns.svc.cluster.local',
    ]);
  });

  test('untrusted, refused and incomplete federations contribute nothing', () => {
    const s = [svc('a.ns.svc.b.local', { name: 'http', port: 80 })];
    const result = merge([
      { ...fed('no-public', 'b.local', s), public: undefined },
      fed('own', LOCAL, [svc('a.ns.svc.cluster-a.local', { name: 'http', port: 80 })]),
      fed('no-gateways', 'c.local', [svc('a.ns.svc.c.local', { name: 'http', port: 80 })], []),
      fed(
        'loopback-gateway',
        'd.local',
        [svc('a.ns.svc.d.local', { name: 'http', port: 80 })],
        [{ address: '127.0.0.1', port: 15443 }],
      ),
      fed('no-services', 'e.local', []),
      { name: 'no-private', trustDomain: 'f.local', public: pub('f') },
    ]);
    expect(result.serviceEntries).toEqual([]);
    expect(result.incomplete.map((i) => i.federation)).toEqual([
      'loopback-gateway',
      'no-gateways',
      'no-private',
      'no-services',
    ]);
    expect(result.importedServices).toEqual({
      'loopback-gateway': 0,
      'no-gateways': 0,
      'no-private': 0,
      'no-public': 0,
      'no-services': 0,
      own: 0,
    });
    expect(result.trustedPeers.map((p) => p.name)).toEqual([
      'loopback-gateway',
      'no-gateways',
      'no-private',
      'no-services',
    ]);
  });

  test('a hostname identifies its peer: a nested domain cannot make two peers share one', () => {
    // Scoping (<svc>.<ns>.svc.<peer domain>, exactly) makes cross-peer clashes impossible by
    // construction: the outer peer cannot publish a name under the inner peer's domain.
    const host = 'web.ns.svc.x.svc.b.local';
    const result = merge([
      fed(
        'peer-2',
        'x.svc.b.local',
        [svc(host, { name: 'http', port: 80 })],
        [{ address: 'gw2.example.com', port: 443 }],
      ),
      fed('peer-1', 'b.local', [
        svc(host, { name: 'http', port: 80 }),
        svc('db.ns.svc.b.local', { name: 'tcp-db', port: 5432 }),
      ]),
    ]);
    expect(result.serviceEntries.map((e) => [e.hostname, e.federations, e.resolution])).toEqual([
      ['db.ns.svc.b.local', ['peer-1'], 'STATIC'],
      [host, ['peer-2'], 'DNS'],
    ]);
    expect(result.rejected).toContainEqual(
      expect.objectContaining({
        federation: 'peer-1',
        message: expect.stringMatching(/not <service>\.<namespace>/),
      }),
    );
    expect(result.conflicts).toEqual([]);
    expect(detectImportConflicts([fed('peer-1', 'b.local')], LOCAL)).toEqual([]);
    expect(result.importedServices).toEqual({ 'peer-1': 1, 'peer-2': 1 });
    expect(valuesErrors(result)).toEqual([]);
  });

  test('duplicate ports and hostnames within one peer: the first is used and reported', () => {
    const result = merge([
      fed('b', 'b.local', [
        svc('a.ns.svc.b.local', { name: 'http', port: 80 }, { name: 'web', port: 80 }),
        svc('a.ns.svc.b.local', { name: 'other', port: 81 }),
      ]),
    ]);
    expect(result.serviceEntries[0]!.ports).toEqual([{ number: 80, name: 'http', protocol: 'HTTP' }]);
    expect(result.conflicts.map((c) => c.reason)).toEqual(['DuplicatePort']);
    expect(result.rejected.map((r) => r.message)).toEqual([expect.stringContaining('listed twice')]);
  });

  test('an unnamed remote port gets a generated name; the status protocol wins over the name', () => {
    const result = merge([
      fed('b', 'b.local', [
        svc('a.ns.svc.b.local', { name: '', port: 5432 }, { name: 'web', port: 80, protocol: 'HTTP' }),
      ]),
    ]);
    expect(result.serviceEntries[0]!.ports).toEqual([
      { number: 80, name: 'web', protocol: 'HTTP' },
      { number: 5432, name: 'tcp-5432', protocol: 'TCP' },
    ]);
    expect(valuesErrors(result)).toEqual([]);
  });

  test('limits per federation and in total drop deterministically (federation name, then hostname) and report', () => {
    const services = (td: string, n: number) =>
      Array.from({ length: n }, (_, i) =>
        svc(`s${String(i).padStart(2, '0')}.ns.svc.${td}`, { name: 'http', port: 80 }),
      );
    const feds = [fed('c', 'c.local', services('c.local', 3)), fed('b', 'b.local', services('b.local', 5))];
    const result = merge(feds, { maxServicesPerFederation: 4, maxServicesTotal: 6 });
    expect(result.serviceEntries.map((e) => e.hostname)).toEqual([
      's00.ns.svc.b.local',
      's00.ns.svc.c.local',
      's01.ns.svc.b.local',
      's01.ns.svc.c.local',
      's02.ns.svc.b.local',
      's03.ns.svc.b.local',
    ]);
    expect(result.dropped).toEqual({ b: 1, c: 1 });
    expect(result.importedServices).toEqual({ b: 4, c: 2 });
    expect(merge([...feds].reverse(), { maxServicesPerFederation: 4, maxServicesTotal: 6 })).toEqual(result);
  });

  test('no federations: nothing', () => {
    expect(merge([])).toEqual({
      trustedPeers: [],
      serviceEntries: [],
      refused: [],
      conflicts: [],
      rejected: [],
      incomplete: [],
      dropped: {},
      importedServices: {},
    });
  });
});

describe('merge properties (fast-check)', () => {
  // Nested domains (x.svc.b.local inside b.local) probe that a peer cannot publish into another's.
  const trustDomains = [
    'b.local',
    'b.local',
    'x.svc.b.local',
    'x.svc.b.local',
    'c.local',
    'B.local',
    LOCAL,
    'cluster.local',
  ];
  const hostDomains = [...trustDomains, 'x.svc.b.local', 'x.svc.b.local', 'evil.local'];
  /** Mostly valid, sometimes garbage: rare enough that most runs still import something. */
  const sometimes = <T>(valid: fc.Arbitrary<T>, garbage: fc.Arbitrary<unknown> = fc.anything()) =>
    fc.oneof({ weight: 15, arbitrary: valid }, { weight: 1, arbitrary: garbage });
  const gateway = fc.record({
    address: sometimes(
      fc.constantFrom('192.0.2.1', '192.0.2.2', 'gw.example.com'),
      fc.constantFrom('127.0.0.1', 'bad addr', ''),
    ),
    port: sometimes(fc.constantFrom(443, 15443, 30443), fc.constantFrom(0, 65536, '443')),
  });
  const consistentPort = fc.constantFrom(
    { name: 'http', port: 80 },
    { name: 'https', port: 443, protocol: 'TLS' },
    { name: 'tcp-db', port: 5432 },
  );
  const randomPort = fc.record(
    {
      name: fc.constantFrom('', 'http', 'grpc', 'tcp-db', 'web', 'tcp-5432'),
      port: sometimes(fc.constantFrom(80, 443, 5432), fc.constantFrom(0, 65536, null)),
      protocol: sometimes(fc.constantFrom('HTTP', 'TCP', 'TLS', 'HTTP2'), fc.constant('bogus')),
    },
    { requiredKeys: ['port'] },
  );
  // Mostly the same name/protocol per port number, so that peers agree often enough to merge.
  const port = fc.oneof({ weight: 3, arbitrary: consistentPort }, { weight: 1, arbitrary: randomPort });
  const service = fc.record({
    hostname: fc
      .tuple(fc.constantFrom('web', 'db'), fc.constant('ns'), fc.constantFrom(...hostDomains))
      .map(([s, n, d]) => `${s}.${n}.svc.${d}`.toLowerCase()),
    ports: sometimes(fc.array(port, { minLength: 1, maxLength: 4 }), fc.constantFrom(null, [])),
  });
  const raw = fc.record({
    trustDomain: sometimes(fc.constantFrom(...trustDomains)),
    public: sometimes(fc.constantFrom('u1', 'u2', 'u3', 'u4', 'u5').map(pub)),
    private: sometimes(
      fc.record({
        ingressGateways: sometimes(fc.array(gateway, { maxLength: 3 }), fc.constant(null)),
        publicServices: sometimes(fc.array(service, { maxLength: 6 }), fc.constant(null)),
      }),
    ),
  });
  const federations = fc
    .uniqueArray(fc.tuple(fc.constantFrom('f1', 'f2', 'f3', 'f4', 'f5', 'f6'), raw), {
      selector: ([name]) => name,
      maxLength: 6,
    })
    .map((items) =>
      items.flatMap(([name, r]) => {
        const parsed = parseFederationSnapshot({ ...r, name });
        return parsed ? [parsed] : [];
      }),
    );

  test('the generator reaches the interesting cases', () => {
    const results = fc.sample(federations, { numRuns: 300, seed: 42 }).map((feds) => merge(feds));
    expect(results.filter((r) => r.serviceEntries.length > 0).length).toBeGreaterThan(30);
    expect(results.filter((r) => r.conflicts.length > 0).length).toBeGreaterThan(5);
    expect(
      results.filter((r) => r.serviceEntries.some((e) => e.resolution === 'DNS')).length,
    ).toBeGreaterThan(5);
    expect(
      results.filter((r) => r.refused.some((x) => x.reason === 'DuplicateTrustDomain')).length,
    ).toBeGreaterThan(5);
  });

  test('union is complete: every trusted peer that exports an entry port identically is one of its federations', () => {
    fc.assert(
      fc.property(federations, (feds) => {
        const result = merge(feds);
        const trusted = new Set(result.trustedPeers.map((p) => p.name));
        for (const f of feds) {
          if (!trusted.has(f.name) || !f.private) continue;
          const gateways = f.private.ingressGateways.filter((g) => isAcceptableGatewayAddress(g.address));
          if (gateways.length === 0) continue;
          const seenHosts = new Set<string>();
          for (const service of [...f.private.publicServices].sort((a, b) =>
            a.hostname < b.hostname ? -1 : 1,
          )) {
            if (seenHosts.has(service.hostname)) continue;
            seenHosts.add(service.hostname);
            if (hostnameProblem(service.hostname, { peerTrustDomain: f.trustDomain, ownTrustDomain: LOCAL }))
              continue;
            const seenPorts = new Set<number>();
            for (const p of service.ports) {
              if (seenPorts.has(p.port)) continue;
              seenPorts.add(p.port);
              const protocol = p.protocol ?? protocolFromPortName(p.name);
              const entry = result.serviceEntries.find(
                (e) =>
                  e.hostname === service.hostname &&
                  e.ports.some((q) => q.number === p.port && q.name === p.name && q.protocol === protocol),
              );
              if (!entry) continue;
              expect(entry.federations).toContain(f.name);
              for (const g of gateways) {
                expect(entry.endpoints).toContainEqual({
                  address: g.address,
                  ports: expect.objectContaining({ [p.name]: g.port }),
                });
              }
            }
          }
        }
      }),
      { numRuns: 200 },
    );
  });

  test('deterministic regardless of input order', () => {
    fc.assert(
      fc.property(federations, fc.func(fc.integer()), (feds, order) => {
        const shuffled = feds
          .map((f, i) => ({ f, k: order(i) }))
          .sort((a, b) => a.k - b.k)
          .map(({ f }) => f);
        expect(merge(shuffled)).toEqual(merge(feds));
      }),
      { numRuns: 200 },
    );
  });

  test('endpoints belong to exporting peers; scoped hostnames; unique (hostname, port), port names and groups; values validate', () => {
    fc.assert(
      fc.property(federations, (feds) => {
        const result = merge(feds);
        const byName = new Map(feds.map((f) => [f.name, f]));
        const trusted = new Set(result.trustedPeers.map((p) => p.name));
        const hostPorts = new Set<string>();
        const hostPortNames = new Set<string>();
        for (const entry of result.serviceEntries) {
          expect(entry.federations.length).toBeGreaterThan(0);
          const gateways = new Set(
            entry.federations.flatMap((name) => {
              expect(trusted.has(name)).toBe(true);
              const f = byName.get(name)!;
              expect(
                hostnameProblem(entry.hostname, { peerTrustDomain: f.trustDomain, ownTrustDomain: LOCAL }),
              ).toBeUndefined();
              return (f.private?.ingressGateways ?? []).map((g) => `${g.address}:${g.port}`);
            }),
          );
          for (const e of entry.endpoints) {
            expect(isAcceptableGatewayAddress(e.address)).toBe(true);
            expect(Object.keys(e.ports).sort()).toEqual(entry.ports.map((p) => p.name).sort());
            for (const port of Object.values(e.ports))
              expect(gateways.has(`${e.address}:${port}`)).toBe(true);
          }
          for (const p of entry.ports) {
            const key = `${entry.hostname}:${p.number}`;
            expect(hostPorts.has(key)).toBe(false);
            hostPorts.add(key);
            const nameKey = `${entry.hostname}:${p.name}`;
            expect(hostPortNames.has(nameKey)).toBe(false);
            hostPortNames.add(nameKey);
          }
        }
        const groups = result.serviceEntries.map((e) => `${e.hostname} ${JSON.stringify(e.endpoints)}`);
        expect(new Set(groups).size).toBe(groups.length);
        const sorted = [...result.serviceEntries].sort((a, b) =>
          a.hostname < b.hostname
            ? -1
            : a.hostname > b.hostname
              ? 1
              : a.ports[0]!.number - b.ports[0]!.number,
        );
        expect(result.serviceEntries).toEqual(sorted);
        const domains = result.trustedPeers.map((p) => p.trustDomain.toLowerCase());
        expect(new Set(domains).size).toBe(domains.length);
        expect(valuesErrors(result)).toEqual([]);
      }),
      { numRuns: 200 },
    );
  });
});

test('issue 10 item 4: a root CA read back from status reaches trust filtered and re-encoded', () => {
  const ca = pub('uuid-x').rootCA;
  const key =
    '-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIBqOuvAMLdJ9ZQ5m5YvJ2lpjtpuZP6vnMd1ODnmuAoh6\n-----END PRIVATE KEY-----\n';
  const dirty = {
    ...fed('x', 'x.local'),
    public: { ...pub('uuid-x'), rootCA: `junk\r\n${ca.replace(/\n/g, '\r\n')}${key}` },
  };
  const { peers } = selectTrustedPeers([dirty], { trustDomain: LOCAL });
  expect(peers.map((p) => p.rootCA)).toEqual([ca]);
});
