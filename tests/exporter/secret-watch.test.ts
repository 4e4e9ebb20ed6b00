// The compiled exporter watching its documents Secret on a REAL kube-apiserver (+ etcd), with
// a token of the service account the chart renders and the chart's own Role and RoleBinding:
// create, update, invalid data, delete, recreate; watches ended by the API server every
// 2 s (--watch-timeout) are resumed; an API server that goes away leaves the documents served.
//
// Needs etcd and kube-apiserver (tools/upstream, cached); ISTIO_FED_E2E=0 skips it.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startApiServer, startEtcd, type ApiServer, type Etcd } from '../../tools/e2e/control-plane';
import { exporterKubeconfig } from '../../tools/e2e/exporter';
import { KubeApi, resourcePath, type KubeObject } from '../../tools/e2e/kube-api';
import { pollUntil } from '../../tools/e2e/wait';
import { FULL_SCENARIO, scenarioValues } from '../helm/fixtures';
import { findObject, render } from '../helm/render';
import { request, startExporterWithArgs, type RunningExporter } from './exporter-process';
import { eddsaToken, referenceClaims } from './tokens';
import {
  documentFiles,
  multiclusterFiles,
  testCluster,
  type DocumentFiles,
  type MulticlusterFiles,
  type TestCluster,
} from './fixtures';

const enabled = process.env.ISTIO_FED_E2E !== '0';
const maybe = enabled ? describe : describe.skip;

const NAMESPACE = 'd8-istio';
const SECRET = 'd8-istio-federation-documents';
const SECRETS = resourcePath('v1', 'secrets', { namespace: NAMESPACE });
const SECRET_PATH = resourcePath('v1', 'secrets', { namespace: NAMESPACE, name: SECRET });
const WAIT_MS = 30_000;
const ROOT = join(__dirname, '..', '..');

/** etcd / kube-apiserver from the cache (built by tools/upstream/*.sh the first time). */
function upstreamBinary(envName: string, script: string): string {
  const preset = process.env[envName];
  if (preset && existsSync(preset)) return preset;
  const output = execFileSync('bash', [join(ROOT, 'tools', 'upstream', script)], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    timeout: 60 * 60_000,
    env: { ...process.env, PATH: `${process.env.PATH ?? ''}:/usr/local/go/bin` },
  });
  return output.trim().split('\n').pop() ?? '';
}

const empty = { ingressGateways: [], publicServices: [] };

function secretObject(files: Partial<DocumentFiles & MulticlusterFiles>): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: SECRET, namespace: NAMESPACE },
    data: Object.fromEntries(
      Object.entries(files).map(([key, value]) => [key, Buffer.from(value, 'utf8').toString('base64')]),
    ),
  };
}

maybe('exporter --documents-secret on a real kube-apiserver', () => {
  let dir: string;
  let etcd: Etcd | undefined;
  let apiServer: ApiServer | undefined;
  let exporter: RunningExporter | undefined;
  let saToken: string;

  const servedClusterUUID = async (): Promise<string | undefined> => {
    const res = await request(exporter!.port, '/metadata/public/public.json');
    return res.status === 200 ? (JSON.parse(res.body) as { clusterUUID: string }).clusterUUID : undefined;
  };
  const metric = async (pattern: RegExp): Promise<number> => {
    const text = (await request(exporter!.port, '/metrics')).body;
    const match = pattern.exec(text);
    return match ? Number(match[1]) : NaN;
  };
  /** Polls until `cluster` is served; returns milliseconds since `since`. */
  const waitServed = async (cluster: TestCluster, since: number, what: string): Promise<number> => {
    await pollUntil(async () => ((await servedClusterUUID()) === cluster.clusterUUID ? true : undefined), {
      what,
      timeoutMs: WAIT_MS,
      intervalMs: 20,
      describe: () => exporter!.rawOutput.slice(-3000),
    });
    return Date.now() - since;
  };

  const serviceAccountToken = async (name: string): Promise<string> => {
    const { status } = await apiServer!.api.create<{ status: { token: string } }>(
      resourcePath('v1', 'serviceaccounts', { namespace: NAMESPACE, name, subresource: 'token' }),
      {
        apiVersion: 'authentication.k8s.io/v1',
        kind: 'TokenRequest',
        metadata: { name },
        spec: { expirationSeconds: 3600 },
      },
    );
    return status.token;
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'exporter-watch-'));
    const etcdBinary = upstreamBinary('ETCD', 'etcd.sh');
    const apiServerBinary = upstreamBinary('KUBE_APISERVER', 'kube-apiserver.sh');
    etcd = await startEtcd(etcdBinary, dir);
    apiServer = await startApiServer({
      binary: apiServerBinary,
      name: 'watch',
      dir: join(dir, 'apiserver'),
      etcdUrl: etcd.url,
      serviceCidr: '10.96.0.0/16',
    });
    const api = apiServer.api;
    await api.apply(resourcePath('v1', 'namespaces', { name: NAMESPACE }), {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: NAMESPACE },
    });
    // The chart's own ServiceAccount, Role and RoleBinding, as Helm renders them.
    const objects = await render(scenarioValues(FULL_SCENARIO));
    const rbac: [string, string, string][] = [
      ['ServiceAccount', 'v1', 'serviceaccounts'],
      ['Role', 'rbac.authorization.k8s.io/v1', 'roles'],
      ['RoleBinding', 'rbac.authorization.k8s.io/v1', 'rolebindings'],
    ];
    for (const [kind, apiVersion, plural] of rbac) {
      const object = findObject(objects, kind, 'metadata-exporter');
      if (!object) throw new Error(`${kind}/metadata-exporter not rendered`);
      await api.create(resourcePath(apiVersion, plural, { namespace: NAMESPACE }), object);
    }
    saToken = await serviceAccountToken('metadata-exporter');
    const kubeconfig = join(dir, 'exporter.kubeconfig');
    writeFileSync(kubeconfig, exporterKubeconfig(apiServer.connection, saToken), { mode: 0o600 });
    exporter = await startExporterWithArgs([
      '--documents-secret',
      `${NAMESPACE}/${SECRET}`,
      '--kubeconfig',
      kubeconfig,
      '--watch-timeout',
      '2',
    ]);
  }, 65 * 60_000);

  afterAll(async () => {
    await exporter?.stop();
    await apiServer?.process.stop();
    await etcd?.process.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const local = testCluster('local.test');
  const renamed = testCluster('renamed.test');
  const recreated = testCluster('recreated.test');
  const peer = testCluster('peer.test');

  test('the service account may read that Secret only', async () => {
    const asExporter = new KubeApi({ ...apiServer!.connection, token: saToken });
    const other = resourcePath('v1', 'secrets', { namespace: NAMESPACE, name: 'other' });
    await apiServer!.api.create(SECRETS, {
      ...secretObject({}),
      metadata: { name: 'other', namespace: NAMESPACE },
    });
    await expect(asExporter.get(other)).rejects.toMatchObject({ status: 403 });
    await expect(asExporter.list(SECRETS)).rejects.toMatchObject({ status: 403 });
    await expect(
      asExporter.list(resourcePath('v1', 'secrets', { namespace: 'default' })),
    ).rejects.toMatchObject({ status: 403 });
    // Listing by name is allowed (and finds nothing yet).
    const byName = await asExporter.raw('GET', `${SECRETS}?fieldSelector=metadata.name%3D${SECRET}`);
    expect(byName.status).toBe(200);
  });

  test('before the Secret exists: not ready, says why', async () => {
    await exporter!.waitForLog((r) => r.msg === 'documents rejected, none loaded yet');
    expect(exporter!.logs.find((r) => r.msg === 'documents rejected, none loaded yet')?.error).toBe(
      `Secret ${NAMESPACE}/${SECRET} not found`,
    );
    expect((await request(exporter!.port, '/healthz')).status).toBe(503);
  });

  test('created, then updated: each version is served', async () => {
    const created = Date.now();
    await apiServer!.api.create(SECRETS, secretObject(documentFiles(local, empty, [peer])));
    const createMs = await waitServed(local, created, 'created Secret served');
    expect((await request(exporter!.port, '/healthz')).status).toBe(200);

    const updated = Date.now();
    await apiServer!.api.apply(SECRET_PATH, secretObject(documentFiles(renamed, empty, [peer])));
    const updateMs = await waitServed(renamed, updated, 'updated Secret served');
    process.stderr.write(`[secret-watch] create -> served ${createMs} ms, update -> served ${updateMs} ms\n`);
  });

  test('watches the API server ends are resumed from the last version, without a new list', async () => {
    const closed = await metric(/secret_watch_ends_total\{reason="closed"\} (\d+)/);
    await pollUntil(
      async () =>
        (await metric(/secret_watch_ends_total\{reason="closed"\} (\d+)/)) >= closed + 2 ? true : undefined,
      { what: 'two more watches ended by the API server', timeoutMs: WAIT_MS },
    );
    const updated = Date.now();
    await apiServer!.api.apply(SECRET_PATH, secretObject(documentFiles(local, empty, [peer])));
    await waitServed(local, updated, 'update after resumed watches served');
    expect(await metric(/secret_lists_total\{result="success"\} (\d+)/)).toBe(1);
    expect(await metric(/secret_watch_ends_total\{reason="failed"\} (\d+)/)).toBe(0);
  });

  test('invalid data, then deletion: the last valid set stays served and ready; failures counted', async () => {
    const failures = await metric(/document_reloads_total\{result="failure"\} (\d+)/);
    await apiServer!.api.apply(
      SECRET_PATH,
      secretObject({ ...documentFiles(renamed, empty, []), 'public.json': '[]' }),
    );
    await pollUntil(
      async () =>
        (await metric(/document_reloads_total\{result="failure"\} (\d+)/)) > failures ? true : undefined,
      { what: 'invalid Secret counted', timeoutMs: WAIT_MS },
    );
    expect(await servedClusterUUID()).toBe(local.clusterUUID);

    const logged = exporter!.logs.length;
    await apiServer!.api.delete(SECRET_PATH);
    const deleted = await exporter!.waitForLog(
      (r) =>
        r.msg === 'documents rejected, serving the previous set' &&
        r.error === `Secret ${NAMESPACE}/${SECRET} deleted`,
      WAIT_MS,
      logged,
    );
    expect(deleted.level).toBe('warn');
    expect(await servedClusterUUID()).toBe(local.clusterUUID);
    expect((await request(exporter!.port, '/healthz')).status).toBe(200);
    expect(await metric(/documents_loaded (\d+)/)).toBe(1);
    expect(await metric(/document_reloads_total\{result="failure"\} (\d+)/)).toBe(failures + 2);

    const recreatedAt = Date.now();
    await apiServer!.api.create(SECRETS, secretObject(documentFiles(recreated, empty, [])));
    await waitServed(recreated, recreatedAt, 'recreated Secret served');
  });

  test('an account that may list but not watch: documents served, the failing watch backs off', async () => {
    const name = 'list-only';
    const api = apiServer!.api;
    await api.create(resourcePath('v1', 'serviceaccounts', { namespace: NAMESPACE }), {
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: { name, namespace: NAMESPACE },
    });
    await api.create(resourcePath('rbac.authorization.k8s.io/v1', 'roles', { namespace: NAMESPACE }), {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { name, namespace: NAMESPACE },
      rules: [{ apiGroups: [''], resources: ['secrets'], resourceNames: [SECRET], verbs: ['get', 'list'] }],
    });
    await api.create(resourcePath('rbac.authorization.k8s.io/v1', 'rolebindings', { namespace: NAMESPACE }), {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name, namespace: NAMESPACE },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
      subjects: [{ kind: 'ServiceAccount', name, namespace: NAMESPACE }],
    });
    const kubeconfig = join(dir, `${name}.kubeconfig`);
    writeFileSync(kubeconfig, exporterKubeconfig(apiServer!.connection, await serviceAccountToken(name)), {
      mode: 0o600,
    });
    const listOnly = await startExporterWithArgs([
      '--documents-secret',
      `${NAMESPACE}/${SECRET}`,
      '--kubeconfig',
      kubeconfig,
    ]);
    try {
      await listOnly.waitForLog((r) => r.msg === 'documents loaded', WAIT_MS);
      const res = await request(listOnly.port, '/metadata/public/public.json');
      expect(JSON.parse(res.body)).toMatchObject({ clusterUUID: recreated.clusterUUID });
      const isWatchFailure = (r: { msg: string }): boolean => r.msg === 'watch failed';
      for (let n = 1; n <= 3; n++) {
        await listOnly.waitForLog((r) => isWatchFailure(r) && r.failures === n, WAIT_MS);
      }
      const failed = listOnly.logs.filter(isWatchFailure);
      expect(failed[0]?.error).toMatch(/^HTTP 403/);
      // Each list succeeds, yet the delay doubles: 250 ms, 500 ms, 1 s (minus <= 20 % jitter).
      expect(failed.slice(0, 3).map((r) => r.failures)).toEqual([1, 2, 3]);
      expect(failed[2]!.retryInMs as number).toBeGreaterThan(failed[1]!.retryInMs as number);
      expect(failed[1]!.retryInMs as number).toBeGreaterThan(failed[0]!.retryInMs as number);
    } finally {
      await listOnly.stop();
    }
  });

  test('the multicluster keys: served by a multicluster exporter, ignored by a federation one', async () => {
    const mcFiles = (apiHost: string) =>
      multiclusterFiles(
        { ingressGateways: [{ address: '192.0.2.7', port: 15443 }], apiHost, networkName: 'n-1' },
        [peer],
      );
    await apiServer!.api.apply(
      SECRET_PATH,
      secretObject({ ...documentFiles(recreated, empty, [peer]), ...mcFiles('api-1.example.com') }),
    );
    const kubeconfig = join(dir, 'exporter.kubeconfig');
    const multicluster = await startExporterWithArgs([
      '--documents-secret',
      `${NAMESPACE}/${SECRET}`,
      '--kubeconfig',
      kubeconfig,
      '--private-documents',
      'multicluster',
    ]);
    try {
      const apiHost = async (): Promise<string | undefined> => {
        const token = eddsaToken(
          peer.keypair.priv,
          referenceClaims(recreated.clusterUUID, peer.clusterUUID, undefined, 'private-multicluster'),
        );
        const res = await request(multicluster.port, '/metadata/private/multicluster.json', {
          headers: { Authorization: `Bearer ${token}` },
        });
        return res.status === 200 ? (JSON.parse(res.body) as { apiHost: string }).apiHost : undefined;
      };
      const served = (expected: string, what: string) =>
        pollUntil(async () => ((await apiHost()) === expected ? true : undefined), {
          what,
          timeoutMs: WAIT_MS,
          intervalMs: 20,
          describe: () => multicluster.rawOutput.slice(-3000),
        });
      await served('api-1.example.com', 'multicluster.json served from the Secret');
      await apiServer!.api.apply(
        SECRET_PATH,
        secretObject({ ...documentFiles(recreated, empty, [peer]), ...mcFiles('api-2.example.com:8443') }),
      );
      await served('api-2.example.com:8443', 'updated multicluster.json served');
      // The federation exporter on the same Secret still serves its set, without multicluster.json.
      expect(await servedClusterUUID()).toBe(recreated.clusterUUID);
      expect((await request(exporter!.port, '/metadata/private/multicluster.json')).status).toBe(404);
    } finally {
      await multicluster.stop();
    }
  });

  test('the API server goes away: documents still served, the failed watch and lists are retried', async () => {
    await apiServer!.process.stop();
    await pollUntil(
      async () => ((await metric(/secret_lists_total\{result="failure"\} (\d+)/)) >= 2 ? true : undefined),
      {
        what: 'lists failing and retried',
        timeoutMs: WAIT_MS,
        describe: () => exporter!.rawOutput.slice(-3000),
      },
    );
    expect(exporter!.logs.some((r) => r.msg === 'list failed' && typeof r.retryInMs === 'number')).toBe(true);
    expect(await servedClusterUUID()).toBe(recreated.clusterUUID);
    expect((await request(exporter!.port, '/healthz')).status).toBe(200);
    // The token never reaches the logs.
    expect(exporter!.rawOutput).not.toContain(saToken);
  });
});
