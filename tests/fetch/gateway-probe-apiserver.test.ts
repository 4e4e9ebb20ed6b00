// status.gatewayProbe on a real kube-apiserver with the module's IstioFederation CRD: the
// probe hook's status patch (run through HookHarness with a fake dialler: nothing is dialled)
// is stored as written (the CRD declares it, nothing pruned) and touches nothing else; the
// fetch hook, reading the stored object through its own jqFilter, projects GatewayReachable
// and its patch keeps gatewayProbe; removing the record leaves the conditions.
// Needs etcd and kube-apiserver (tools/upstream, cached); ISTIO_FED_E2E=0 skips it.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { GatewayTarget, ProbeResult } from '../../lib/check/gateway-probe';
import { moduleCrds } from '../../lib/crds/module-crds';
import type { KubeObject as HookObject } from '../../lib/hook-sdk';
import type { KubeOperation } from '../../lib/hook-sdk/types';
import { createFetchMetadataHook } from '../../hooks/federation/fetch-metadata';
import { createProbeGatewaysHook, PROBE_TICK } from '../../hooks/federation/probe-gateways';
import { startApiServer, startEtcd } from '../../tools/e2e/control-plane';
import { resourcePath, type KubeApi } from '../../tools/e2e/kube-api';
import { stopAll } from '../../tools/e2e/processes';
import { ensureUpstreamTools } from '../../tools/e2e/tools';
import { pollUntil } from '../../tools/e2e/wait';
import { clusterAHarness } from '../support/module';
import { testPublicDocument } from '../support/peer-identity';

const enabled = process.env.ISTIO_FED_E2E !== '0';
const maybe = enabled ? describe : describe.skip;
const log = (line: string) => process.stderr.write(`[gatewayProbe status] ${line}\n`);
const COLLECTION = '/apis/deckhouse.io/v1alpha1/istiofederations';
const CRD_PATH = resourcePath('apiextensions.k8s.io/v1', 'customresourcedefinitions', {
  name: 'istiofederations.deckhouse.io',
});
const NOW = new Date('2026-11-30T12:00:00Z');
const harness = clusterAHarness();
const values = { federation: { enabled: true } };

type Status = { conditions?: { type: string; status: string; reason: string }[]; [key: string]: unknown };

maybe('status.gatewayProbe on a real kube-apiserver', () => {
  let dir: string;
  let api: KubeApi;

  beforeAll(async () => {
    const tools = await ensureUpstreamTools(log);
    dir = mkdtempSync(join(tmpdir(), 'gateway-probe-status-'));
    const etcd = await startEtcd(tools.etcd, dir);
    const apiServer = await startApiServer({
      binary: tools.kubeApiserver,
      name: 'probe',
      dir: join(dir, 'apiserver'),
      etcdUrl: etcd.url,
      serviceCidr: '10.98.0.0/16',
    });
    api = apiServer.api;
    await api.apply(
      CRD_PATH,
      moduleCrds().find((c) => c.metadata.name === 'istiofederations.deckhouse.io')!,
    );
    await pollUntil(
      async () => {
        const crd = await api.get<{ status?: { conditions?: { type: string; status: string }[] } }>(CRD_PATH);
        return crd?.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')
          ? true
          : undefined;
      },
      { what: 'IstioFederation CRD established', timeoutMs: 60_000, intervalMs: 200 },
    );
  }, 30 * 60_000);

  afterAll(async () => {
    await stopAll();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  const stored = async (): Promise<HookObject> => (await api.get<HookObject>(`${COLLECTION}/cluster-b`))!;
  const apply = async (operations: readonly KubeOperation[]): Promise<void> => {
    // Status patches only (the fetch hook's Events are not this test's concern).
    for (const op of operations.filter((o) => o.operation !== 'CreateIfNotExists')) {
      if (op.operation !== 'MergePatch' || op.subresource !== 'status') throw new Error(JSON.stringify(op));
      await api.mergePatch(`${COLLECTION}/${op.name}/status`, op.mergePatch as Record<string, unknown>);
    }
  };
  const refused = (target: GatewayTarget): Promise<ProbeResult> =>
    Promise.resolve({
      target,
      dialed: target,
      alive: false,
      stage: 'refused',
      error: `connect ECONNREFUSED ${target.address}:${target.port}`,
    });

  test('the probe record is stored whole, touches nothing else, and survives the fetch hook', async () => {
    await api.create(COLLECTION, {
      apiVersion: 'deckhouse.io/v1alpha1',
      kind: 'IstioFederation',
      metadata: { name: 'cluster-b' },
      // Loopback, closed port: the fetch hook waits here anyway (cached and current).
      spec: { trustDomain: 'cluster-b.local', metadataEndpoint: 'https://127.0.0.1:9/metadata/' },
    });
    const at = '2026-11-30T11:59:58Z';
    await api.mergePatch(`${COLLECTION}/cluster-b/status`, {
      status: {
        observedGeneration: 1,
        metadataCache: {
          public: testPublicDocument('uuid-b'),
          publicLastFetchTimestamp: at,
          private: {
            ingressGateways: [{ address: '10.0.0.2', port: 15443 }],
            publicServices: [
              {
                hostname: 'bar.xyz.svc.cluster-b.local',
                ports: [{ name: 'http', port: 80, protocol: 'HTTP' }],
              },
            ],
          },
          privateLastFetchTimestamp: at,
        },
        conditions: [
          { type: 'MetadataFetched', status: 'True', reason: 'Fetched', message: '', lastTransitionTime: at },
        ],
      },
    });
    const before = (await stored()).status as Status;

    const probe = await harness.run(createProbeGatewaysHook({ probe: refused }), {
      cluster: [await stored()],
      trigger: PROBE_TICK,
      now: NOW,
      values,
    });
    expect(probe.kubeOperations).toHaveLength(1);
    await apply(probe.kubeOperations);
    const probed = (await stored()).status as Status;
    expect(probed.gatewayProbe).toEqual({
      reachable: 0,
      total: 1,
      failing: [{ address: '10.0.0.2', port: 15443, error: 'refused: connect ECONNREFUSED 10.0.0.2:15443' }],
      since: '2026-11-30T12:00:00Z',
    });
    const { gatewayProbe: _record, ...rest } = probed;
    expect(rest).toEqual(before);

    const fetchHook = createFetchMetadataHook();
    const fetch = await harness.run(fetchHook, {
      cluster: [await stored()],
      trigger: 'federations',
      now: NOW,
      values,
    });
    await apply(fetch.kubeOperations);
    const projected = (await stored()).status as Status;
    expect(projected.gatewayProbe).toEqual(probed.gatewayProbe);
    expect(projected.conditions?.find((c) => c.type === 'GatewayReachable')).toMatchObject({
      status: 'False',
      reason: 'GatewayUnreachable',
    });
    expect(projected.conditions?.find((c) => c.type === 'Ready')).toMatchObject({ status: 'True' });
    // Steady state on the stored object: neither hook writes again.
    const probeAgain = await harness.run(createProbeGatewaysHook({ probe: refused }), {
      cluster: [await stored()],
      trigger: PROBE_TICK,
      now: new Date(NOW.getTime() + 30_000),
      values,
    });
    expect(probeAgain.kubeOperations).toEqual([]);
    const fetchAgain = await harness.run(fetchHook, {
      cluster: [await stored()],
      trigger: 'federations',
      now: NOW,
      values,
    });
    expect(fetchAgain.kubeOperations).toEqual([]);

    // Removing the record (null) removes only it.
    await api.mergePatch(`${COLLECTION}/cluster-b/status`, { status: { gatewayProbe: null } });
    const cleared = (await stored()).status as Status;
    expect(cleared.gatewayProbe).toBeUndefined();
    expect(cleared.conditions).toEqual(projected.conditions);
  });
});
