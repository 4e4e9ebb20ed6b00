import type { KubeObject } from '../../lib/hook-sdk';
import type { GatewayTarget, ProbeOptions, ProbeResult } from '../../lib/check/gateway-probe';
import { GATEWAY_PROBE_METRICS, isDocumentationAddress } from '../../lib/check/gateway-probes';
import { bindingContextsFor, runCompiledHook } from '../../lib/hook-sdk/testing';
import { applyStatusPatches, statusOf } from '../../tests/fetch/cluster';
import { prunedStatusPaths } from '../../tests/support/crd-schema';
import { testPublicDocument } from '../../tests/support/peer-identity';
import { clusterAHarness, hookBinary } from '../../tests/support/module';
import { app } from '../index';
import { createFetchMetadataHook } from './fetch-metadata';
import { createProbeGatewaysHook, PROBE_METRICS_GROUP, PROBE_TICK } from './probe-gateways';

const harness = clusterAHarness();
const BAR = 'bar.xyz.svc.cluster-b.local';

const federation = (
  name: string,
  domain: string,
  gateways: { address: string; port: number }[],
): KubeObject => ({
  apiVersion: 'deckhouse.io/v1alpha1',
  kind: 'IstioFederation',
  metadata: { name },
  spec: { trustDomain: domain, metadataEndpoint: `https://${name}.example.com/metadata/` },
  status: {
    metadataCache: {
      public: testPublicDocument(`${name}-uuid`),
      private: {
        ingressGateways: gateways,
        publicServices: [
          { hostname: `bar.xyz.svc.${domain}`, ports: [{ name: 'http', port: 8080, protocol: 'HTTP' }] },
        ],
      },
    },
  },
});

/** A dialler that never dials: `dead` addresses are refused, the rest answer TLS. */
function fakeProbe(
  dialled: { target: GatewayTarget; sni?: string }[],
  dead: readonly string[] = ['10.0.0.2'],
) {
  return (target: GatewayTarget, options: ProbeOptions): Promise<ProbeResult> => {
    dialled.push({ target, ...(options.sni ? { sni: options.sni } : {}) });
    const alive = !dead.includes(target.address);
    return Promise.resolve({
      target,
      dialed: target,
      alive,
      stage: alive ? 'handshake' : 'refused',
      ...(alive
        ? { connectMs: 4, handshakeMs: 6 }
        : { error: `connect ECONNREFUSED ${target.address}:${target.port}` }),
    });
  };
}

const statusPatch = (name: string, gatewayProbe: unknown) => ({
  operation: 'MergePatch',
  apiVersion: 'deckhouse.io/v1alpha1',
  kind: 'IstioFederation',
  name,
  subresource: 'status',
  ignoreMissingObject: true,
  mergePatch: { status: { gatewayProbe } },
});

test('isDocumentationAddress: RFC 5737 and RFC 3849 only', () => {
  expect(['192.0.2.1', '198.51.100.10', '203.0.113.20', '2001:db8::1'].map(isDocumentationAddress)).toEqual([
    true,
    true,
    true,
    true,
  ]);
  expect(['10.0.0.1', '203.0.114.1', 'gw.example.com', '2001:db9::1'].map(isDocumentationAddress)).toEqual([
    false,
    false,
    false,
    false,
  ]);
});

describe('gateway probe hook', () => {
  it('dials each gateway with the federation SNI on the schedule and exports up and latency per address', async () => {
    const dialled: { target: GatewayTarget; sni?: string }[] = [];
    const hook = createProbeGatewaysHook({ probe: fakeProbe(dialled) });
    const result = await harness.run(hook, {
      cluster: [
        federation('cluster-b', 'cluster-b.local', [
          { address: '10.0.0.1', port: 15443 },
          { address: '10.0.0.2', port: 15443 },
          { address: '203.0.113.20', port: 15443 },
        ]),
      ],
      trigger: PROBE_TICK,
      now: new Date('2026-11-30T12:00:00Z'),
      values: { federation: { enabled: true } },
    });
    expect(dialled).toEqual([
      { target: { address: '10.0.0.1', port: 15443 }, sni: `outbound_.8080_._.${BAR}` },
      { target: { address: '10.0.0.2', port: 15443 }, sni: `outbound_.8080_._.${BAR}` },
    ]);
    const labels = (address: string) => ({ federation_name: 'cluster-b', address, port: '15443' });
    expect(result.metrics).toEqual([
      { action: 'expire', group: PROBE_METRICS_GROUP },
      {
        name: GATEWAY_PROBE_METRICS.up,
        action: 'set',
        value: 1,
        labels: labels('10.0.0.1'),
        group: PROBE_METRICS_GROUP,
      },
      {
        name: GATEWAY_PROBE_METRICS.connectSeconds,
        action: 'set',
        value: 0.004,
        labels: labels('10.0.0.1'),
        group: PROBE_METRICS_GROUP,
      },
      {
        name: GATEWAY_PROBE_METRICS.handshakeSeconds,
        action: 'set',
        value: 0.006,
        labels: labels('10.0.0.1'),
        group: PROBE_METRICS_GROUP,
      },
      {
        name: GATEWAY_PROBE_METRICS.up,
        action: 'set',
        value: 0,
        labels: labels('10.0.0.2'),
        group: PROBE_METRICS_GROUP,
      },
    ]);
    expect(result.valuesPatch).toEqual([]);
    expect(result.kubeOperations).toMatchObject([
      statusPatch('cluster-b', {
        reachable: 1,
        total: 2,
        failing: [
          { address: '10.0.0.2', port: 15443, error: 'refused: connect ECONNREFUSED 10.0.0.2:15443' },
        ],
        since: '2026-11-30T12:00:00Z',
      }),
    ]);
  });

  describe('status.gatewayProbe: written only when the result changes', () => {
    const T = (seconds: number) => new Date(Date.parse('2026-11-30T12:00:00Z') + seconds * 1000);
    const gateways = [
      { address: '10.0.0.1', port: 15443 },
      { address: '10.0.0.2', port: 15443 },
    ];
    const tick = (cluster: KubeObject[], now: Date, dead: readonly string[]) =>
      harness.run(createProbeGatewaysHook({ probe: fakeProbe([], dead) }), {
        cluster,
        trigger: PROBE_TICK,
        now,
        values: { federation: { enabled: true } },
      });

    it('a change writes the whole record; the same result 30 s later writes nothing; recovery moves `since`', async () => {
      let cluster = [federation('cluster-b', 'cluster-b.local', gateways)];
      const first = await tick(cluster, T(0), ['10.0.0.2']);
      expect(first.kubeOperations).toHaveLength(1);
      cluster = applyStatusPatches(cluster, first.kubeOperations);
      const recorded = statusOf(cluster, 'cluster-b');
      // Declared in the CRD (the API server would prune it), and the cache is untouched.
      expect(prunedStatusPaths(recorded)).toEqual([]);
      expect(recorded.metadataCache).toEqual(
        (federation('cluster-b', 'cluster-b.local', gateways).status as { metadataCache: unknown })
          .metadataCache,
      );
      for (const seconds of [30, 60, 90])
        expect((await tick(cluster, T(seconds), ['10.0.0.2'])).kubeOperations).toEqual([]);
      const healed = await tick(cluster, T(120), []);
      expect(healed.kubeOperations).toEqual([
        statusPatch('cluster-b', { reachable: 2, total: 2, failing: [], since: '2026-11-30T12:02:00Z' }),
      ]);
      cluster = applyStatusPatches(cluster, healed.kubeOperations);
      expect(statusOf(cluster, 'cluster-b').gatewayProbe).toEqual({
        reachable: 2,
        total: 2,
        failing: [],
        since: '2026-11-30T12:02:00Z',
      });
      expect((await tick(cluster, T(150), [])).kubeOperations).toEqual([]);
    });

    it('documentation addresses only, or no cached gateways: no record; a stale one is removed once', async () => {
      const docOnly = federation('doc-only', 'doc.local', [{ address: '203.0.113.20', port: 15443 }]);
      const noCache: KubeObject = { ...federation('no-cache', 'none.local', []), status: {} };
      expect((await tick([docOnly, noCache], T(0), [])).kubeOperations).toEqual([]);
      const stale = {
        ...docOnly,
        status: {
          ...(docOnly.status as object),
          gatewayProbe: { reachable: 0, total: 1, failing: [], since: '2026-11-30T11:00:00Z' },
        },
      };
      const removed = await tick([stale, noCache], T(30), []);
      expect(removed.kubeOperations).toEqual([statusPatch('doc-only', null)]);
      const after = applyStatusPatches([stale, noCache], removed.kubeOperations);
      expect(statusOf(after, 'doc-only').gatewayProbe).toBeUndefined();
      expect((await tick(after, T(60), [])).kubeOperations).toEqual([]);
    });
  });

  it('disabled federation: no dial, the series are expired', async () => {
    const dialled: { target: GatewayTarget }[] = [];
    const result = await harness.run(createProbeGatewaysHook({ probe: fakeProbe(dialled) }), {
      cluster: [federation('cluster-b', 'cluster-b.local', [{ address: '10.0.0.1', port: 15443 }])],
      trigger: PROBE_TICK,
      values: { federation: { enabled: false } },
    });
    expect(dialled).toEqual([]);
    expect(result.metrics).toEqual([{ action: 'expire', group: PROBE_METRICS_GROUP }]);
  });

  it('runs in the compiled executable (documentation addresses only: nothing dialled, a stale record removed)', () => {
    const hook = app.hooks.find((h) => h.name === 'federation/probe-gateways')!;
    const { values, configValues } = harness.initialValues({ values: { federation: { enabled: true } } });
    const docOnly = federation('cluster-b', 'cluster-b.local', [{ address: '203.0.113.20', port: 15443 }]);
    const stale = {
      ...federation('cluster-c', 'cluster-c.local', [{ address: '203.0.113.30', port: 15443 }]),
    };
    stale.status = {
      ...(stale.status as object),
      gatewayProbe: {
        reachable: 0,
        total: 1,
        failing: [{ address: '10.0.0.3', port: 15443, error: 'refused' }],
        since: '2026-11-30T11:00:00Z',
      },
    };
    const result = runCompiledHook(hookBinary(), app.hooks.indexOf(hook), {
      contexts: bindingContextsFor(hook, [docOnly, stale], PROBE_TICK),
      values,
      configValues,
    });
    expect(result.stderr).toBe('');
    expect(result.exitCode).toBe(0);
    expect(result.metrics).toEqual([{ action: 'expire', group: PROBE_METRICS_GROUP }]);
    expect(result.kubeOperations).toEqual([statusPatch('cluster-c', null)]);
  });
});

test('the fetch hook projects GatewayReachable from the probe record (its own jqFilter) and never removes it', async () => {
  const NOW = new Date('2026-11-30T12:00:00Z');
  const base = federation('cluster-b', 'cluster-b.local', [{ address: '10.0.0.2', port: 15443 }]);
  const cached = base.status as { metadataCache: Record<string, unknown> };
  // A cached, current federation: the fetch hook waits (no dial; a loopback endpoint anyway).
  const fed: KubeObject = {
    ...base,
    metadata: { name: 'cluster-b', generation: 1 },
    spec: { trustDomain: 'cluster-b.local', metadataEndpoint: 'https://127.0.0.1:9/metadata/' },
    status: {
      observedGeneration: 1,
      metadataCache: {
        ...cached.metadataCache,
        publicLastFetchTimestamp: '2026-11-30T11:59:58Z',
        privateLastFetchTimestamp: '2026-11-30T11:59:58Z',
      },
      conditions: [
        {
          type: 'MetadataFetched',
          status: 'True',
          reason: 'Fetched',
          message: '',
          lastTransitionTime: '2026-11-30T11:00:00Z',
          observedGeneration: 1,
        },
      ],
    },
  };
  const probe = await harness.run(createProbeGatewaysHook({ probe: fakeProbe([], ['10.0.0.2']) }), {
    cluster: [fed],
    trigger: PROBE_TICK,
    now: NOW,
    values: { federation: { enabled: true } },
  });
  let cluster = applyStatusPatches([fed], probe.kubeOperations);
  const record = statusOf(cluster, 'cluster-b').gatewayProbe;
  expect(record).toMatchObject({ reachable: 0, total: 1 });
  const fetchHook = createFetchMetadataHook();
  const fetch = await harness.run(fetchHook, {
    cluster,
    trigger: 'federations',
    now: NOW,
    values: { federation: { enabled: true } },
  });
  const patches = fetch.kubeOperations.filter((o) => o.operation === 'MergePatch');
  expect(patches).toHaveLength(1);
  // The transition is also a Warning Event (status/events.ts).
  expect(
    fetch.kubeOperations
      .flatMap((o) =>
        o.operation === 'CreateIfNotExists' ? [o.object as unknown as { type: string; reason: string }] : [],
      )
      .filter((e) => e.reason === 'GatewayUnreachable')
      .map((e) => e.type),
  ).toEqual(['Warning']);
  cluster = applyStatusPatches(cluster, patches);
  const status = statusOf(cluster, 'cluster-b') as { conditions: Record<string, unknown>[] };
  const condition = (type: string) => status.conditions.find((c) => c.type === type);
  expect(condition('GatewayReachable')).toMatchObject({ status: 'False', reason: 'GatewayUnreachable' });
  expect(condition('GatewayReachable')?.message).toContain(
    '10.0.0.2:15443 (refused: connect ECONNREFUSED 10.0.0.2:15443)',
  );
  expect(condition('Ready')).toMatchObject({ status: 'True' });
  expect(statusOf(cluster, 'cluster-b').gatewayProbe).toEqual(record);
  expect(prunedStatusPaths(statusOf(cluster, 'cluster-b'))).toEqual([]);
  // Nothing changed since: neither hook writes.
  const again = await harness.run(fetchHook, {
    cluster,
    trigger: 'federations',
    now: NOW,
    values: { federation: { enabled: true } },
  });
  expect(again.kubeOperations).toEqual([]);
});
