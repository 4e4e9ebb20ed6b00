import type { KubeObject } from '../../lib/hook-sdk';
import { applyJqFilter, bindingContextsFor, runCompiledHook } from '../../lib/hook-sdk/testing';
import { IMPORT_JQ_FILTER as FEDERATION_JQ_FILTER } from '../../lib/federation/kind';
import { app } from '../index';
import { clusterAHarness, hookBinary } from '../../tests/support/module';
import { testPublicDocument } from '../../tests/support/peer-identity';
import hook, { METRIC_GROUP, METRICS } from './merge-federations';

const harness = clusterAHarness();
const enabled = { federation: { enabled: true } };
const pub = testPublicDocument;

function federation(name: string, trustDomain: string, status: unknown): KubeObject {
  return {
    apiVersion: 'deckhouse.io/v1alpha1',
    kind: 'IstioFederation',
    metadata: { name, generation: 1 },
    spec: { trustDomain, metadataEndpoint: `https://istio-metadata.${name}.example.com/metadata/` },
    status,
  };
}
const cache = (uuid: string, priv: unknown) => ({
  metadataCache: {
    public: pub(uuid),
    publicLastFetchTimestamp: '2026-01-01T00:00:00Z',
    private: priv,
    privateLastFetchTimestamp: '2026-01-01T00:00:00Z',
  },
  conditions: [
    {
      type: 'Ready',
      status: 'True',
      reason: 'Fetched',
      message: '',
      lastTransitionTime: '2026-01-01T00:00:00Z',
    },
  ],
});

const cluster = [
  federation(
    'cluster-b',
    'cluster-b.local',
    cache('uuid-b', {
      ingressGateways: [{ address: '192.0.2.10', port: 15443 }],
      publicServices: [
        {
          hostname: 'bar.xyz.svc.cluster-b.local',
          ports: [
            { name: 'http', port: 8080, protocol: 'HTTP' },
            { name: 'grpc-api', port: 9090, protocol: 'HTTP2' },
          ],
          identities: ['spiffe://cluster-b.local/ns/xyz/sa/bar'],
        },
        {
          hostname: 'kube-dns.kube-system.svc.cluster-a.local',
          ports: [{ name: 'dns', port: 53, protocol: 'TCP' }],
        },
      ],
    }),
  ),
  federation(
    'cluster-c',
    'cluster-c.local',
    cache('uuid-c', {
      ingressGateways: [{ address: 'gw.cluster-c.example.com', port: 443 }],
      publicServices: [
        {
          hostname: 'db.abc.svc.cluster-c.local',
          ports: [
            { name: '', port: 5432 },
            { name: 'bad', port: 70000 },
          ],
        },
        { hostname: 'web.abc.svc.cluster-c.local', ports: [{ name: 'http', port: 80 }] },
      ],
    }),
  ),
  // Same trust domain as cluster-b: refused, reported.
  federation('cluster-d', 'cluster-b.local', cache('uuid-d', { ingressGateways: [], publicServices: [] })),
  // Our own trust domain, and a status somebody filled with garbage.
  federation('self', 'cluster-a.local', cache('uuid-a', null)),
  federation('garbage', 'cluster-g.local', { metadataCache: { public: 'nope', private: [1, 2] } }),
  federation('fresh', 'cluster-f.local', undefined),
];

type Internal = {
  internal: { federation: { trustedPeers: { name: string }[]; serviceEntries: Record<string, unknown>[] } };
};

describe('merge hook', () => {
  it('computes trusted peers and ServiceEntries from the statuses, validated against the values schema', async () => {
    const result = await harness.run(hook, { cluster, trigger: 'federations', configValues: enabled });
    const { trustedPeers, serviceEntries } = (result.moduleValues as Internal).internal.federation;
    expect(trustedPeers).toEqual([
      { name: 'cluster-b', trustDomain: 'cluster-b.local', ...pub('uuid-b') },
      { name: 'cluster-c', trustDomain: 'cluster-c.local', ...pub('uuid-c') },
    ]);
    expect(serviceEntries.map((e) => [e.hostname, e.resolution, e.ports])).toEqual([
      [
        'bar.xyz.svc.cluster-b.local',
        'STATIC',
        [
          { number: 8080, name: 'http', protocol: 'HTTP' },
          { number: 9090, name: 'grpc-api', protocol: 'HTTP2' },
        ],
      ],
      ['web.abc.svc.cluster-c.local', 'DNS', [{ number: 80, name: 'http', protocol: 'HTTP' }]],
    ]);
    expect(serviceEntries[0]!.endpoints).toEqual([
      { address: '192.0.2.10', ports: { http: 15443, 'grpc-api': 15443 } },
    ]);
    // Identity pinning (issue 11): the peer's identities, or none (unpinned, counted).
    expect(serviceEntries.map((e) => e.subjectAltNames)).toEqual([
      ['spiffe://cluster-b.local/ns/xyz/sa/bar'],
      undefined,
    ]);
    const unpinned = result.metrics.filter((m) => 'name' in m && m.name === METRICS.unpinnedServices);
    expect(
      unpinned.map((m) => ['labels' in m && m.labels?.federation_name, 'value' in m && m.value]),
    ).toEqual([
      ['cluster-b', 0],
      ['cluster-c', 1],
    ]);

    expect(result.metrics[0]).toEqual({ action: 'expire', group: METRIC_GROUP });
    const imported = result.metrics.filter((m) => 'name' in m && m.name === METRICS.importedServices);
    expect(
      imported.map((m) => ['labels' in m && m.labels?.federation_name, 'value' in m && m.value]),
    ).toEqual([
      ['cluster-b', 1],
      ['cluster-c', 1],
      ['cluster-d', 0],
      ['fresh', 0],
      ['garbage', 0],
      ['self', 0],
    ]);
    expect(imported.every((m) => m.group === METRIC_GROUP)).toBe(true);
    const refused = result.metrics.filter((m) => 'name' in m && m.name === METRICS.refused);
    expect(refused.map((m) => 'labels' in m && m.labels)).toEqual([
      { federation_name: 'cluster-d', reason: 'DuplicateTrustDomain' },
      { federation_name: 'fresh', reason: 'NoPublicMetadata' },
      { federation_name: 'garbage', reason: 'NoPublicMetadata' },
      { federation_name: 'self', reason: 'OwnTrustDomain' },
    ]);
    expect(result.logs).toContainEqual(
      expect.objectContaining({
        msg: 'ignored invalid metadata in status',
        federation: 'cluster-c',
        rejected: [expect.stringContaining('publicServices[0] db.abc.svc.cluster-c.local:')],
      }),
    );
    expect(result.logs).toContainEqual(
      expect.objectContaining({ msg: 'ignored invalid metadata in status', federation: 'garbage' }),
    );
  });

  it('a status edited to declare one port twice: the service is dropped as invalid and reported', async () => {
    // Read back from status like a fetched document (one per-item policy): the service is
    // invalid as a whole, the rest of the federation stays.
    const hostname = 'web.ns.svc.cluster-b.local';
    const result = await harness.run(hook, {
      configValues: enabled,
      cluster: [
        federation(
          'b',
          'cluster-b.local',
          cache('uuid-b', {
            ingressGateways: [{ address: '192.0.2.10', port: 15443 }],
            publicServices: [
              {
                hostname,
                ports: [
                  { name: 'http', port: 80 },
                  { name: 'tcp-web', port: 80 },
                ],
              },
            ],
          }),
        ),
      ],
    });
    expect(result.metrics.filter((m) => 'name' in m && m.name === METRICS.importConflicts)).toEqual([]);
    expect(result.logs).toContainEqual(
      expect.objectContaining({
        level: 'warn',
        msg: 'ignored invalid metadata in status',
        federation: 'b',
        rejected: [`metadataCache.private.publicServices[0] ${hostname}: duplicate port 80`],
      }),
    );
    expect((result.moduleValues as Internal).internal.federation.serviceEntries).toEqual([]);
  });

  it('writes no values patch when the result is unchanged; removes entries when federations go', async () => {
    const first = await harness.run(hook, { cluster, configValues: enabled });
    const internal = (first.moduleValues as Internal).internal;
    const again = await harness.run(hook, { cluster, values: { internal }, configValues: enabled });
    expect(again.valuesPatch).toEqual([]);
    const none = await harness.run(hook, { values: { internal }, configValues: enabled });
    expect((none.moduleValues as Internal).internal.federation).toMatchObject({
      trustedPeers: [],
      serviceEntries: [],
    });
  });

  it('the jqFilter ignores conditions and timestamps written by the fetch hook', () => {
    const a = cluster[0]!;
    const b = structuredClone(a) as KubeObject & {
      status: { conditions: unknown[]; metadataCache: Record<string, unknown> };
    };
    b.status.conditions = [];
    b.status.metadataCache.privateLastFetchTimestamp = '2026-02-01T00:00:00Z';
    b.metadata.resourceVersion = '77';
    const [ra, rb] = applyJqFilter(FEDERATION_JQ_FILTER, [a, b]);
    expect(rb).toEqual(ra);
  });

  it('while federation is disabled: nothing trusted or imported in values or metrics (issue 10 item 9)', async () => {
    const result = await harness.run(hook, { cluster, trigger: 'federations', configValues: {} });
    const { trustedPeers, serviceEntries } = (result.moduleValues as Internal).internal.federation;
    expect(trustedPeers).toEqual([]);
    expect(serviceEntries).toEqual([]);
    const imported = result.metrics.filter((m) => 'name' in m && m.name === METRICS.importedServices);
    expect(imported.map((m) => 'value' in m && m.value)).toEqual([0, 0, 0, 0, 0, 0]);
    expect(result.metrics.some((m) => 'name' in m && m.name === METRICS.refused)).toBe(false);
  });

  it('a deleted federation leaves no metric series behind', async () => {
    const result = await harness.run(hook, {
      cluster: cluster.slice(1),
      trigger: 'federations',
      configValues: enabled,
    });
    expect(result.metrics.filter((m) => 'labels' in m && m.labels?.federation_name === 'cluster-b')).toEqual(
      [],
    );
    expect(result.metrics[0]).toEqual({ action: 'expire', group: METRIC_GROUP });
  });

  it('runs in the compiled binary with the same values and metrics', async () => {
    const expected = await harness.run(hook, { cluster, configValues: enabled });
    const { values, configValues } = harness.initialValues({ configValues: enabled });
    const result = runCompiledHook(hookBinary(), app.hooks.indexOf(hook), {
      contexts: bindingContextsFor(hook, cluster, 'federations'),
      values,
      configValues,
    });
    expect(result.stderr).toBe('');
    expect(result.exitCode).toBe(0);
    expect(harness.applyAndValidate(values, result.valuesPatch).moduleValues).toEqual(expected.moduleValues);
    expect(result.metrics).toEqual(expected.metrics);
  });
});
