// The federation story end to end, on real parts: two kube-apiservers (one etcd), two
// addon-operators running dist/module, two metadata exporters on 127.0.0.1. Every step is
// asserted against the API; waits are bounded polls (tools/e2e/scenario.ts) that fail
// with the objects' status and the operators' log tails.
//
// Set ISTIO_FED_E2E=0 to skip (e.g. for a quick local unit-test run).
import { parseMetrics } from '../../tools/e2e/addon-operator';
import type { Cluster } from '../../tools/e2e/cluster';
import { readRenderedDocuments } from '../../tools/e2e/exporter';
import { startImpostor } from '../../tools/e2e/impostor';
import { resourcePath, type KubeObject } from '../../tools/e2e/kube-api';
import {
  BAR,
  BAR_PORTS,
  B_LOAD_BALANCER_IP,
  DISABLED_POLICY_PATH,
  FOO,
  GATEWAY_TLS_PORT,
  PUBLIC_LABEL,
  STEP_TIMEOUT_MS,
  condition,
  createFederations,
  describeRun,
  enableFederation,
  importedServiceEntries,
  isReady,
  publishServices,
  sameCertificate,
  serviceEntryFor,
  startClusters,
  stopRun,
  trustedRoots,
  waitForCondition,
  waitForImportedService,
  waitForImports,
  waitForServiceEntryGone,
  type FederationRun,
  type ImportResult,
} from '../../tools/e2e/scenario';
import { ensureUpstreamTools } from '../../tools/e2e/tools';
import { pollUntil } from '../../tools/e2e/wait';

const enabled = process.env.ISTIO_FED_E2E !== '0';
const maybe = enabled ? describe : describe.skip;

/** First builds of kube-apiserver/etcd/addon-operator take many minutes on CI's 2 cores. */
const TOOL_BUILD_TIMEOUT_MS = 75 * 60_000;
const STEP_TEST_TIMEOUT_MS = 4 * STEP_TIMEOUT_MS;

const log = (line: string): void => {
  process.stderr.write(`[e2e] ${line}\n`);
};

const FETCH_ERROR_METRIC = 'd8_istio_federation_metadata_endpoints_fetch_error_count';

const importOfBar = {
  hostname: BAR.hostname,
  ports: BAR_PORTS,
  gateways: [{ address: B_LOAD_BALANCER_IP, port: GATEWAY_TLS_PORT }],
};

/** Highest value of the fetch-error gauge of one federation on addon-operator's /metrics/hooks. */
async function fetchErrorGauge(cluster: Cluster, federation: string): Promise<number | undefined> {
  const samples = parseMetrics(await cluster.operator.hookMetrics()).filter(
    (s) => s.name.endsWith(FETCH_ERROR_METRIC) && s.labels.federation_name === federation,
  );
  return samples.length ? Math.max(...samples.map((s) => s.value)) : undefined;
}

/** Label changes measured in step 6 (each: remove, then add back). */
const LABEL_ROUNDS = 5;

/** `<name>P50Ms`, `MinMs`, `MaxMs` of some durations (ms); the p50 of an even count is the lower middle. */
function spread(name: string, values: readonly number[]): Record<string, number> {
  const sorted = [...values].sort((x, y) => x - y);
  return {
    [`${name}P50Ms`]: sorted[Math.floor((sorted.length - 1) / 2)]!,
    [`${name}MinMs`]: sorted[0]!,
    [`${name}MaxMs`]: sorted.at(-1)!,
  };
}

const servicePath = resourcePath('v1', 'services', { namespace: BAR.namespace, name: BAR.name });
const labelPointer = `/metadata/labels/${PUBLIC_LABEL.replace(/~/g, '~0').replace(/\//g, '~1')}`;

maybe('federation of two local clusters (real kube-apiserver + addon-operator)', () => {
  let run: FederationRun | undefined;
  const figures: Record<string, number> = {};
  const current = (): FederationRun => {
    if (!run) throw new Error('the clusters did not start (see beforeAll)');
    return run;
  };

  beforeAll(async () => {
    const started = Date.now();
    await ensureUpstreamTools(log);
    figures.toolsReadyMs = Date.now() - started;
  }, TOOL_BUILD_TIMEOUT_MS);

  afterAll(async () => {
    const keep = process.env.ISTIO_FED_E2E_KEEP === '1';
    await stopRun(run, keep);
    const all = { ...figures, ...(run?.figures ?? {}) };
    log(`figures (ms): ${JSON.stringify(all)}`);
    if (keep && run) log(`logs kept in ${run.runDir}`);
  }, 120_000);

  test(
    '1. two clusters with distinct domains and UUIDs',
    async () => {
      const started = Date.now();
      run = await startClusters({ log, keepRunDir: process.env.ISTIO_FED_E2E_KEEP === '1' });
      figures.clustersStartMs = Date.now() - started;
      const { a, b } = run;
      expect(a.spec.clusterDomain).toBe('cluster-a.local');
      expect(b.spec.clusterDomain).toBe('cluster-b.local');
      expect(a.spec.clusterUUID).not.toBe(b.spec.clusterUUID);
      // Globals go to plain addon-operator through its ConfigMap (step 2 sees them in the exporter's document).
      for (const cluster of [a, b]) {
        const cm = await cluster.api.get<{ data: Record<string, string> }>(
          resourcePath('v1', 'configmaps', { namespace: 'd8-system', name: 'addon-operator' }),
        );
        expect(JSON.parse(cm?.data.global ?? '{}')).toMatchObject({
          discovery: { clusterDomain: cluster.spec.clusterDomain, clusterUUID: cluster.spec.clusterUUID },
        });
      }
    },
    STEP_TEST_TIMEOUT_MS,
  );

  test(
    '2. federation enabled in both; admission refuses IstioFederation where it is disabled',
    async () => {
      const r = current();
      const { refusal } = await enableFederation(r);
      expect(refusal).toMatch(/federation is disabled/);
      expect(await r.b.api.get(DISABLED_POLICY_PATH)).toBeUndefined();
      for (const cluster of [r.a, r.b]) {
        const publicDoc = JSON.parse((await cluster.exporter.get('/public/public.json')).body) as {
          clusterUUID?: string;
          rootCA?: string;
        };
        expect(publicDoc.clusterUUID).toBe(cluster.spec.clusterUUID);
        expect(publicDoc.rootCA?.trim()).toBe(cluster.rootCAPem.trim());
      }
      // Without a token the private document is refused.
      expect((await r.b.exporter.get('/private/federation.json')).status).toBe(401);
    },
    STEP_TEST_TIMEOUT_MS,
  );

  test(
    '3-4. public Service bar in B; IstioFederations pointing at each other',
    async () => {
      const r = current();
      await publishServices(r);
      await createFederations(r);
      const federations = await r.a.api.list(resourcePath('deckhouse.io/v1alpha1', 'istiofederations'));
      expect(federations.map((f) => f.metadata.name)).toEqual(['cluster-b']);
    },
    STEP_TEST_TIMEOUT_MS,
  );

  let imports: ImportResult | undefined;
  test(
    '5. A imports bar via B gateway (ServiceEntry, DestinationRule, trust); both Ready',
    async () => {
      const r = current();
      imports = await waitForImports(r);
      const { barEntry, fooEntry, barRule, trustInA, federationInA, federationInB, tableInA, tableInB } =
        imports;
      expect(barEntry.spec.location).toBe('MESH_INTERNAL');
      expect(barEntry.spec.resolution).toBe('STATIC');
      expect(barEntry.spec.endpoints).toEqual([
        { address: B_LOAD_BALANCER_IP, ports: { http: GATEWAY_TLS_PORT, 'grpc-api': GATEWAY_TLS_PORT } },
      ]);
      expect(barEntry.spec.ports).toEqual(
        expect.arrayContaining([
          { number: 8080, name: 'http', protocol: 'HTTP' },
          { number: 9090, name: 'grpc-api', protocol: 'HTTP2' },
        ]),
      );
      // B imports foo through the address A advertises (not a discovered one).
      expect(fooEntry.spec.hosts).toContain(FOO.hostname);
      expect(fooEntry.spec.endpoints.map((e) => e.address)).toEqual(['198.51.100.10']);
      expect(barRule.spec.trafficPolicy?.tls?.mode).toBe('ISTIO_MUTUAL');
      expect(trustInA.trustDomains).toEqual(['cluster-b.local']);
      // The module re-encodes the roots it trusts: the same certificate, in canonical PEM.
      expect(sameCertificate(trustInA.pem, r.b.rootCAPem)).toBe(true);
      expect(trustInA.pem).toMatch(
        /^-----BEGIN CERTIFICATE-----\n[A-Za-z0-9+/=\n]+-----END CERTIFICATE-----\n$/,
      );
      for (const f of [federationInA, federationInB]) {
        expect(condition(f, 'Ready')).toMatchObject({ status: 'True', reason: 'Ready' });
        expect(condition(f, 'MetadataFetched')?.status).toBe('True');
        expect(condition(f, 'TrustEstablished')?.status).toBe('True');
      }
      expect(federationInA.status?.importedServices).toBe(1);
      expect(tableInA).toMatchObject({ Ready: 'True', 'Trust Domain': 'cluster-b.local', Services: '1' });
      expect(tableInB).toMatchObject({ Ready: 'True', 'Trust Domain': 'cluster-a.local', Services: '1' });
    },
    STEP_TEST_TIMEOUT_MS,
  );

  test(
    '6. removing the public label in B removes the ServiceEntry in A; adding it back restores it',
    async () => {
      const r = current();
      const removedAt = Date.now();
      await r.b.api.jsonPatch(servicePath, [{ op: 'remove', path: labelPointer }]);
      await waitForServiceEntryGone(r, r.a, BAR.hostname);
      figures.labelRemovedToServiceEntryGoneMs = Date.now() - removedAt;
      log(`label removed -> ServiceEntry gone in ${figures.labelRemovedToServiceEntryGoneMs} ms`);
      const emptied = await waitForCondition(
        r,
        r.a,
        'cluster-b',
        (f) => f.status?.importedServices === 0 && isReady(f),
        'importedServices 0 and still Ready',
      );
      expect(emptied.status?.importedServices).toBe(0);

      const addedAt = Date.now();
      await r.b.api.mergePatch(servicePath, { metadata: { labels: { [PUBLIC_LABEL]: '' } } });
      const restored = await waitForImportedService(r, r.a, importOfBar);
      figures.labelAddedToServiceEntryMs = Date.now() - addedAt;
      log(`label added back -> ServiceEntry in ${figures.labelAddedToServiceEntryMs} ms`);
      expect(restored.spec.hosts).toContain(BAR.hostname);

      // Convergence with the DEFAULT settings (the harness sets no refresh): more rounds of
      // remove/add, reported as figures (p50, min, max over every change), not asserted.
      const removed = [figures.labelRemovedToServiceEntryGoneMs];
      const added = [figures.labelAddedToServiceEntryMs];
      for (let round = 2; round <= LABEL_ROUNDS; round++) {
        const offAt = Date.now();
        await r.b.api.jsonPatch(servicePath, [{ op: 'remove', path: labelPointer }]);
        await waitForServiceEntryGone(r, r.a, BAR.hostname);
        removed.push(Date.now() - offAt);
        const onAt = Date.now();
        await r.b.api.mergePatch(servicePath, { metadata: { labels: { [PUBLIC_LABEL]: '' } } });
        const back = await waitForImportedService(r, r.a, importOfBar);
        added.push(Date.now() - onAt);
        expect(back.spec.hosts).toContain(BAR.hostname);
      }
      Object.assign(
        figures,
        spread('labelAddedToServiceEntry', added),
        spread('labelRemovedToServiceEntryGone', removed),
      );
      log(
        `label -> ServiceEntry over ${added.length} additions: ${JSON.stringify(added)} ms; ` +
          `removals: ${JSON.stringify(removed)} ms`,
      );
    },
    STEP_TEST_TIMEOUT_MS,
  );

  test(
    "7. B's exporter down: A keeps the ServiceEntry, reports stale data and the error metric; back: Ready",
    async () => {
      const r = current();
      const before = await serviceEntryFor(r.a.api, BAR.hostname);
      expect(before).toBeDefined();
      await r.b.exporter.stop();
      const stoppedAt = Date.now();
      const failing = await waitForCondition(
        r,
        r.a,
        'cluster-b',
        (f) => condition(f, 'MetadataFetched')?.status === 'False',
        'MetadataFetched=False after the exporter stopped',
        2 * STEP_TIMEOUT_MS,
      );
      figures.exporterDownToConditionMs = Date.now() - stoppedAt;
      expect(condition(failing, 'MetadataFetched')?.message).toMatch(/stale since/);
      expect(condition(failing, 'Ready')?.status).toBe('False');
      expect(failing.status?.lastError).toBeTruthy();
      // The last good data stays in force.
      const kept = await serviceEntryFor(r.a.api, BAR.hostname);
      expect(kept?.spec).toEqual(before?.spec);
      const gauge = await pollUntil(
        async () => ((await fetchErrorGauge(r.a, 'cluster-b')) === 1 ? 1 : undefined),
        {
          what: `${FETCH_ERROR_METRIC}{federation_name="cluster-b"} = 1 on cluster-a's /metrics/hooks`,
          timeoutMs: STEP_TIMEOUT_MS,
          describe: async () =>
            (await r.a.operator.hookMetrics())
              .split('\n')
              .filter((l) => l.includes('federation'))
              .join('\n'),
        },
      );
      expect(gauge).toBe(1);

      const restartedAt = Date.now();
      await r.b.exporter.start();
      await waitForCondition(r, r.a, 'cluster-b', isReady, 'Ready=True again', 2 * STEP_TIMEOUT_MS);
      figures.exporterBackToReadyMs = Date.now() - restartedAt;
      await pollUntil(async () => ((await fetchErrorGauge(r.a, 'cluster-b')) === 0 ? true : undefined), {
        what: `${FETCH_ERROR_METRIC}{federation_name="cluster-b"} back to 0`,
        timeoutMs: STEP_TIMEOUT_MS,
      });
      expect((await serviceEntryFor(r.a.api, BAR.hostname))?.spec).toEqual(before?.spec);
    },
    5 * STEP_TIMEOUT_MS,
  );

  test(
    '8. hostile documents from B: A keeps its last good state and says why',
    async () => {
      const r = current();
      const before = await serviceEntryFor(r.a.api, BAR.hostname);
      expect(before).toBeDefined();

      // (a) B's exporter serves names outside B's domain (one in A's own domain, one in cluster.local).
      const genuine = await readRenderedDocuments(r.b.api);
      if (!genuine) throw new Error('cluster-b documents Secret not rendered');
      const privateDoc = JSON.parse(genuine['federation.json'] ?? '{}') as {
        publicServices?: { hostname: string; ports: { name: string; port: number }[] }[];
      };
      const hostile = {
        ...privateDoc,
        publicServices: [
          ...(privateDoc.publicServices ?? []),
          { hostname: 'evil.xyz.svc.cluster-a.local', ports: [{ name: 'http', port: 80 }] },
          { hostname: 'kube-dns.kube-system.svc.cluster.local', ports: [{ name: 'dns', port: 53 }] },
        ],
      };
      // B's chart would never render these: B's exporter serves them from a directory for a while.
      await r.b.exporter.stop();
      await r.b.exporter.start(STEP_TIMEOUT_MS, { ...genuine, 'federation.json': JSON.stringify(hostile) });
      const scoped = await waitForCondition(
        r,
        r.a,
        'cluster-b',
        (f) => (f.status?.rejectedItems ?? []).some((item) => item.includes('evil.xyz.svc.cluster-a.local')),
        'rejectedItems names the out-of-domain hostname',
        2 * STEP_TIMEOUT_MS,
      );
      expect(scoped.status?.rejectedItems?.join('\n')).toMatch(/kube-dns\.kube-system\.svc\.cluster\.local/);
      const hosts = (await importedServiceEntries(r.a.api)).flatMap((se) => se.spec.hosts);
      expect(hosts).not.toContain('evil.xyz.svc.cluster-a.local');
      expect(hosts).not.toContain('kube-dns.kube-system.svc.cluster.local');
      expect((await serviceEntryFor(r.a.api, BAR.hostname))?.spec).toEqual(before?.spec);

      // (b) An impostor on B's address (same certificate) answers garbage for the private document.
      await r.b.exporter.stop();
      const impostor = await startImpostor({
        port: r.b.exporter.port,
        ...r.b.exporter.serverCertificate,
        publicJson: genuine['public.json'] ?? '',
        privateBody: '{"publicServices": [{"hostname": "bar.xyz.svc.cluster-b.local", "ports": "garbage',
      });
      try {
        const broken = await waitForCondition(
          r,
          r.a,
          'cluster-b',
          (f) => condition(f, 'MetadataFetched')?.status === 'False',
          'MetadataFetched=False for a garbage private document',
          2 * STEP_TIMEOUT_MS,
        );
        log(`garbage document: ${JSON.stringify(condition(broken, 'MetadataFetched'))}`);
        expect(condition(broken, 'MetadataFetched')?.message).toMatch(/stays in force/);
        expect(broken.status?.lastError).toBeTruthy();
        expect((await serviceEntryFor(r.a.api, BAR.hostname))?.spec).toEqual(before?.spec);
      } finally {
        await impostor.close();
      }

      // The genuine exporter and documents are back: Ready, nothing rejected any more.
      await r.b.exporter.start();
      const healed = await waitForCondition(
        r,
        r.a,
        'cluster-b',
        (f) => isReady(f) && (f.status?.rejectedItems ?? []).length === 0,
        'Ready=True with no rejected items',
        2 * STEP_TIMEOUT_MS,
      );
      expect(healed.status?.importedServices).toBe(1);
    },
    6 * STEP_TIMEOUT_MS,
  );

  test(
    "9. A's addon-operator restarted: the same objects, untouched",
    async () => {
      const r = current();
      const snapshot = async () => {
        const entries = await importedServiceEntries(r.a.api);
        const byName = (objects: KubeObject[]) =>
          Object.fromEntries(
            objects.map((o) => [
              o.metadata.name,
              { spec: (o as { spec?: unknown }).spec, resourceVersion: o.metadata.resourceVersion },
            ]),
          );
        const rules = await r.a.api.list(
          resourcePath('networking.istio.io/v1', 'destinationrules', { namespace: 'd8-istio' }),
        );
        return { entries: byName(entries), rules: byName(rules), trust: await trustedRoots(r.a.api) };
      };
      const before = await snapshot();
      expect(Object.keys(before.entries).length).toBeGreaterThan(0);

      const successes = r.a.operator.countLogMessages('ModuleRun success, module is ready');
      const restartedAt = Date.now();
      await r.a.operator.stop();
      await r.a.operator.start();
      await pollUntil(
        async () =>
          r.a.operator.countLogMessages('ModuleRun success, module is ready') > successes ? true : undefined,
        {
          what: "cluster-a: addon-operator's first ModuleRun after the restart",
          timeoutMs: STEP_TIMEOUT_MS,
          describe: describeRun(r),
          abortIf: () => r.a.operator.describeExit(),
        },
      );
      figures.operatorRestartToModuleReadyMs = Date.now() - restartedAt;
      await waitForCondition(r, r.a, 'cluster-b', isReady, 'Ready=True after the restart');
      const after = await snapshot();
      expect(after.entries).toEqual(before.entries);
      expect(after.rules).toEqual(before.rules);
      expect(after.trust).toEqual(before.trust);
    },
    STEP_TEST_TIMEOUT_MS,
  );
});
