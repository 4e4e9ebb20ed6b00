import fc from 'fast-check';
import { MODULE_ROOT } from '../../../tests/support/module';
import { testPublicDocument } from '../../../tests/support/peer-identity';
import { moduleValidators } from '../../hook-sdk/testing';
import { readFederation, type Federation } from '../kind';
import { checkGatewayAddress } from '../../net/address';
import { hostnameScopeChecker } from '../wire/validate';
import { allConflicts, decideImports, type ImportLimits } from './verdict';

const LOCAL = 'cluster-a.local';
const NOW = new Date();
const pub = testPublicDocument;
const hostnameProblem = (hostname: string, scope: { peerTrustDomain: string; ownTrustDomain: string }) =>
  hostnameScopeChecker(scope)(hostname);
type Svc = {
  hostname: string;
  ports: { name: string; port: number; protocol?: 'HTTP' | 'HTTP2' | 'TLS' | 'TCP' }[];
};
/** A federation as written to status (raw: the reader validates it, as both hooks do). */
interface Fed {
  name: string;
  trustDomain: unknown;
  public?: unknown;
  private?: unknown;
}
const fed = (
  name: string,
  trustDomain: string,
  services: Svc[] = [],
  gateways = [{ address: '192.0.2.1', port: 15443 }],
  uuid = `uuid-${name}`,
): Fed => ({
  name,
  trustDomain,
  public: pub(uuid),
  private: { ingressGateways: gateways, publicServices: services },
});
const svc = (hostname: string, ...ports: Svc['ports']): Svc => ({ hostname, ports });
const read = (feds: readonly Fed[]): Federation[] =>
  feds.flatMap((f) => {
    const peer = readFederation(
      {
        name: f.name,
        spec: { trustDomain: f.trustDomain },
        status: { metadataCache: { public: f.public, private: f.private } },
      },
      { ownTrustDomain: LOCAL },
    );
    return peer ? [peer] : [];
  });

/** Read as the hooks read, then the verdict; flattened for assertions. */
function merge(feds: readonly Fed[], limits?: ImportLimits) {
  const peers = read(feds);
  const verdict = decideImports(
    peers.map((p) => ({
      name: p.name,
      trustDomain: p.trustDomain,
      public: p.status.metadataCache?.public,
      private: p.status.metadataCache?.private,
    })),
    { trustDomain: LOCAL, now: NOW },
    { limits },
  );
  const all = [...verdict.federations];
  return {
    trustedPeers: verdict.trustedPeers,
    serviceEntries: verdict.serviceEntries,
    refused: all.flatMap(([federation, v]) =>
      v.trust.trusted ? [] : [{ federation, reason: v.trust.reason }],
    ),
    incomplete: all
      .filter(([, v]) => v.trust.trusted && v.state !== 'Imported')
      .map(([name, v]) => [name, v.state]),
    conflicts: allConflicts(verdict),
    rejected: [...peers]
      .sort((a, b) => (a.name < b.name ? -1 : 1))
      .flatMap((p) => p.rejected.map((message) => ({ federation: p.name, message }))),
    dropped: Object.fromEntries(all.filter(([, v]) => v.dropped).map(([n, v]) => [n, v.dropped])),
    importedServices: Object.fromEntries(all.map(([n, v]) => [n, v.imported])),
  };
}
type MergeResult = ReturnType<typeof merge>;

const validators = moduleValidators(MODULE_ROOT);
function valuesErrors(result: MergeResult): string[] {
  const values = validators.values.withDefaults({
    internal: { federation: { trustedPeers: result.trustedPeers, serviceEntries: result.serviceEntries } },
  });
  return validators.values.errors(values);
}

describe('identity pinning (issue 11)', () => {
  const ids = (ns: string, ...sas: string[]) => sas.map((sa) => `spiffe://cluster-b.local/ns/${ns}/sa/${sa}`);
  test('a host with identities gets exactly them as subjectAltNames; one without stays unpinned and is counted', () => {
    const peers = read([
      fed('b', 'cluster-b.local', [
        {
          ...svc('bar.xyz.svc.cluster-b.local', { name: 'http', port: 8080 }),
          identities: ids('xyz', 'web', 'bar'),
        } as Svc,
        svc('old.xyz.svc.cluster-b.local', { name: 'http', port: 8080 }),
      ]),
    ]);
    const verdict = decideImports(
      peers.map((p) => ({
        name: p.name,
        trustDomain: p.trustDomain,
        public: p.status.metadataCache?.public,
        private: p.status.metadataCache?.private,
      })),
      { trustDomain: LOCAL, now: NOW },
    );
    expect(verdict.serviceEntries.map((e) => [e.hostname, e.subjectAltNames])).toEqual([
      ['bar.xyz.svc.cluster-b.local', ids('xyz', 'bar', 'web')],
      ['old.xyz.svc.cluster-b.local', undefined],
    ]);
    expect(verdict.serviceEntries[1]).not.toHaveProperty('subjectAltNames');
    expect(verdict.federations.get('b')).toMatchObject({ imported: 2, unpinned: 1 });
    const values = validators.values.withDefaults({
      internal: {
        federation: { trustedPeers: verdict.trustedPeers, serviceEntries: verdict.serviceEntries },
      },
    });
    expect(validators.values.errors(values)).toEqual([]);
  });
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
    expect(result.rejected.map((r) => r.message.split(' ')[1]!.replace(':', '')).sort()).toEqual([
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
    expect(result.incomplete).toEqual([
      ['loopback-gateway', 'NoGateways'],
      ['no-gateways', 'NoGateways'],
      ['no-private', 'NoPrivateMetadata'],
      ['no-services', 'NoPublicServices'],
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
    expect(result.importedServices).toEqual({ 'peer-1': 1, 'peer-2': 1 });
    expect(valuesErrors(result)).toEqual([]);
  });

  test('a service listing a port twice is refused whole; of a hostname listed twice the first valid one is used', () => {
    const result = merge([
      fed('b', 'b.local', [
        svc('a.ns.svc.b.local', { name: 'http', port: 80 }, { name: 'web', port: 80 }),
        svc('a.ns.svc.b.local', { name: 'other', port: 81 }),
        svc('a.ns.svc.b.local', { name: 'third', port: 82 }),
      ]),
    ]);
    expect(result.serviceEntries.map((e) => e.ports)).toEqual([
      [{ number: 81, name: 'other', protocol: 'TCP' }],
    ]);
    expect(result.conflicts).toEqual([]);
    expect(result.rejected.map((r) => r.message)).toEqual([
      expect.stringContaining('duplicate port 80'),
      expect.stringContaining('duplicate hostname'),
    ]);
  });

  test('ports merged into one host: a number keeps its first name and protocol, a name its first number', () => {
    // Unreachable through the reader (it refuses such services); the verdict still holds
    // the rule for any input.
    const input = {
      name: 'b',
      trustDomain: 'b.local',
      public: pub('uuid-b'),
      private: {
        ingressGateways: [{ address: '192.0.2.1', port: 15443 }],
        publicServices: [
          svc(
            'a.ns.svc.b.local',
            { name: 'http', port: 80 },
            { name: 'web', port: 80 },
            { name: 'http', port: 81 },
          ),
        ],
      },
    };
    const verdict = decideImports([input], { trustDomain: LOCAL, now: NOW });
    expect(verdict.serviceEntries[0]!.ports).toEqual([{ number: 80, name: 'http', protocol: 'HTTP' }]);
    expect(allConflicts(verdict).map((c) => c.reason)).toEqual(['DuplicatePort', 'PortNameCollision']);
    expect(verdict.federations.get('b')).toMatchObject({ imported: 1, state: 'Imported' });
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

  test('the total limit is shared fairly (max-min), not by name; within a federation by hostname (issue 10 item 8)', () => {
    const services = (td: string, n: number) =>
      Array.from({ length: n }, (_, i) =>
        svc(`s${String(i).padStart(2, '0')}.ns.svc.${td}`, { name: 'http', port: 80 }),
      );
    const feds = [
      fed('c', 'c.local', services('c.local', 3)),
      fed('a', 'a.local', services('a.local', 9)),
      fed('d', 'd.local', services('d.local', 1)),
      fed('b', 'b.local', services('b.local', 5)),
    ];
    // Per federation at most 6; 12 in total: d wants 1, c 3, b 5, a 6 (of 9). d and c get
    // all they want, b and a share the remaining 8 evenly.
    const limits = { maxServicesPerFederation: 6, maxServicesTotal: 12 };
    const result = merge(feds, limits);
    expect(result.importedServices).toEqual({ a: 4, b: 4, c: 3, d: 1 });
    expect(result.dropped).toEqual({ a: 5, b: 1 });
    expect(
      result.serviceEntries.filter((e) => e.hostname.endsWith('b.local')).map((e) => e.hostname),
    ).toEqual(['s00', 's01', 's02', 's03'].map((s) => `${s}.ns.svc.b.local`));
    expect(merge([...feds].reverse(), limits)).toEqual(result);
    // A leftover unit goes to the first by name among those still wanting more.
    expect(merge(feds, { maxServicesPerFederation: 6, maxServicesTotal: 13 }).importedServices).toEqual({
      a: 5,
      b: 4,
      c: 3,
      d: 1,
    });
  });

  test('no federations: nothing', () => {
    expect(merge([])).toEqual({
      trustedPeers: [],
      serviceEntries: [],
      refused: [],
      incomplete: [],
      conflicts: [],
      rejected: [],
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
    .map((items) => items.map(([name, r]): Fed => ({ ...r, name })));

  test('the generator reaches the interesting cases', () => {
    const results = fc.sample(federations, { numRuns: 300, seed: 42 }).map((feds) => merge(feds));
    expect(results.filter((r) => r.serviceEntries.length > 0).length).toBeGreaterThan(30);
    expect(results.filter((r) => r.rejected.length > 0).length).toBeGreaterThan(30);
    // Validated input cannot clash: scoping separates peers, the reader refuses a service
    // that names a port twice.
    expect(results.filter((r) => r.conflicts.length > 0)).toEqual([]);
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
        for (const peer of read(feds)) {
          const doc = peer.status.metadataCache?.private;
          if (!trusted.has(peer.name) || !doc || doc.ingressGateways.length === 0) continue;
          for (const service of doc.publicServices) {
            for (const p of service.ports) {
              const entry = result.serviceEntries.find(
                (e) =>
                  e.hostname === service.hostname &&
                  e.ports.some(
                    (q) => q.number === p.port && (!p.name || q.name === p.name) && q.protocol === p.protocol,
                  ),
              );
              // No limit is reached here and validated input cannot clash: every port is imported.
              expect(entry?.federations).toContain(peer.name);
              for (const g of doc.ingressGateways) {
                expect(entry!.endpoints).toContainEqual({
                  address: g.address,
                  ports: expect.objectContaining({
                    [entry!.ports.find((q) => q.number === p.port)!.name]: g.port,
                  }),
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
        const byName = new Map(read(feds).map((f) => [f.name, f]));
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
              return (f.status.metadataCache?.private?.ingressGateways ?? []).map(
                (g) => `${g.address}:${g.port}`,
              );
            }),
          );
          for (const e of entry.endpoints) {
            expect(checkGatewayAddress(e.address, { localClusterDomain: LOCAL }).ok).toBe(true);
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
