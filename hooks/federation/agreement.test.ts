import type { KubeObject } from '../../lib/hook-sdk';
import type { MetricOperation } from '../../lib/hook-sdk/types';
import { applyStatusPatches } from '../../tests/fetch/cluster';
import { CLUSTER_A_GLOBAL, clusterAHarness } from '../../tests/support/module';
import { testPublicDocument } from '../../tests/support/peer-identity';
import { createFetchMetadataHook } from './fetch-metadata';
import { createMergeHook, METRICS } from './merge-federations';

/**
 * The status the fetch hook writes and the values the merge hook writes say the same thing
 * about every federation: imported counts, ServiceEntry hosts, trust, reasons. Both hooks
 * run here as addon-operator runs them (real gojq over their own jqFilters) on the same
 * objects; the fetch hook fetches nothing (every federation waits), so it only projects.
 */

const harness = clusterAHarness();
const OUR_UUID = (CLUSTER_A_GLOBAL.discovery as { clusterUUID: string }).clusterUUID;
const NOW = new Date('2026-11-30T12:00:00Z');
const LIMITS = { maxServicesPerFederation: 2, maxServicesTotal: 3 };
const fetchHook = createFetchMetadataHook({ importLimits: LIMITS });
const mergeHook = createMergeHook({ importLimits: LIMITS });

type Port = { name: string; port: number; protocol?: string };
const service = (
  name: string,
  domain: string,
  ports: Port[] = [{ name: 'http', port: 80, protocol: 'HTTP' }],
) => ({
  hostname: `${name}.ns.svc.${domain}`,
  ports,
});
const fetched = (status: 'True' | 'False' = 'True', reason = 'Fetched') => ({
  type: 'MetadataFetched',
  status,
  reason,
  message: '',
  lastTransitionTime: '2026-11-30T11:00:00Z',
  observedGeneration: 1,
});

interface Fixture {
  name: string;
  trustDomain: string;
  uuid?: string | undefined;
  /** Replaces the public document as cached. */
  publicDocument?: unknown;
  gateways?: unknown[];
  services?: unknown[];
  /** Failing since a while: the last good data stays (stale). */
  stale?: boolean;
}

function federation(f: Fixture): KubeObject {
  const pub = f.publicDocument ?? (f.uuid ? testPublicDocument(f.uuid) : undefined);
  const hasPrivate = f.services !== undefined || f.gateways !== undefined;
  return {
    apiVersion: 'deckhouse.io/v1alpha1',
    kind: 'IstioFederation',
    metadata: { name: f.name, generation: 1 },
    spec: { trustDomain: f.trustDomain, metadataEndpoint: `https://${f.name}.example.com/metadata/` },
    status: {
      observedGeneration: 1,
      metadataCache: {
        ...(pub ? { public: pub, publicLastFetchTimestamp: '2026-11-30T11:00:00Z' } : {}),
        ...(hasPrivate
          ? {
              private: {
                ingressGateways: f.gateways ?? [{ address: '192.0.2.10', port: 15443 }],
                publicServices: f.services ?? [],
              },
              privateLastFetchTimestamp: '2026-11-30T11:00:00Z',
            }
          : {}),
      },
      conditions: [f.stale ? fetched('False', 'Unreachable') : fetched()],
      ...(f.stale
        ? {
            fetchRetry: { failures: 3, notBefore: '2026-11-30T13:00:00Z', failedEndpoint: 'x' },
            lastError: 'down',
          }
        : {}),
    },
  };
}

const FIXTURES: Record<string, Fixture[]> = {
  healthy: [
    {
      name: 'b',
      trustDomain: 'b.local',
      uuid: 'uuid-b',
      services: [service('web', 'b.local'), service('api', 'b.local')],
    },
    {
      name: 'c',
      trustDomain: 'c.local',
      uuid: 'uuid-c',
      gateways: [{ address: 'gw.c.example.com', port: 443 }],
      services: [service('db', 'c.local', [{ name: 'tcp-db', port: 5432, protocol: 'TCP' }])],
    },
    { name: 'e', trustDomain: 'e.local', uuid: 'uuid-e', services: [] },
    { name: 'g', trustDomain: 'g.local', uuid: 'uuid-g', gateways: [], services: [service('x', 'g.local')] },
  ],
  refused: [
    {
      name: 'own',
      trustDomain: 'cluster-a.local',
      uuid: 'uuid-own',
      services: [service('a', 'cluster-a.local')],
    },
    {
      name: 'default',
      trustDomain: 'cluster.local',
      uuid: 'uuid-default',
      services: [service('a', 'cluster.local')],
    },
    { name: 'b', trustDomain: 'b.local', uuid: 'uuid-b', services: [service('web', 'b.local')] },
    { name: 'b-again', trustDomain: 'B.local', uuid: 'uuid-b2', services: [service('web2', 'b.local')] },
    {
      name: 'bad-key',
      trustDomain: 'k.local',
      publicDocument: { ...testPublicDocument('uuid-k'), authnKeyPub: 'not a key' },
      services: [service('web', 'k.local')],
    },
    { name: 'no-public', trustDomain: 'n.local', services: [service('web', 'n.local')] },
  ],
  conflicting: [
    {
      name: 'impostor',
      trustDomain: 'evil.local',
      uuid: 'uuid-shared',
      services: [service('web', 'evil.local')],
    },
    { name: 'victim', trustDomain: 'v.local', uuid: 'uuid-shared', services: [service('web', 'v.local')] },
    { name: 'mirror', trustDomain: 'm.local', uuid: OUR_UUID, services: [service('web', 'm.local')] },
    { name: 'fine', trustDomain: 'f.local', uuid: 'uuid-f', services: [service('web', 'f.local')] },
  ],
  'over-limit': [
    {
      name: 'b',
      trustDomain: 'b.local',
      uuid: 'uuid-b',
      services: ['s1', 's2', 's3'].map((s) => service(s, 'b.local')),
    },
    {
      name: 'c',
      trustDomain: 'c.local',
      uuid: 'uuid-c',
      services: ['s1', 's2'].map((s) => service(s, 'c.local')),
    },
  ],
  'stale and edited': [
    { name: 'b', trustDomain: 'b.local', uuid: 'uuid-b', services: [service('web', 'b.local')], stale: true },
    {
      name: 'c',
      trustDomain: 'c.local',
      uuid: 'uuid-c',
      // Edited by hand: one bad service among good ones; the rest stays imported on both sides.
      services: [
        service('ok', 'c.local'),
        { hostname: 'bad.ns.svc.c.local', ports: [{ name: 'http', port: 0 }] },
        service('evil', 'b.local'),
      ],
      gateways: [
        { address: '127.0.0.1', port: 15443 },
        { address: '192.0.2.30', port: 15443 },
      ],
    },
  ],
};

type Condition = { type: string; status: string; reason: string };
type Status = { conditions?: Condition[]; importedServices?: number };
type Entry = { hostname: string; federations: string[] };
type Sample = { name: string; value: number; labels?: Record<string, string> };
const samples = (metrics: MetricOperation[]): Sample[] =>
  metrics.filter((m): m is MetricOperation & Sample => 'name' in m);
const metric = (metrics: Sample[], name: string, federation: string) =>
  metrics.find((m) => m.name === name && m.labels?.federation_name === federation);

describe.each(Object.entries(FIXTURES))('status and values agree: %s', (_, fixtures) => {
  let statuses: Map<string, Status>;
  let trusted: Set<string>;
  let entries: Entry[];
  let metrics: Sample[];

  beforeAll(async () => {
    const cluster = fixtures.map(federation);
    const values = { federation: { enabled: true } };
    const fetch = await harness.run(fetchHook, {
      cluster,
      trigger: 'federations',
      now: NOW,
      configValues: values,
    });
    expect(fetch.logs.filter((l) => l.level === 'error')).toEqual([]);
    const after = applyStatusPatches(cluster, fetch.kubeOperations);
    statuses = new Map(after.map((o) => [o.metadata.name, o.status as Status]));
    const merge = await harness.run(mergeHook, {
      cluster: after,
      trigger: 'federations',
      now: NOW,
      configValues: values,
    });
    const internal = (
      merge.moduleValues as {
        internal: { federation: { trustedPeers: { name: string }[]; serviceEntries: Entry[] } };
      }
    ).internal.federation;
    trusted = new Set(internal.trustedPeers.map((p) => p.name));
    entries = internal.serviceEntries;
    metrics = samples(merge.metrics);
  });

  test.each(fixtures.map((f) => f.name))('%s', (name) => {
    const status = statuses.get(name)!;
    const condition = (type: string) => status.conditions?.find((c) => c.type === type);
    const hosts = new Set(entries.filter((e) => e.federations.includes(name)).map((e) => e.hostname));
    // Imported counts and hosts.
    expect(status.importedServices).toBe(hosts.size);
    expect(metric(metrics, METRICS.importedServices, name)?.value).toBe(hosts.size);
    // What the import limit dropped: in the Services column and on the condition.
    const dropped = metric(metrics, METRICS.droppedServices, name)?.value ?? 0;
    expect((status as { services?: string }).services).toBe(
      dropped ? `${hosts.size} (${dropped} dropped)` : `${hosts.size}`,
    );
    if (dropped) expect(condition('ServicesImported')?.reason).toBe('ImportLimitReached');
    // Trust and its reason.
    expect(condition('TrustEstablished')?.status === 'True').toBe(trusted.has(name));
    const refused = metric(metrics, METRICS.refused, name);
    if (trusted.has(name)) expect(refused).toBeUndefined();
    else expect(condition('TrustEstablished')?.reason).toBe(refused?.labels?.reason);
    // Services imported means something is imported or there is nothing to import.
    if (condition('ServicesImported')?.status === 'True') expect(trusted.has(name)).toBe(true);
    if (hosts.size > 0 && !dropped) expect(condition('ServicesImported')?.status).toBe('True');
  });
});

test('the fixtures reach every kind of verdict', async () => {
  const cluster = Object.values(FIXTURES).flatMap((fs, i) =>
    fs.map((f) => federation({ ...f, name: `${i}-${f.name}` })),
  );
  const merge = await harness.run(mergeHook, {
    cluster,
    now: NOW,
    configValues: { federation: { enabled: true } },
  });
  const reasons = new Set(
    samples(merge.metrics)
      .filter((m) => m.name === METRICS.refused)
      .map((m) => m.labels?.reason),
  );
  expect([...reasons].sort()).toEqual([
    'DuplicateClusterUUID',
    'DuplicateTrustDomain',
    'InvalidPublicMetadata',
    'LocalClusterUUID',
    'NoPublicMetadata',
    'OwnTrustDomain',
    'ReservedTrustDomain',
  ]);
  expect(samples(merge.metrics).some((m) => m.name === METRICS.droppedServices && m.value > 0)).toBe(true);
});
