// The IstioMulticluster CRD and its admission policy on a real kube-apiserver: the CRD is
// accepted (structural schema), defaults apply, the status subresource and printer
// columns work, and creation is refused exactly while the chart renders the policy.
// (Not in tests/schemas: that directory runs in `npm run test:unit`, without upstream tools.)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { moduleCrds } from '../../lib/crds/module-crds';
import { startApiServer, startEtcd, type ApiServer } from '../../tools/e2e/control-plane';
import { resourcePath, type KubeApi, type KubeObject } from '../../tools/e2e/kube-api';
import { stopAll } from '../../tools/e2e/processes';
import { ensureUpstreamTools } from '../../tools/e2e/tools';
import { pollUntil } from '../../tools/e2e/wait';
import { FULL_SCENARIO, scenarioValues } from '../helm/fixtures';
import { render } from '../helm/render';

const log = (line: string) => process.stderr.write(`[multicluster CRD] ${line}\n`);
const COLLECTION = '/apis/deckhouse.io/v1alpha1/istiomulticlusters';
const CRD_PATH = resourcePath('apiextensions.k8s.io/v1', 'customresourcedefinitions', {
  name: 'istiomulticlusters.deckhouse.io',
});

let dir: string;
let apiServer: ApiServer;
let api: KubeApi;

const object = (name: string): KubeObject => ({
  apiVersion: 'deckhouse.io/v1alpha1',
  kind: 'IstioMulticluster',
  metadata: { name },
  spec: { metadataEndpoint: 'https://istio-metadata.b.example.com/metadata/' },
});

beforeAll(async () => {
  const tools = await ensureUpstreamTools(log);
  dir = mkdtempSync(join(tmpdir(), 'multicluster-crd-'));
  const etcd = await startEtcd(tools.etcd, dir);
  apiServer = await startApiServer({
    binary: tools.kubeApiserver,
    name: 'crd',
    dir: join(dir, 'apiserver'),
    etcdUrl: etcd.url,
    serviceCidr: '10.97.0.0/16',
  });
  api = apiServer.api;
  const crd = moduleCrds().find((c) => c.metadata.name === 'istiomulticlusters.deckhouse.io')!;
  await api.apply(CRD_PATH, crd);
  await pollUntil(
    async () => {
      const current = await api.get<{ status?: { conditions?: { type: string; status: string }[] } }>(
        CRD_PATH,
      );
      return current?.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')
        ? true
        : undefined;
    },
    { what: 'IstioMulticluster CRD established', timeoutMs: 60_000, intervalMs: 200 },
  );
}, 30 * 60_000);

afterAll(async () => {
  await stopAll();
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 60_000);

test('an object gets its defaults, its status through /status, and printer columns', async () => {
  const created = await api.create<{ spec: Record<string, unknown>; metadata: { generation: number } }>(
    COLLECTION,
    object('cluster-b'),
  );
  expect(created.spec).toEqual({
    metadataEndpoint: 'https://istio-metadata.b.example.com/metadata/',
    enableIngressGateway: true,
  });
  // Status is ignored on the main resource (status subresource) ...
  await api.mergePatch(`${COLLECTION}/cluster-b`, { status: { lastError: 'ignored' } });
  expect((await api.get<{ status?: unknown }>(`${COLLECTION}/cluster-b`))?.status).toBeUndefined();
  // ... and written through /status, newer document keys preserved.
  const at = '2026-11-30T06:00:00Z';
  await api.mergePatch(`${COLLECTION}/cluster-b/status`, {
    status: {
      observedGeneration: created.metadata.generation,
      metadataCache: {
        private: {
          apiHost: 'istio-api-proxy.b.example.com',
          networkName: 'network-cluster-local-42',
          ingressGateways: [{ address: '203.0.113.5', port: 15443 }],
          clusterID: 'cluster-local-42',
        },
        privateLastFetchTimestamp: at,
      },
      conditions: [
        { type: 'Joined', status: 'True', reason: 'Joined', message: '', lastTransitionTime: at },
        {
          type: 'RemoteAPIReachable',
          status: 'True',
          reason: 'RemoteAPIReachable',
          message: '',
          lastTransitionTime: at,
        },
        { type: 'Ready', status: 'False', reason: 'TrustPending', message: 'x', lastTransitionTime: at },
      ],
    },
  });
  const stored = await api.get<{ status: { metadataCache: { private: Record<string, unknown> } } }>(
    `${COLLECTION}/cluster-b`,
  );
  expect(stored?.status.metadataCache.private.clusterID).toBe('cluster-local-42');
  const table = await api.table(COLLECTION);
  expect(table.columns).toEqual([
    'Name',
    'Ready',
    'Reason',
    'Joined',
    'API',
    'Network',
    'API Host',
    'Last Fetch',
    'Age',
  ]);
  expect(table.rows[0]!.slice(0, 7)).toEqual([
    'cluster-b',
    'False',
    'TrustPending',
    'True',
    'True',
    'network-cluster-local-42',
    'istio-api-proxy.b.example.com',
  ]);
});

test('the apiserver refuses an invalid spec', async () => {
  const bad = { ...object('bad'), spec: { metadataEndpoint: 'http://x/metadata/' } };
  await expect(api.create(COLLECTION, bad)).rejects.toThrow(/HTTP 422/);
});

test('while multicluster is disabled the rendered policy refuses creation; enabled, it is gone', async () => {
  const disabled = await render(scenarioValues(FULL_SCENARIO));
  const policies = disabled.filter((o) => o.metadata.name === 'd8-istio-multicluster-disabled');
  expect(policies.map((o) => o.kind).sort()).toEqual([
    'ValidatingAdmissionPolicy',
    'ValidatingAdmissionPolicyBinding',
  ]);
  const plural = (kind: string) =>
    kind === 'ValidatingAdmissionPolicy'
      ? 'validatingadmissionpolicies'
      : 'validatingadmissionpolicybindings';
  for (const policy of policies) {
    await api.apply(
      resourcePath('admissionregistration.k8s.io/v1', plural(policy.kind), { name: policy.metadata.name }),
      policy,
    );
  }
  // Policies take effect asynchronously: poll until a creation is refused.
  const refusal = await pollUntil(
    async () => {
      const res = await api.raw('POST', COLLECTION, JSON.stringify(object('refused')), {
        'Content-Type': 'application/json',
      });
      if (res.status === 201) {
        await api.delete(`${COLLECTION}/refused`);
        return undefined;
      }
      return res;
    },
    { what: 'creation refused by the policy', timeoutMs: 30_000, intervalMs: 200 },
  );
  expect(refusal.status).toBe(403);
  expect(JSON.parse(refusal.body)).toMatchObject({
    reason: 'Forbidden',
    message: expect.stringContaining('multicluster.enabled=true'),
  });
  // Updates are not checked (as in the reference): existing objects stay manageable.
  await api.mergePatch(`${COLLECTION}/cluster-b`, { spec: { enableIngressGateway: false } });
  // With multicluster enabled the chart no longer renders the policy (Helm deletes it).
  const enabledValues = scenarioValues(FULL_SCENARIO);
  enabledValues.istio.multicluster = { enabled: true };
  expect(
    (await render(enabledValues)).filter((o) => o.metadata.name === 'd8-istio-multicluster-disabled'),
  ).toEqual([]);
  for (const policy of policies) {
    await api.delete(
      resourcePath('admissionregistration.k8s.io/v1', plural(policy.kind), { name: policy.metadata.name }),
    );
  }
  await pollUntil(
    async () => {
      const res = await api.raw('POST', COLLECTION, JSON.stringify(object('allowed')), {
        'Content-Type': 'application/json',
      });
      return res.status === 201 ? true : undefined;
    },
    { what: 'creation allowed again', timeoutMs: 30_000, intervalMs: 200 },
  );
});
