// The multicluster story end to end, on real parts: two kube-apiservers (one etcd) with the
// SAME cluster domain (cluster.local), different UUIDs and root CAs; per cluster a real
// addon-operator running dist/module, our metadata exporter and our api-proxy (dist/bin) on
// 127.0.0.1, and a real istiod. A's istiod reads B through B's api-proxy with the kubeconfig
// the module renders; an xDS client posing as A's sidecar reads what istiod makes of it.
// Waits are bounded polls (tools/e2e/multicluster.ts, remote-mesh.ts) that fail with both
// clusters' state and log tails.
//
// Set ISTIO_FED_E2E=0 to skip (e.g. for a quick local unit-test run).
import { writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { decodeJwt } from 'jose';
import { parse as parseYaml } from 'yaml';
import {
  federationNetwork,
  pemKey,
  trustBundleFingerprints,
  type RemoteClusterInfo,
  type XdsSummary,
} from '../../tools/e2e/istiod';
import { resourcePath } from '../../tools/e2e/kube-api';
import {
  MESH_DOMAIN,
  MULTICLUSTERS_PATH,
  REMOTE,
  REMOTE_PORTS,
  REMOTE_SECRET_LABEL,
  UNLABELLED,
  UNLABELLED_WORKLOAD,
  createMulticlusters,
  describeMulticlusterRun,
  isMulticlusterReady,
  multiclusterCondition,
  networkOf,
  publishApiHost,
  readRemoteSecret,
  remoteWorkload,
  runRemoteService,
  startMulticlusterClusters,
  startMulticlusterServers,
  viewKubeconfig,
  waitForMulticluster,
  waitForRemoteSecret,
  type MulticlusterObject,
  type MulticlusterRun,
  type RemoteSecret,
} from '../../tools/e2e/multicluster';
import {
  FirstSeen,
  RevokeObserver,
  clusterRebuilds,
  conditionIs,
  conditionLine,
  deleteMulticluster,
  istiodRevocationView,
  observeLateService,
  proxyActiveWatches,
  proxyRequestsEndedForRemovedPeers,
  recreateMulticluster,
  renderedProxyPeers,
  waitForRemoteSecretGone,
} from '../../tools/e2e/multicluster-revoke';
import { multiclusterSummary, istiodViewOfRemote } from '../../tools/e2e/multicluster-summary';
import {
  istiodAddToSyncedMs,
  measureRemoteSwap,
  outboundEndpoints,
  registryServiceFrom,
  remoteCluster,
  sidecarOf,
  waitForRegistryService,
  waitForRemoteEndpoints,
  waitForRemoteSynced,
} from '../../tools/e2e/remote-mesh';
import { B_LOAD_BALANCER_IP, GATEWAY_TLS_PORT, STEP_TIMEOUT_MS, stopRun } from '../../tools/e2e/scenario';
import { PEERS_SECRET } from '../../tools/e2e/api-proxy';
import { ensureUpstreamTools } from '../../tools/e2e/tools';
import { pollUntil } from '../../tools/e2e/wait';
import { KubeClient } from '../api-proxy/environment';

const enabled = process.env.ISTIO_FED_E2E !== '0';
const maybe = enabled ? describe : describe.skip;

/** First builds of kube-apiserver/etcd/addon-operator/istiod take many minutes on CI's 2 cores. */
const TOOL_BUILD_TIMEOUT_MS = 75 * 60_000;
const STEP_TEST_TIMEOUT_MS = 4 * STEP_TIMEOUT_MS;

const log = (line: string): void => {
  process.stderr.write(`[e2e multicluster] ${line}\n`);
};

const bGateway = `${B_LOAD_BALANCER_IP}:${GATEWAY_TLS_PORT}`;
const [BAR_PORT] = REMOTE_PORTS.map((p) => p.port) as [number];

/** One HTTPS request to the api-proxy named by a kubeconfig, with its token and CA. */
function proxyRequest(
  kubeconfig: { server: string; token: string; caPem?: string },
  method: string,
  path: string,
  body?: string,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      new URL(path, kubeconfig.server),
      {
        method,
        headers: {
          authorization: `Bearer ${kubeconfig.token}`,
          'content-type': 'application/json',
          ...(body ? { 'content-length': Buffer.byteLength(body) } : {}),
        },
        ...(kubeconfig.caPem ? { ca: kubeconfig.caPem } : {}),
        agent: false,
        timeout: 10_000,
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer`)));
    req.on('error', reject);
    req.end(body);
  });
}

/** The peer's documents as A caches them (without ETags and fetch timestamps, which move). */
const cachedDocuments = (m: MulticlusterObject) => ({
  public: m.status?.metadataCache?.public,
  private: m.status?.metadataCache?.private,
});

/** Polls `GET /api` through the api-proxy of `kubeconfig` until it answers `status`. */
function proxyAnswers(
  kubeconfig: { server: string; token: string; caPem?: string },
  status: number,
  describe: () => Promise<string>,
): Promise<{ status: number; body: string }> {
  return pollUntil(
    async () => {
      const res = await proxyRequest(kubeconfig, 'GET', '/api');
      return res.status === status ? res : undefined;
    },
    { what: `${kubeconfig.server}: GET /api answers ${status}`, timeoutMs: STEP_TIMEOUT_MS, describe },
  );
}

/** A's sidecar gets `hostname` with B's gateway as its only endpoint and B's root in its trust bundle. */
async function expectThroughBGateway(r: MulticlusterRun, hostname = REMOTE.hostname): Promise<XdsSummary> {
  const summary = await waitForRemoteEndpoints(
    r.a,
    sidecarOf(r.a),
    hostname,
    BAR_PORT,
    [bGateway],
    [r.b.rootCAPem],
    STEP_TIMEOUT_MS,
  );
  expect(outboundEndpoints(summary, BAR_PORT, hostname)).toEqual([bGateway]);
  return summary;
}

maybe(
  'multicluster: two clusters, one mesh (real kube-apiservers, addon-operator, api-proxy, istiod)',
  () => {
    let run: MulticlusterRun | undefined;
    const figures: Record<string, number> = {};
    const current = (): MulticlusterRun => {
      if (!run) throw new Error('the clusters did not start (see beforeAll)');
      return run;
    };
    let secret: RemoteSecret | undefined;
    let kubeconfigFile = '';
    /** When A's istiod first showed cluster-b synced: watched from the IstioMulticlusters' creation on. */
    let remoteSynced: Promise<{ at: number; entry: RemoteClusterInfo }> | undefined;

    beforeAll(async () => {
      const started = Date.now();
      await ensureUpstreamTools(log);
      figures.toolsReadyMs = Date.now() - started;
    }, TOOL_BUILD_TIMEOUT_MS);

    afterAll(async () => {
      const keep = process.env.ISTIO_FED_E2E_KEEP === '1';
      if (run) log(`summary:\n${await multiclusterSummary(run).catch((e: Error) => e.message)}`);
      await stopRun(run, keep);
      log(`figures (ms): ${JSON.stringify({ ...figures, ...(run?.figures ?? {}) })}`);
      if (keep && run) log(`logs kept in ${run.runDir}`);
    }, 120_000);

    test(
      '1. two clusters share cluster.local with distinct UUIDs, root CAs, cluster IDs and networks',
      async () => {
        const started = Date.now();
        run = await startMulticlusterClusters({ log, keepRunDir: process.env.ISTIO_FED_E2E_KEEP === '1' });
        figures.clustersStartMs = Date.now() - started;
        const { a, b } = run;
        expect([a.spec.clusterDomain, b.spec.clusterDomain]).toEqual([MESH_DOMAIN, MESH_DOMAIN]);
        expect(a.spec.clusterUUID).not.toBe(b.spec.clusterUUID);
        expect(pemKey(a.rootCAPem)).not.toBe(pemKey(b.rootCAPem));
        expect(a.clusterId).not.toBe(b.clusterId);
        expect(a.clusterId).toMatch(/^cluster-local-\d+$/);
        expect(networkOf(a)).toBe(federationNetwork(a.clusterId));
      },
      STEP_TEST_TIMEOUT_MS,
    );

    test(
      '2. exporters and api-proxies serve; private documents and the API need a token',
      async () => {
        const r = current();
        await startMulticlusterServers(r);
        for (const cluster of [r.a, r.b]) {
          const pub = JSON.parse((await cluster.exporter.get('/public/public.json')).body) as {
            clusterUUID?: string;
            rootCA?: string;
          };
          expect(pub.clusterUUID).toBe(cluster.spec.clusterUUID);
          expect(pemKey(pub.rootCA ?? '')).toBe(pemKey(cluster.rootCAPem));
          expect((await cluster.exporter.get('/private/multicluster.json')).status).toBe(401);
          const anonymous = await proxyRequest(
            {
              server: `https://${cluster.proxy.address}`,
              token: 'not-a-jwt',
              caPem: cluster.ingressPki.ca.certPem,
            },
            'GET',
            '/api',
          );
          expect(anonymous.status).toBe(401);
        }
      },
      STEP_TEST_TIMEOUT_MS,
    );

    test(
      '3. Services bar (pod on B network) and baz (pod without network label) only in B; IstioMulticlusters both ways',
      async () => {
        const r = current();
        await runRemoteService(r);
        await createMulticlusters(r);
        // Convergence is measured from here, while the next steps assert other things.
        remoteSynced = waitForRemoteSynced(
          r,
          r.a,
          'cluster-b',
          2 * STEP_TIMEOUT_MS,
          describeMulticlusterRun(r),
        ).then((entry) => ({ at: Date.now(), entry }));
        remoteSynced.catch(() => undefined);
        expect((await r.a.api.list(MULTICLUSTERS_PATH)).map((m) => m.metadata.name)).toEqual(['cluster-b']);
        expect((await r.b.api.list(MULTICLUSTERS_PATH)).map((m) => m.metadata.name)).toEqual(['cluster-a']);
        expect(
          await r.a.api.get(
            resourcePath('v1', 'services', { namespace: REMOTE.namespace, name: REMOTE.name }),
          ),
        ).toBeUndefined();
      },
      STEP_TEST_TIMEOUT_MS,
    );

    test(
      "4. both IstioMulticlusters Ready with RemoteAPIReachable; A caches B's documents",
      async () => {
        const r = current();
        const inA = await waitForMulticluster(
          r,
          r.a,
          'cluster-b',
          isMulticlusterReady,
          'Ready, RemoteAPIReachable',
        );
        const inB = await waitForMulticluster(
          r,
          r.b,
          'cluster-a',
          isMulticlusterReady,
          'Ready, RemoteAPIReachable',
        );
        figures.readyAfterCreationMs = Date.now() - (r.marks.multiclustersCreated ?? Date.now());
        for (const m of [inA, inB]) {
          expect(multiclusterCondition(m, 'Ready')?.status).toBe('True');
          expect(multiclusterCondition(m, 'RemoteAPIReachable')?.status).toBe('True');
          expect(m.status?.observedGeneration).toBe(m.metadata.generation);
        }
        expect(inA.status?.metadataCache?.public?.clusterUUID).toBe(r.b.spec.clusterUUID);
        expect(inA.status?.metadataCache?.private).toEqual({
          ingressGateways: [{ address: B_LOAD_BALANCER_IP, port: GATEWAY_TLS_PORT }],
          apiHost: r.b.proxy.address,
          networkName: networkOf(r.b),
        });
        const table = await r.a.api.table(MULTICLUSTERS_PATH);
        const row = Object.fromEntries(table.columns.map((c, i) => [c, table.rows[0]?.[i]]));
        expect(row).toMatchObject({ Name: 'cluster-b', Ready: 'True', Joined: 'True', API: 'True' });
      },
      STEP_TEST_TIMEOUT_MS,
    );

    test(
      "5. A's Secret istio-remote-secret-cluster-b: istiod's label, a kubeconfig to B's api-proxy with B's CA and an api token",
      async () => {
        const r = current();
        secret = await waitForRemoteSecret(r, r.a, 'cluster-b', (s) => s.kubeconfig !== undefined);
        expect(secret.labels).toMatchObject({ [REMOTE_SECRET_LABEL]: 'true', app: 'multicluster' });
        expect(secret.annotations['networking.istio.io/cluster']).toBe('cluster-b');
        expect(secret.keys).toEqual(['cluster-b']);
        const view = viewKubeconfig(secret.kubeconfig!);
        expect(view.server).toBe(`https://${r.b.proxy.address}`);
        expect(view.names).toEqual({
          cluster: 'cluster-b',
          context: 'cluster-b',
          user: 'cluster-b',
          current: 'cluster-b',
        });
        // Exactly one of CA data / insecure: the CA of B's ingress (spec.metadata.ca).
        expect(view.caPem?.trim()).toBe(r.b.ingressPki.ca.certPem.trim());
        expect(view.insecure).toBeUndefined();
        expect(decodeJwt(view.token)).toMatchObject({
          iss: 'd8-istio',
          aud: r.b.spec.clusterUUID,
          sub: r.a.spec.clusterUUID,
          scope: 'api',
        });
        kubeconfigFile = join(r.runDir, 'cluster-b.from-secret.kubeconfig');
        writeFileSync(kubeconfigFile, secret.kubeconfig!, { mode: 0o600 });
        writeFileSync(`${kubeconfigFile}.ca`, view.caPem!);
      },
      STEP_TEST_TIMEOUT_MS,
    );

    test(
      "6. a Kubernetes client with that kubeconfig lists and watches B through B's api-proxy; GET /api; writes refused",
      async () => {
        const r = current();
        const client = (...args: string[]) => new KubeClient(kubeconfigFile, args, `${kubeconfigFile}.ca`);
        const list = async (kind: string, namespace?: string) =>
          (await client('list', kind, ...(namespace ? [namespace] : [])).result()).items as string[];
        expect(await list('services', REMOTE.namespace)).toEqual([REMOTE.name, UNLABELLED.name]);
        expect(await list('endpointslices', REMOTE.namespace)).toEqual([
          `${REMOTE.name}-e2e`,
          `${UNLABELLED.name}-e2e`,
        ]);
        expect(await list('pods', REMOTE.namespace)).toEqual([
          remoteWorkload(r.b).pod,
          UNLABELLED_WORKLOAD.pod,
        ]);
        expect(await list('namespaces')).toEqual(expect.arrayContaining(['d8-istio', REMOTE.namespace]));
        expect(await client('api-versions').result()).toMatchObject({
          kind: 'APIVersions',
          versions: ['v1'],
        });

        const watch = client('watch', 'services', REMOTE.namespace);
        try {
          await watch.next((l) => l.watching !== undefined);
          await watch.next((l) => l.event === 'ADDED' && l.name === REMOTE.name);
          const watched = { namespace: REMOTE.namespace, name: 'watched' };
          await r.b.api.create(resourcePath('v1', 'services', { namespace: watched.namespace }), {
            apiVersion: 'v1',
            kind: 'Service',
            metadata: watched,
            spec: { ports: [{ name: 'http', port: 80 }] },
          });
          expect(await watch.next((l) => l.event === 'ADDED' && l.name === 'watched')).toBeDefined();
          await r.b.api.delete(resourcePath('v1', 'services', watched));
          expect(await watch.next((l) => l.event === 'DELETED' && l.name === 'watched')).toBeDefined();
        } finally {
          watch.stop();
        }

        const view = viewKubeconfig(secret!.kubeconfig!);
        const write = await proxyRequest(
          view,
          'POST',
          resourcePath('v1', 'services', { namespace: REMOTE.namespace }),
          JSON.stringify({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'intruder' } }),
        );
        expect(write.status).toBe(405);
        const del = await proxyRequest(
          view,
          'DELETE',
          resourcePath('v1', 'services', { namespace: REMOTE.namespace, name: REMOTE.name }),
        );
        expect(del.status).toBe(405);
        expect(
          await r.b.api.get(
            resourcePath('v1', 'services', { namespace: REMOTE.namespace, name: REMOTE.name }),
          ),
        ).toBeDefined();
      },
      STEP_TEST_TIMEOUT_MS,
    );

    test(
      "7. A's istiod: cluster-b synced in /debug/clusterz, bar from cluster-b in /debug/registryz; B's istiod: cluster-a synced",
      async () => {
        const r = current();
        if (!remoteSynced) throw new Error('step 3 did not create the IstioMulticlusters');
        const { at, entry: synced } = await remoteSynced;
        r.figures.remoteSyncedAfterCreationMs = at - (r.marks.multiclustersCreated ?? at);
        // Of which istiod's own part: Secret taken -> remote synced (its log).
        const istiodPart = istiodAddToSyncedMs(r.a.mesh, 'cluster-b');
        if (istiodPart !== undefined) r.figures.istiodAddToSyncedMs = istiodPart;
        log(
          `cluster-a istiod synced with cluster-b ${r.figures.remoteSyncedAfterCreationMs} ms after creation`,
        );
        expect(synced).toEqual({
          id: 'cluster-b',
          secretName: 'd8-istio/istio-remote-secret-cluster-b',
          syncStatus: 'synced',
        });
        const svc = await waitForRegistryService(r.a, REMOTE.hostname, 'cluster-b', STEP_TIMEOUT_MS);
        expect(svc.hostname).toBe(REMOTE.hostname);
        expect(Object.keys(svc.clusterVIPs?.Addresses ?? {})).toEqual(['cluster-b']);
        expect(svc.ports?.map((p) => p.port)).toEqual([BAR_PORT]);
        // The other way round: B's istiod reads A through A's api-proxy with the Secret B rendered.
        expect(
          await waitForRemoteSynced(r, r.b, 'cluster-a', STEP_TIMEOUT_MS, describeMulticlusterRun(r)),
        ).toEqual({
          id: 'cluster-a',
          secretName: 'd8-istio/istio-remote-secret-cluster-a',
          syncStatus: 'synced',
        });
      },
      STEP_TEST_TIMEOUT_MS,
    );

    test(
      "8. A's sidecar on A's network: bar's and baz's endpoints are B's gateway :15443, B's root is in its trust bundle; meshNetworks as rendered",
      async () => {
        const r = current();
        const summary = await expectThroughBGateway(r);
        // baz's pod has no network label: meshNetworks (fromRegistry cluster-b) alone puts it
        // on B's network, so A's sidecar goes through B's gateway too, never to the pod IP.
        await expectThroughBGateway(r, UNLABELLED.hostname);
        expect(new Set(trustBundleFingerprints(summary))).toEqual(
          new Set([pemKey(r.a.rootCAPem), pemKey(r.b.rootCAPem)]),
        );
        const cm = await r.a.api.get<{ data?: Record<string, string> }>(
          resourcePath('v1', 'configmaps', {
            namespace: 'd8-istio',
            name: 'd8-istio-federation-mesh-config',
          }),
        );
        expect(parseYaml(cm?.data?.meshNetworks ?? '{}')).toEqual({
          networks: {
            // Our own network: our registry, reached directly (no gateway).
            [networkOf(r.a)]: { endpoints: [{ fromRegistry: r.a.clusterId }], gateways: [] },
            [networkOf(r.b)]: {
              endpoints: [{ fromRegistry: 'cluster-b' }],
              gateways: [{ address: B_LOAD_BALANCER_IP, port: GATEWAY_TLS_PORT }],
            },
          },
        });
        // Multicluster roots are trusted for any trust domain (no trustDomains).
        const mesh = parseYaml(cm?.data?.mesh ?? '{}') as {
          caCertificates?: { pem: string; trustDomains?: string[] }[];
        };
        expect(
          mesh.caCertificates?.map((c) => ({ root: pemKey(c.pem), trustDomains: c.trustDomains })),
        ).toEqual([{ root: pemKey(r.b.rootCAPem), trustDomains: undefined }]);
        log(await istiodViewOfRemote(r));
      },
      STEP_TEST_TIMEOUT_MS,
    );

    test(
      "9. B publishes another api host: A's Secret gets a new kubeconfig and token, istiod swaps cluster-b; bar's absence measured",
      async () => {
        const r = current();
        const before = viewKubeconfig(secret!.kubeconfig!);
        const newHost = `localhost:${r.b.proxy.port}`;
        // Every hook run so far (fetches every 2 s, several ModuleRuns) left the Secret alone:
        // istiod never rebuilt cluster-b (a rebuild per run is the reference's old churn).
        const rebuilds = (): number => r.a.mesh.logLines('Update cluster\tcluster=cluster-b ').length;
        expect(rebuilds()).toBe(0);
        const swap = await measureRemoteSwap(
          r,
          r.a,
          'cluster-b',
          REMOTE.hostname,
          () => publishApiHost(r.b, newHost),
          3 * STEP_TIMEOUT_MS,
          { proxy: sidecarOf(r.a), port: BAR_PORT, endpoint: bGateway },
        );
        Object.assign(r.figures, {
          rotationSecretChangedMs: swap.secretChangedMs,
          rotationSwapMs: swap.swapMs,
          rotationMissingMs: swap.missingMs,
          rotationMissingWindows: swap.missingWindows,
          rotationSamples: swap.samples,
          rotationSampleIntervalMs: swap.intervalMs,
          rotationEdsSamples: swap.edsSamples,
          rotationEdsMissing: swap.edsMissing,
        });
        log(`rotation: ${JSON.stringify(swap)}`);
        const after = await waitForRemoteSecret(
          r,
          r.a,
          'cluster-b',
          (s) => s.kubeconfig !== secret!.kubeconfig,
        );
        const view = viewKubeconfig(after.kubeconfig!);
        expect(view.server).toBe(`https://${newHost}`);
        expect(view.token).not.toBe(before.token);
        // One change, one rebuild.
        expect(rebuilds()).toBe(1);
        // istiod runs the new client: synced, bar present, endpoints still B's gateway.
        expect(await waitForRemoteSynced(r, r.a, 'cluster-b', STEP_TIMEOUT_MS)).toMatchObject({
          syncStatus: 'synced',
        });
        expect(await registryServiceFrom(r.a.mesh, REMOTE.hostname, 'cluster-b')).toBeDefined();
        await expectThroughBGateway(r);
      },
      4 * STEP_TEST_TIMEOUT_MS,
    );

    test(
      "10. B forgets A: B's api-proxy refuses A's token, A says RemoteAPITokenRejected and keeps B's data; A again: Ready, synced",
      async () => {
        const r = current();
        const aUUID = r.a.spec.clusterUUID;
        const inABefore = await waitForMulticluster(r, r.a, 'cluster-b', isMulticlusterReady, 'Ready');
        const remoteBefore = await waitForRemoteSecret(r, r.a, 'cluster-b');
        const token = viewKubeconfig(remoteBefore.kubeconfig!);
        expect((await proxyRequest(token, 'GET', '/api')).status).toBe(200);
        expect(await renderedProxyPeers(r.b)).toEqual([aUUID]);
        const rebuildsBefore = clusterRebuilds(r.a, 'cluster-b');
        const describe = describeMulticlusterRun(r);
        const eds = { proxy: sidecarOf(r.a), port: BAR_PORT, endpoint: bGateway };
        const observer = new RevokeObserver(r.a, 'cluster-b', REMOTE.hostname, eds, 4 * STEP_TIMEOUT_MS);

        const deletedAt = Date.now();
        await deleteMulticluster(r.b, 'cluster-a');
        // B: the chart drops A from the api-proxy's peers (Secret, then the file), so A's token gets 401.
        expect(
          await pollUntil(async () => ((await renderedProxyPeers(r.b)).includes(aUUID) ? undefined : true), {
            what: `cluster-b: ${PEERS_SECRET} without cluster-a`,
            timeoutMs: STEP_TIMEOUT_MS,
            describe,
          }),
        ).toBe(true);
        expect(await renderedProxyPeers(r.b)).toEqual([]);
        const refused = await proxyAnswers(token, 401, describe);
        r.figures.revokeProxyRefusedMs = Date.now() - deletedAt;
        expect(refused.status).toBe(401);
        expect(r.b.proxy.peers).toEqual([]);
        // The reload that refused A's token also ended A's requests in flight: A is B's only
        // peer, and A's re-watches are refused before they are counted, so no watch is left.
        const watchesAfterRefusal = await proxyActiveWatches(r.b);
        const endedForA = await proxyRequestsEndedForRemovedPeers(r.b);
        expect(watchesAfterRefusal).toBe(0);
        expect(endedForA).toBeGreaterThan(0);
        // With no stream of A's left and every new request refused, nothing of B's can reach A's
        // istiod any more (the two assertions above are the proof).

        // A: the private document and the API refuse A's token; B's last good data stays.
        const seen = new FirstSeen(deletedAt, {
          revokeFetchRejectedMs: conditionIs('MetadataFetched', 'False', 'TokenRejected'),
          revokeNotReadyMs: conditionIs('Ready', 'False'),
          revokeApiRejectedMs: conditionIs('RemoteAPIReachable', 'False', 'RemoteAPITokenRejected'),
        });
        const rejected = await waitForMulticluster(
          r,
          r.a,
          'cluster-b',
          (m) => {
            seen.note(m);
            return seen.all(m);
          },
          'MetadataFetched TokenRejected, RemoteAPIReachable RemoteAPITokenRejected, Ready False',
          2 * STEP_TIMEOUT_MS,
        );
        Object.assign(r.figures, seen.at);
        log(`cluster-a, IstioMulticluster cluster-b after B forgot A: ${conditionLine(rejected)}`);
        expect(multiclusterCondition(rejected, 'MetadataFetched')?.message).toMatch(/401/);
        expect(cachedDocuments(rejected)).toEqual(cachedDocuments(inABefore));
        // Observed, not asserted (an absence can only be shown with a time window), after the
        // figures above so that its window does not count in them: a Service created in B now.
        const late = await observeLateService(r);
        const istiod = await observer.stop();
        const remoteDuring = await readRemoteSecret(r.a.api, 'cluster-b');
        const afterRevocation = await istiodRevocationView(r, eds);
        // What A's istiod logged about its cut watches and refused re-lists (observed only).
        const unauthorized = r.a.mesh.logLines('Unauthorized').length;
        Object.assign(r.figures, {
          revokeIstiodSamples: istiod.samples,
          revokeClusterzNotSynced: istiod.clusterzNotSynced,
          revokeRegistryMissing: istiod.registryMissing,
          revokeEdsMissing: istiod.edsMissing,
          revokeSampleIntervalMs: istiod.intervalMs,
          revokeProxyWatchesAfterRefusal: watchesAfterRefusal,
          revokeProxyRequestsEnded: endedForA,
          revokeIstiodUnauthorizedLines: unauthorized,
          revokeLateServiceSeen: late === undefined ? 0 : 1,
          ...(late === undefined ? {} : { revokeLateServiceMs: late }),
          revokeRemoteSecretKept: remoteDuring?.resourceVersion === remoteBefore.resourceVersion ? 1 : 0,
        });
        log(
          `cluster-a istiod while B refuses A (${istiod.samples} samples every ${istiod.intervalMs} ms): ` +
            `clusterz ${istiod.clusterzStatuses.join('/')} (${istiod.clusterzNotSynced} not synced), ` +
            `${REMOTE.hostname} missing from registryz in ${istiod.registryMissing}, from EDS in ${istiod.edsMissing}; ` +
            `then: ${afterRevocation}; its log has ${unauthorized} Unauthorized lines; B's api-proxy ended ${endedForA} requests of A's and had ${watchesAfterRefusal} watches open after refusing A's token; ` +
            `a Service created in B after the refusal ${late === undefined ? 'never reached' : `reached A's registry ${late} ms later in`} A's istiod; ` +
            `A's remote Secret ${remoteDuring?.resourceVersion === remoteBefore.resourceVersion ? 'unchanged' : `changed (${remoteDuring ? 'rewritten' : 'deleted'})`}`,
        );

        // B otherwise unaffected: its istiod drops cluster-a only, serves its own cluster and bar.
        await waitForRemoteSecretGone(r, r.b, 'cluster-a');
        expect(
          await pollUntil(async () => ((await remoteCluster(r.b.mesh, 'cluster-a')) ? undefined : true), {
            what: 'cluster-b istiod: cluster-a gone from /debug/clusterz',
            timeoutMs: STEP_TIMEOUT_MS,
            describe,
          }),
        ).toBe(true);
        expect(await r.b.mesh.remoteClusters()).toEqual([
          expect.objectContaining({ id: r.b.clusterId, syncStatus: 'synced' }),
        ]);
        expect(await registryServiceFrom(r.b.mesh, REMOTE.hostname, r.b.clusterId)).toBeDefined();
        const bPublic = JSON.parse((await r.b.exporter.get('/public/public.json')).body) as {
          clusterUUID?: string;
        };
        expect(bPublic.clusterUUID).toBe(r.b.spec.clusterUUID);

        // B learns A again: the same token works (30 days), A's Secret need not change.
        const recreatedAt = Date.now();
        await recreateMulticluster(r.b, 'cluster-a', r.a);
        const accepted = await proxyAnswers(token, 200, describe);
        r.figures.restoreProxyAcceptsMs = Date.now() - recreatedAt;
        expect(JSON.parse(accepted.body)).toMatchObject({ kind: 'APIVersions' });
        expect(await renderedProxyPeers(r.b)).toEqual([aUUID]);
        const restored = new FirstSeen(recreatedAt, {
          restoreFetchedMs: conditionIs('MetadataFetched', 'True'),
          restoreApiReachableMs: conditionIs('RemoteAPIReachable', 'True'),
        });
        const back = await waitForMulticluster(
          r,
          r.a,
          'cluster-b',
          (m) => {
            restored.note(m);
            return isMulticlusterReady(m);
          },
          'Ready and RemoteAPIReachable again',
          3 * STEP_TIMEOUT_MS,
        );
        Object.assign(r.figures, restored.at);
        r.figures.restoreReadyMs = Date.now() - recreatedAt;
        expect(cachedDocuments(back)).toEqual(cachedDocuments(inABefore));
        await waitForMulticluster(
          r,
          r.b,
          'cluster-a',
          isMulticlusterReady,
          'Ready again',
          2 * STEP_TIMEOUT_MS,
        );
        expect(await waitForRemoteSynced(r, r.b, 'cluster-a', STEP_TIMEOUT_MS, describe)).toMatchObject({
          secretName: 'd8-istio/istio-remote-secret-cluster-a',
          syncStatus: 'synced',
        });
        expect(await waitForRemoteSynced(r, r.a, 'cluster-b', STEP_TIMEOUT_MS, describe)).toMatchObject({
          syncStatus: 'synced',
        });
        const remoteAfter = await waitForRemoteSecret(r, r.a, 'cluster-b');
        r.figures.restoreIstiodRebuilds = clusterRebuilds(r.a, 'cluster-b') - rebuildsBefore;
        log(
          `restored: A's api token accepted ${r.figures.restoreProxyAcceptsMs} ms after cluster-a was recreated in B, ` +
            `A's cluster-b Ready after ${r.figures.restoreReadyMs} ms; A's remote Secret ` +
            `${remoteAfter.resourceVersion === remoteBefore.resourceVersion ? 'never changed' : 'was rewritten'}, ` +
            `istiod rebuilt cluster-b ${r.figures.restoreIstiodRebuilds} times`,
        );
        // The token is valid for 30 days: nothing to reissue, A's Secret was never rewritten.
        expect(remoteAfter.resourceVersion).toBe(remoteBefore.resourceVersion);
        expect(
          await waitForRegistryService(r.a, REMOTE.hostname, 'cluster-b', STEP_TIMEOUT_MS),
        ).toBeDefined();
        await expectThroughBGateway(r);
      },
      4 * STEP_TEST_TIMEOUT_MS,
    );
  },
);
