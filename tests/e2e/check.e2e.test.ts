// `istio-federation check` against the real e2e clusters (two kube-apiservers, two
// addon-operators running dist/module, two exporters on 127.0.0.1): healthy, every check
// passes; then broken in ways an admin meets (a peer that does not know us, a wrong istiod
// CLUSTER_ID, a dead gateway, a stopped peer exporter), each failing with its hint.
// Its own clusters (the harness of tools/e2e), apart from federation.e2e.test.ts.
//
// Gateway addresses in the scenario are documentation ranges (203.0.113.20, 198.51.100.10):
// never dialled. Each cluster's gateway is played by a TLS stand-in on 127.0.0.1 that the
// check reaches with --connect-to, as an admin would through a tunnel.
//
// Set ISTIO_FED_E2E=0 to skip.
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Cluster } from '../../tools/e2e/cluster';
import { resourcePath } from '../../tools/e2e/kube-api';
import {
  A_ADVERTISED,
  BAR,
  BAR_PORTS,
  B_LOAD_BALANCER_IP,
  FOO,
  FOO_PORTS,
  GATEWAY_TLS_PORT,
  STEP_TIMEOUT_MS,
  createFederations,
  enableFederation,
  federationPath,
  isReady,
  publishServices,
  startClusters,
  stopRun,
  waitForCondition,
  waitForImportedService,
  type FederationRun,
} from '../../tools/e2e/scenario';
import { ensureUpstreamTools, HOOK_BINARY } from '../../tools/e2e/tools';
import { pollUntil } from '../../tools/e2e/wait';
import { istioClusterId } from '../../lib/istio/cluster-id';
import type { CheckResult } from '../../lib/check/result';
import { startGatewayStandIn, type GatewayStandIn } from '../support/gateway-stand-in';

const enabled = process.env.ISTIO_FED_E2E !== '0';
const maybe = enabled ? describe : describe.skip;
const TOOL_BUILD_TIMEOUT_MS = 75 * 60_000;
const STEP_TEST_TIMEOUT_MS = 4 * STEP_TIMEOUT_MS;

const log = (line: string): void => {
  process.stderr.write(`[e2e check] ${line}\n`);
};

interface CheckRun {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

function runBinary(args: string[], env: Record<string, string> = {}): Promise<CheckRun> {
  const started = performance.now();
  return new Promise((resolve) => {
    execFile(
      HOOK_BINARY,
      args,
      { timeout: 60_000, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env } },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        resolve({ code, stdout, stderr, ms: performance.now() - started });
      },
    );
  });
}

function runShell(script: string, env: Record<string, string>): Promise<CheckRun> {
  const started = performance.now();
  return new Promise((resolve) => {
    execFile(
      'sh',
      ['-c', script],
      { timeout: 30_000, env: { PATH: process.env.PATH ?? '', ...env } },
      (error, stdout, stderr) =>
        resolve({
          code: error ? (typeof error.code === 'number' ? error.code : -1) : 0,
          stdout,
          stderr,
          ms: performance.now() - started,
        }),
    );
  });
}

maybe('istio-federation check against two local clusters', () => {
  let run: FederationRun | undefined;
  const gateways: Partial<Record<'a' | 'b', GatewayStandIn>> = {};
  const figures: Record<string, number> = {};
  const current = (): FederationRun => {
    if (!run) throw new Error('the clusters did not start (see beforeAll)');
    return run;
  };

  /** check's arguments for one cluster: its kubeconfig, its exporter as the metadata URL, the peer gateway via its stand-in. */
  const checkArgs = (
    cluster: Cluster,
    peerGateway: { address: string; port: number },
    standIn: GatewayStandIn,
  ) => {
    const caFile = join(cluster.dir, 'exporter-ca.pem');
    writeFileSync(caFile, cluster.exporter.caPem);
    return [
      '--kubeconfig',
      cluster.apiServer.kubeconfigPath,
      '--metadata-url',
      cluster.exporter.endpoint,
      '--metadata-ca',
      caFile,
      '--connect-to',
      `${peerGateway.address}:${peerGateway.port}:127.0.0.1:${standIn.port}`,
    ];
  };
  const checkA = (...extra: string[]) =>
    runBinary([
      'check',
      ...checkArgs(current().a, { address: B_LOAD_BALANCER_IP, port: GATEWAY_TLS_PORT }, gateways.b!),
      ...extra,
    ]);
  const checkB = (...extra: string[]) =>
    runBinary(['check', ...checkArgs(current().b, A_ADVERTISED, gateways.a!), ...extra]);
  const results = (r: CheckRun): CheckResult[] => {
    try {
      return (JSON.parse(r.stdout) as { results: CheckResult[] }).results;
    } catch {
      throw new Error(`check printed no JSON (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
    }
  };
  const find = (rs: CheckResult[], scope: string, id: string): CheckResult[] =>
    rs.filter((r) => r.scope === scope && r.id === id);

  /** A kubelet and deployment controller would report the exporter ready; the harness runs it as a process. */
  const reportExporterReady = async (cluster: Cluster): Promise<void> => {
    await cluster.api.mergePatch(
      `${resourcePath('apps/v1', 'deployments', { namespace: 'd8-istio', name: 'metadata-exporter' })}/status`,
      { status: { replicas: 1, readyReplicas: 1, availableReplicas: 1, updatedReplicas: 1 } },
    );
  };

  beforeAll(async () => {
    await ensureUpstreamTools(log);
  }, TOOL_BUILD_TIMEOUT_MS);

  afterAll(async () => {
    await Promise.allSettled(Object.values(gateways).map((g) => g.close()));
    await stopRun(run, process.env.ISTIO_FED_E2E_KEEP === '1');
    log(`figures (ms): ${JSON.stringify(figures)}`);
  }, 120_000);

  test(
    'healthy clusters (the scenario up to both imports): every check passes, exit 0',
    async () => {
      run = await startClusters({ log, keepRunDir: process.env.ISTIO_FED_E2E_KEEP === '1' });
      // Steps 1-5 of the scenario, up to both imports and Ready (what check verifies).
      await enableFederation(run);
      await publishServices(run);
      await createFederations(run);
      await waitForImportedService(run, run.a, {
        hostname: BAR.hostname,
        ports: BAR_PORTS,
        gateways: [{ address: B_LOAD_BALANCER_IP, port: GATEWAY_TLS_PORT }],
      });
      await waitForImportedService(run, run.b, {
        hostname: FOO.hostname,
        ports: FOO_PORTS,
        gateways: [A_ADVERTISED],
      });
      await waitForCondition(run, run.a, 'cluster-b', isReady, 'Ready=True');
      await waitForCondition(run, run.b, 'cluster-a', isReady, 'Ready=True');
      gateways.a = await startGatewayStandIn();
      gateways.b = await startGatewayStandIn();
      await Promise.all([reportExporterReady(run.a), reportExporterReady(run.b)]);

      const text = await checkA();
      log(`check in cluster-a (${text.ms.toFixed(0)} ms, exit ${text.code}):\n${text.stdout}${text.stderr}`);
      figures.checkHealthyMs = Math.round(text.ms);
      expect(text.code).toBe(0);
      expect(text.stdout).toMatch(/\d+ passed, 0 failed/);

      for (const [name, check, peer] of [
        ['cluster-a', checkA, 'peer cluster-b'],
        ['cluster-b', checkB, 'peer cluster-a'],
      ] as const) {
        const r = await check('--json');
        const rs = results(r);
        expect({ name, code: r.code }).toStrictEqual({ name, code: 0 });
        // Nothing fails or warns; only istiod (no Deployment here) is skipped.
        expect(rs.filter((x) => x.status !== 'pass').map((x) => `${x.id}:${x.status}`)).toStrictEqual([
          'istiod:skip',
        ]);
        expect(rs.filter((x) => x.scope === peer).map((x) => x.id)).toStrictEqual([
          'peer.public-document',
          'peer.private-document',
          'peer.accepted-by-us',
          'peer.status',
          'peer.gateway',
          'peer.service-entries',
        ]);
      }
      // The gateway dial carried a federation SNI naming a service of the peer.
      expect(gateways.b.snis.at(-1)).toMatch(/^outbound_\.(8080|9090)_\._\.bar\.xyz\.svc\.cluster-b\.local$/);
      expect(gateways.a.snis.at(-1)).toBe('outbound_.80_._.foo.abc.svc.cluster-a.local');

      // check token: a ready-to-run request that the peer answers with its private document.
      const token = await runBinary([
        'check',
        'token',
        '--peer',
        'cluster-b',
        '--kubeconfig',
        run.a.apiServer.kubeconfigPath,
      ]);
      expect(token.code).toBe(0);
      const curl = await runShell(token.stdout, { TMPDIR: run.a.dir });
      expect(curl.stdout).toContain('"publicServices"');
      expect(curl.stdout).toContain('bar.xyz.svc.cluster-b.local');
      expect(curl.stdout.trim().split('\n').at(-1)).toBe('HTTP 200');
    },
    STEP_TEST_TIMEOUT_MS + TOOL_BUILD_TIMEOUT_MS,
  );

  test(
    'a peer that does not know us (its IstioFederation deleted) and a wrong istiod CLUSTER_ID: fail with hints',
    async () => {
      const r = current();
      // istiod with a CLUSTER_ID other than the module's.
      await r.a.api.create(resourcePath('apps/v1', 'deployments', { namespace: 'd8-istio' }), {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'istiod', namespace: 'd8-istio', labels: { app: 'istiod' } },
        spec: {
          selector: { matchLabels: { app: 'istiod' } },
          template: {
            metadata: { labels: { app: 'istiod' } },
            spec: {
              containers: [
                {
                  name: 'discovery',
                  image: 'istio/pilot:1.30.3',
                  env: [
                    { name: 'SHARED_MESH_CONFIG', value: 'd8-istio-federation-mesh-config' },
                    { name: 'ISTIO_MULTIROOT_MESH', value: 'true' },
                    { name: 'CLUSTER_ID', value: 'Kubernetes' },
                  ],
                },
              ],
            },
          },
        },
      });
      // B forgets A: its exporter stops accepting A's token once B re-renders its documents.
      await r.b.api.delete(federationPath('cluster-a'));
      const started = Date.now();
      const broken = await pollUntil(
        async () => {
          const c = await checkA('--json', '--peer', 'cluster-b');
          const priv = find(results(c), 'peer cluster-b', 'peer.private-document')[0];
          return priv?.status === 'fail' ? { c, priv } : undefined;
        },
        {
          what: "cluster-a's check sees cluster-b refuse its token",
          timeoutMs: STEP_TIMEOUT_MS,
          intervalMs: 1000,
        },
      );
      figures.forgottenToCheckFailMs = Date.now() - started;
      expect(broken.c.code).toBe(1);
      expect(broken.priv.detail).toContain('the peer refused our token');
      expect(broken.priv.detail).toContain('HTTP 401');
      expect(broken.priv.hint).toContain(
        `must create an IstioFederation with spec.trustDomain: cluster-a.local and spec.metadataEndpoint: ${r.a.exporter.endpoint}`,
      );
      expect(broken.priv.hint).toContain(`Our clusterUUID is ${r.a.spec.clusterUUID}`);
      const rs = results(broken.c);
      // --peer limits the peers, not the cluster's own checks.
      expect(new Set(rs.filter((x) => x.scope.startsWith('peer')).map((x) => x.scope))).toStrictEqual(
        new Set(['peer cluster-b']),
      );
      const clusterId = find(rs, 'istiod', 'istiod.cluster-id')[0];
      expect(clusterId).toMatchObject({ status: 'fail' });
      expect(clusterId?.hint).toContain(
        `CLUSTER_ID=${istioClusterId('cluster-a.local', r.a.spec.clusterUUID)}`,
      );
      expect(find(rs, 'istiod', 'istiod.shared-mesh-config')[0]?.status).toBe('pass');
      expect(find(rs, 'istiod', 'istiod.multiroot')[0]?.status).toBe('pass');
      const text = await checkA('--peer', 'cluster-b');
      log(`check in cluster-a, cluster-b forgot us:\n${text.stdout}`);
      expect(text.code).toBe(1);
      expect(text.stdout).toMatch(
        /\[FAIL\] private document fetched with our token: the peer refused our token/,
      );

      // The hand-made request gets the same verdict.
      const token = await runBinary([
        'check',
        'token',
        '--peer',
        'cluster-b',
        '--kubeconfig',
        r.a.apiServer.kubeconfigPath,
      ]);
      const curl = await runShell(token.stdout, { TMPDIR: r.a.dir });
      expect(curl.stdout.trim().split('\n').at(-1)).toBe('HTTP 401');
    },
    STEP_TEST_TIMEOUT_MS,
  );

  test(
    "the peer's exporter stopped and its gateway dead: fail with reachability hints; imports still match status",
    async () => {
      const r = current();
      await r.b.exporter.stop();
      await gateways.b!.close();
      const c = await checkA('--json', '--peer', 'cluster-b', '--timeout', '2000');
      figures.checkBrokenMs = Math.round(c.ms);
      const rs = results(c);
      expect(c.code).toBe(1);
      const pub = find(rs, 'peer cluster-b', 'peer.public-document')[0];
      expect(pub).toMatchObject({ status: 'fail' });
      expect(pub?.detail).toMatch(/^Unreachable: .*ECONNREFUSED/);
      expect(pub?.hint).toContain('is its exporter running');
      expect(find(rs, 'peer cluster-b', 'peer.private-document')[0]?.status).toBe('skip');
      const gateway = find(rs, 'peer cluster-b', 'peer.gateway')[0];
      expect(gateway).toMatchObject({ status: 'fail' });
      expect(gateway?.detail).toMatch(/^refused via 127\.0\.0\.1:\d+/);
      expect(gateway?.hint).toContain(`nothing listens on ${B_LOAD_BALANCER_IP}:${GATEWAY_TLS_PORT}`);
      // The last good data stays: our ServiceEntries still agree with status.
      expect(find(rs, 'peer cluster-b', 'peer.service-entries')[0]?.status).toBe('pass');
      const text = await checkA('--peer', 'cluster-b', '--timeout', '2000');
      log(`check in cluster-a, cluster-b's exporter and gateway down:\n${text.stdout}`);
    },
    STEP_TEST_TIMEOUT_MS,
  );
});
