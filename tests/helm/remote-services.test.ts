// The packed ServiceEntry/DestinationRule layout, rendered by real Helm: it must mean
// exactly what the values say, stay within the CRD limits whatever hostnames a peer
// sends, and touch only the object of a host that changed.
import { createHash } from 'node:crypto';
import { FULL_SCENARIO, scenarioValues } from './fixtures';
import { importedServices } from './generate';
import { destinationRuleHostFor, destinationRules, expectedImports, renderedImports } from './imports';
import { objectKey, render, type JsonObject, type KubeObject } from './render';
import { validationProblems } from './validate';

type Entry = JsonObject & { hostname: string };

function valuesWithEntries(entries: JsonObject[]) {
  const values = structuredClone(scenarioValues(FULL_SCENARIO));
  (values.istio.internal as { federation: JsonObject }).federation.serviceEntries = entries;
  return values;
}

const serviceEntries = (objects: KubeObject[]) => objects.filter((o) => o.kind === 'ServiceEntry');
const hostsOf = (o: KubeObject) => (o.spec as { hosts: string[] }).hosts;

/** Entries with the same ports and gateways as `like`, for hosts whose sha256 starts with '0'. */
function collidingEntries(count: number, like: Entry): Entry[] {
  const entries: Entry[] = [];
  for (let i = 0; entries.length < count && i < count * 64; i++) {
    const hostname = `collide-${i}.crafted.svc.cluster-00.local`;
    if (!createHash('sha256').update(hostname).digest('hex').startsWith('0')) continue;
    entries.push({ ...like, hostname });
  }
  if (entries.length < count) throw new Error('not enough colliding hostnames');
  return entries;
}

const BASE = importedServices(600, 3) as unknown as Entry[];
const [first] = BASE;
if (!first) throw new Error('no generated services');
// A host whose ports are split over two gateway sets appears in two entries.
const SPLIT_HOST: Entry = {
  ...first,
  ports: [{ number: 7070, name: 'tcp-extra', protocol: 'TCP' }],
  endpoints: [{ address: 'gw.cluster-00.example.net', ports: { 'tcp-extra': 443 } }],
  resolution: 'DNS',
};
// Not of the <service>.<namespace>.svc.<domain> shape: needs its own DestinationRule.
const ODD_HOST: Entry = { ...first, hostname: 'api.partner.example' };
const ENTRIES: Entry[] = [...BASE, SPLIT_HOST, ODD_HOST];
const NEW_SERVICE: Entry = {
  ...first,
  hostname: 'brand-new.team-00.svc.cluster-00.local',
};

const isTcp = (e: Entry) => (e.ports as { protocol: string }[]).some((p) => p.protocol === 'TCP');
const TCP_LIKE = BASE.find(isTcp);
if (!TCP_LIKE) throw new Error('no generated TCP service');
const TCP_HOSTS = new Set(ENTRIES.filter(isTcp).map((e) => e.hostname));

let base: KubeObject[];
let withNewService: KubeObject[];
let withoutOne: KubeObject[];
let crafted: KubeObject[];
let craftedTcp: KubeObject[];

beforeAll(async () => {
  [base, withNewService, withoutOne, crafted, craftedTcp] = await Promise.all([
    render(valuesWithEntries(ENTRIES)),
    render(valuesWithEntries([...ENTRIES, NEW_SERVICE])),
    render(valuesWithEntries(ENTRIES.filter((e) => e !== BASE[300]))),
    render(valuesWithEntries(collidingEntries(300, first))),
    render(valuesWithEntries(collidingEntries(40, TCP_LIKE))),
  ]);
});

test('the rendered imports are exactly the values entries', () => {
  expect(renderedImports(base)).toEqual(expectedImports(ENTRIES));
  expect(renderedImports(crafted)).toHaveLength(300);
});

test('services are packed: far fewer objects than entries, each within the CRD limits', () => {
  const packed = serviceEntries(base);
  expect(packed.length).toBeLessThan(ENTRIES.length / 2);
  for (const serviceEntry of packed) {
    const hosts = hostsOf(serviceEntry);
    expect(hosts.length).toBeLessThanOrEqual(256);
    expect([...hosts].sort()).toEqual(hosts);
    expect(new Set(hosts).size).toBe(hosts.length);
  }
  const keys = base.map(objectKey);
  expect(new Set(keys).size).toBe(keys.length);
  expect(base.flatMap(validationProblems)).toEqual([]);
});

test('a ServiceEntry with a TCP port holds exactly one host (istiod refuses more)', () => {
  expect(TCP_HOSTS.size).toBeGreaterThan(100);
  const tcpObjects = serviceEntries(base).filter((o) =>
    (o.spec as { ports: { protocol: string }[] }).ports.some((p) => p.protocol === 'TCP'),
  );
  expect(tcpObjects.flatMap(hostsOf).sort()).toEqual([...TCP_HOSTS].sort());
  expect(tcpObjects.filter((o) => hostsOf(o).length !== 1).map(objectKey)).toEqual([]);
  // Same ports, same gateways, same first hash digit: still one object per host.
  expect(serviceEntries(craftedTcp).map((o) => hostsOf(o).length)).toEqual(Array(40).fill(1));
  expect(renderedImports(craftedTcp)).toHaveLength(40);
  expect(craftedTcp.flatMap(validationProblems)).toEqual([]);
});

test('hostnames crafted into one bucket are split at 256 hosts and stay valid', () => {
  const sizes = serviceEntries(crafted)
    .map((o) => hostsOf(o).length)
    .sort((a, b) => b - a);
  expect(sizes).toEqual([256, 44]);
  expect(crafted.flatMap(validationProblems)).toEqual([]);
});

test('every imported host gets ISTIO_MUTUAL from one rule per remote domain (or its own)', () => {
  const rules = destinationRules(base);
  const hosts = rules.map((r) => r.host);
  expect(hosts.sort()).toEqual([
    '*.svc.cluster-00.local',
    '*.svc.cluster-01.local',
    '*.svc.cluster-02.local',
    'api.partner.example',
  ]);
  for (const entry of ENTRIES) {
    const chosen = destinationRuleHostFor(entry.hostname, hosts);
    expect({ host: entry.hostname, chosen: chosen !== undefined }).toEqual({
      host: entry.hostname,
      chosen: true,
    });
  }
  for (const rule of rules) expect(rule.spec.trafficPolicy).toEqual({ tls: { mode: 'ISTIO_MUTUAL' } });
});

function changedObjects(before: KubeObject[], after: KubeObject[]): string[] {
  const index = (objects: KubeObject[]) => new Map(objects.map((o) => [objectKey(o), JSON.stringify(o)]));
  const a = index(before);
  const b = index(after);
  const keys = new Set([...a.keys(), ...b.keys()]);
  return [...keys].filter((k) => a.get(k) !== b.get(k)).sort();
}

test('adding or removing one service touches only the object that holds its host', () => {
  const added = changedObjects(base, withNewService);
  expect(added).toHaveLength(1);
  expect(added[0]).toMatch(/^ServiceEntry\//);
  const holder = withNewService.find((o) => objectKey(o) === added[0]);
  expect(holder && hostsOf(holder)).toContain(NEW_SERVICE.hostname);

  const removed = changedObjects(base, withoutOne);
  expect(removed).toHaveLength(1);
  expect(removed[0]).toMatch(/^ServiceEntry\//);
});

test('the same values render the same names', async () => {
  const again = await render(valuesWithEntries(ENTRIES));
  expect(again.map(objectKey)).toEqual(base.map(objectKey));
});

test('identities (subjectAltNames) are rendered on the ServiceEntry and keep differently pinned hosts apart', async () => {
  const spiffe = (sa: string) => `spiffe://cluster-00.local/ns/team-00/sa/${sa}`;
  const pinnedA: Entry = {
    ...first,
    hostname: 'pin-a.team-00.svc.cluster-00.local',
    subjectAltNames: [spiffe('a')],
  };
  const pinnedA2: Entry = {
    ...first,
    hostname: 'pin-a2.team-00.svc.cluster-00.local',
    subjectAltNames: [spiffe('a')],
  };
  const pinnedB: Entry = {
    ...first,
    hostname: 'pin-b.team-00.svc.cluster-00.local',
    subjectAltNames: [spiffe('b2'), spiffe('b1'), spiffe('b1')],
  };
  const objects = await render(valuesWithEntries([first, pinnedA, pinnedA2, pinnedB]));
  const entries = serviceEntries(objects);
  const holding = (hostname: string) => entries.filter((o) => hostsOf(o).includes(hostname));
  const sans = (o: KubeObject | undefined) =>
    (o?.spec as { subjectAltNames?: string[] } | undefined)?.subjectAltNames;
  for (const host of [first.hostname, pinnedA.hostname, pinnedA2.hostname, pinnedB.hostname]) {
    expect(holding(host)).toHaveLength(1);
  }
  expect(sans(holding(pinnedA.hostname)[0])).toEqual([spiffe('a')]);
  expect(sans(holding(pinnedB.hostname)[0])).toEqual([spiffe('b1'), spiffe('b2')]);
  // The same identities share a packing key (imported-<key>-<bucket>-<chunk>); different ones, or none, never do.
  const packingKey = (host: string) => holding(host)[0]?.metadata.name.split('-')[1];
  expect(packingKey(pinnedA2.hostname)).toBe(packingKey(pinnedA.hostname));
  expect(packingKey(pinnedB.hostname)).not.toBe(packingKey(pinnedA.hostname));
  expect(packingKey(first.hostname)).not.toBe(packingKey(pinnedA.hostname));
  expect(holding(first.hostname)[0]?.spec).not.toHaveProperty('subjectAltNames');
  // An unpinned entry keeps its object name.
  const baseName = serviceEntries(base).find((o) => hostsOf(o).includes(first.hostname))?.metadata.name;
  expect(holding(first.hostname)[0]?.metadata.name.replace(/-\d+$/, '')).toBe(baseName?.replace(/-\d+$/, ''));
  for (const entry of entries) expect(validationProblems(entry)).toEqual([]);
});

test('values with an identity that is not a SPIFFE URI never reach Helm', async () => {
  await expect(
    render(valuesWithEntries([{ ...first, subjectAltNames: ['cluster-00.local/ns/team-00/sa/a'] }])),
  ).rejects.toThrow(/subjectAltNames/);
});

describe('provenance: every imported object is labelled with its federation (issue 13)', () => {
  const LABEL = 'federation.istio.deckhouse.io/federation';
  const labelOf = (o: KubeObject) => (o.metadata as { labels?: Record<string, string> }).labels?.[LABEL];
  const imported = (objects: KubeObject[]) =>
    objects.filter((o) => o.kind === 'ServiceEntry' || o.kind === 'DestinationRule');
  const federationOfHost = new Map(ENTRIES.map((e) => [e.hostname, (e.federations as string[])[0]]));

  test('ServiceEntries carry the federation of all their hosts, DestinationRules that of their domain', () => {
    for (const se of serviceEntries(base)) {
      const owners = new Set(hostsOf(se).map((h) => federationOfHost.get(h)));
      expect(owners.size).toBe(1);
      expect(labelOf(se)).toBe([...owners][0]);
    }
    const rules = base.filter((o) => o.kind === 'DestinationRule');
    expect(rules.length).toBeGreaterThan(0);
    for (const rule of rules) {
      const host = (rule.spec as { host: string }).host;
      const owners = new Set(
        ENTRIES.filter((e) => destinationRuleHostFor(e.hostname, [host]) === host).map((e) =>
          federationOfHost.get(e.hostname),
        ),
      );
      expect(owners.size).toBe(1);
      expect(labelOf(rule)).toBe([...owners][0]);
    }
  });

  test('two peers publishing the very same gateways never share a packed ServiceEntry', async () => {
    const like = BASE.find((e) => !isTcp(e))!;
    // Hosts of both peers in the same hash bucket, so that only the federation keeps them apart.
    const bucket = (host: string) => createHash('sha256').update(host).digest('hex')[0];
    const inBucket = (peer: string, count: number): Entry[] => {
      const entries: Entry[] = [];
      for (let i = 0; entries.length < count && i < 1000; i++) {
        const hostname = `s${i}.ns.svc.${peer}.local`;
        if (bucket(hostname) === '0') entries.push({ ...like, hostname, federations: [peer] });
      }
      return entries;
    };
    const entries = [...inBucket('peer-one', 2), ...inBucket('peer-two', 1)];
    expect(entries).toHaveLength(3);
    const objects = imported(await render(valuesWithEntries(entries)));
    const se = serviceEntries(objects);
    expect(se.map((o) => [labelOf(o), hostsOf(o).length]).sort()).toEqual([
      ['peer-one', 2],
      ['peer-two', 1],
    ]);
    for (const o of se) expect(hostsOf(o).every((h) => h.endsWith(`.${labelOf(o)}.local`))).toBe(true);
    expect(
      objects
        .filter((o) => o.kind === 'DestinationRule')
        .map((o) => labelOf(o))
        .sort(),
    ).toEqual(['peer-one', 'peer-two']);
  });

  test('no label when an object has several federations or the name is no label value', async () => {
    const like = BASE.find((e) => !isTcp(e))!;
    const long = `f${'x'.repeat(70)}`;
    const entries: Entry[] = [
      { ...like, hostname: 'a.ns.svc.shared.local', federations: ['one', 'two'] },
      { ...like, hostname: 'a.ns.svc.long.local', federations: [long] },
    ];
    const objects = imported(await render(valuesWithEntries(entries)));
    expect(objects.length).toBe(4);
    for (const o of objects) expect(labelOf(o)).toBeUndefined();
    for (const o of objects) expect(validationProblems(o)).toEqual([]);
  });
});
