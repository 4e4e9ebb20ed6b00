// Renders the chart with real Helm for a fully populated federation and checks every
// object against the API schemas, then the details each consumer relies on.
import { parse } from 'yaml';
import {
  CLUSTER_DOMAIN,
  CLUSTER_UUID,
  CUSTOM_CERTIFICATE_SECRET,
  FULL_SCENARIO,
  INGRESS_GATEWAYS,
  KEYPAIR,
  METADATA_HOST,
  PUBLIC_SERVICES,
  SERVICE_ENTRIES,
  TRUSTED_PEERS,
  scenarioValues,
} from './fixtures';
import { findObject, render, type JsonObject, type KubeObject } from './render';
import { destinationRuleHostFor, destinationRules, expectedImports, renderedImports } from './imports';
import { validationProblems } from './validate';

type Container = {
  name: string;
  image: string;
  args: string[];
  env: { name: string; value?: string }[];
  ports: { name: string; containerPort: number }[];
  readinessProbe: { httpGet: { path: string; port: number } };
  livenessProbe?: { httpGet: { path: string; port: number } };
  resources: { requests: Record<string, string> };
  securityContext: JsonObject;
  volumeMounts: { name: string; mountPath: string }[];
};
type PodSpec = {
  serviceAccountName: string;
  automountServiceAccountToken: boolean;
  securityContext: JsonObject;
  nodeSelector?: Record<string, string>;
  tolerations?: JsonObject[];
  containers: Container[];
  volumes: JsonObject[];
};

function podSpec(deployment: KubeObject | undefined): PodSpec {
  if (!deployment) throw new Error('Deployment not rendered');
  return (deployment.spec as { template: { spec: PodSpec } }).template.spec;
}

function mustFind(objects: KubeObject[], kind: string, name: string): KubeObject {
  const object = findObject(objects, kind, name);
  if (!object) throw new Error(`${kind}/${name} not rendered`);
  return object;
}

function secretJson(secret: KubeObject, key: string): unknown {
  const data = secret.data as Record<string, string>;
  const encoded = data[key];
  if (encoded === undefined) throw new Error(`Secret ${secret.metadata.name} lacks ${key}`);
  return JSON.parse(Buffer.from(encoded, 'base64').toString('utf8'));
}

function envOf(container: Container): Record<string, string | undefined> {
  return Object.fromEntries(container.env.map((e) => [e.name, e.value]));
}

let full: KubeObject[];
let customCertificate: KubeObject[];
let onlyInUri: KubeObject[];
let disabled: KubeObject[];

beforeAll(async () => {
  [full, customCertificate, onlyInUri, disabled] = await Promise.all([
    render(scenarioValues(FULL_SCENARIO)),
    render(scenarioValues({ ...FULL_SCENARIO, httpsMode: 'CustomCertificate' })),
    render(scenarioValues({ ...FULL_SCENARIO, httpsMode: 'OnlyInURI' })),
    render(scenarioValues({ ...FULL_SCENARIO, enabled: false })),
  ]);
});

describe('every rendered object is valid for the API server', () => {
  const cases: [string, () => KubeObject[]][] = [
    ['full federation', () => full],
    ['CustomCertificate', () => customCertificate],
    ['OnlyInURI', () => onlyInUri],
    ['disabled', () => disabled],
  ];
  for (const [name, objects] of cases) {
    test(name, () => {
      expect(objects().length).toBeGreaterThan(0);
      expect(objects().flatMap(validationProblems)).toEqual([]);
    });
  }

  test('the validators do catch broken objects', () => {
    const deployment = structuredClone(mustFind(full, 'Deployment', 'ingressgateway'));
    (deployment.spec as JsonObject).replicas = 'two';
    const serviceEntry = structuredClone(full.find((o) => o.kind === 'ServiceEntry')!);
    const seSpec = serviceEntry.spec as JsonObject;
    seSpec.location = 'MESH_INTERNALL';
    seSpec.unknownField = true;
    seSpec.endpoints = [{ address: '192.0.2.1', ports: { grpc_api: 15443 } }];
    seSpec.hosts = Array.from({ length: 257 }, (_, i) => `h${i}.ns.svc.cluster-a.local`);
    const rule = structuredClone(mustFind(full, 'PrometheusRule', 'istio-federation'));
    (rule.spec as { groups: { rules: JsonObject[] }[] }).groups[0]!.rules[0]!.for = 'five minutes';
    const badName = structuredClone(mustFind(full, 'Service', 'ingressgateway'));
    badName.metadata.name = 'Ingress_Gateway';

    expect(validationProblems(deployment).join('\n')).toMatch(/replicas/);
    const seProblems = validationProblems(serviceEntry).join('\n');
    expect(seProblems).toMatch(/location/);
    expect(seProblems).toMatch(/unknownField/);
    expect(seProblems).toMatch(/port name must be valid: grpc_api/);
    expect(seProblems).toMatch(/hosts must NOT have more than 256 items/);
    expect(validationProblems(rule).join('\n')).toMatch(/invalid duration/);
    expect(validationProblems(badName).join('\n')).toMatch(/not a valid Service name/);
  });
});

describe('ingress gateway', () => {
  test('Deployment runs the Istio proxy as a router for this trust domain, taking peer roots over PCDS', () => {
    const spec = podSpec(findObject(full, 'Deployment', 'ingressgateway'));
    const [proxy] = spec.containers;
    if (!proxy) throw new Error('no container');
    const env = envOf(proxy);
    expect(proxy.image).toBe('docker.io/istio/proxyv2:1.30.3');
    expect(proxy.args.slice(0, 2)).toEqual(['proxy', 'router']);
    // Obsolete since istiod detects SNI-DNAT from the AUTO_PASSTHROUGH Gateway.
    expect(env).not.toHaveProperty('ISTIO_META_ROUTER_MODE');
    expect(env.PROXY_CONFIG_XDS_AGENT).toBe('true');
    expect(env.TRUST_DOMAIN).toBe(CLUSTER_DOMAIN);
    expect(env.ISTIO_META_CLUSTER_ID).toMatch(/^cluster-b-local-[0-9]+$/);
    expect(env.ISTIO_META_NETWORK).toBe(`network-${env.ISTIO_META_CLUSTER_ID}`);
    expect(JSON.parse(env.PROXY_CONFIG ?? '{}')).toEqual({ discoveryAddress: 'istiod.d8-istio.svc:15012' });
    expect(Object.fromEntries(proxy.ports.map((p) => [p.name, p.containerPort]))).toEqual({
      'status-port': 15021,
      tls: 15443,
      'http-envoy-prom': 15090,
    });
    expect(proxy.readinessProbe.httpGet).toMatchObject({ path: '/healthz/ready', port: 15021 });
    expect(proxy.resources.requests).toHaveProperty('cpu');
    expect(proxy.resources.requests).toHaveProperty('memory');
    expect(spec.securityContext.runAsNonRoot).toBe(true);
    expect(spec.serviceAccountName).toBe('ingressgateway');
    expect(spec.nodeSelector).toEqual({ 'node-role.kubernetes.io/frontend': '' });
    expect(spec.tolerations).toEqual([
      { key: 'dedicated', operator: 'Equal', value: 'frontend', effect: 'NoSchedule' },
    ]);
  });

  test('cluster id depends on the cluster UUID, not only on the domain', async () => {
    const values = scenarioValues(FULL_SCENARIO);
    (values.global.discovery as JsonObject).clusterUUID = `${CLUSTER_UUID}-other`;
    const other = podSpec(findObject(await render(values), 'Deployment', 'ingressgateway'));
    const mine = podSpec(findObject(full, 'Deployment', 'ingressgateway'));
    expect(envOf(other.containers[0]!).ISTIO_META_CLUSTER_ID).not.toBe(
      envOf(mine.containers[0]!).ISTIO_META_CLUSTER_ID,
    );
  });

  test('PodDisruptionBudget and Gateway select the gateway pods', () => {
    const pdb = mustFind(full, 'PodDisruptionBudget', 'ingressgateway');
    expect((pdb.spec as JsonObject).selector).toEqual({ matchLabels: { app: 'ingressgateway' } });
    const gateway = mustFind(full, 'Gateway', 'ingressgateway');
    expect(gateway.apiVersion).toBe('networking.istio.io/v1');
    expect(gateway.spec).toEqual({
      selector: { app: 'ingressgateway' },
      servers: [
        {
          port: { number: 15443, name: 'tls', protocol: 'TLS' },
          tls: { mode: 'AUTO_PASSTHROUGH' },
          hosts: [`*.${CLUSTER_DOMAIN}`],
        },
      ],
    });
  });
});

describe('metadata exporter', () => {
  test('Deployment watches the documents Secret through the API, with its own service account', () => {
    const spec = podSpec(findObject(full, 'Deployment', 'metadata-exporter'));
    const [exporter] = spec.containers;
    if (!exporter) throw new Error('no container');
    expect(exporter.args).toEqual([
      '--documents-secret',
      'd8-istio/d8-istio-federation-documents',
      '--private-documents',
      'federation',
      '--listen',
      ':8080',
    ]);
    // The Secret it names is rendered, with the three documents.
    const documents = mustFind(full, 'Secret', 'd8-istio-federation-documents');
    expect(Object.keys(documents.data as object).sort()).toEqual([
      'federation.json',
      'public.json',
      'remote-public-metadata.json',
    ]);
    expect(exporter.readinessProbe.httpGet).toMatchObject({ path: '/healthz', port: 8080 });
    expect(exporter.livenessProbe?.httpGet).toMatchObject({ path: '/livez', port: 8080 });
    expect(exporter.securityContext.readOnlyRootFilesystem).toBe(true);
    expect(spec.securityContext.runAsNonRoot).toBe(true);
    expect(spec.serviceAccountName).toBe('metadata-exporter');
    expect(spec.automountServiceAccountToken).toBe(true);
    // Other pods that might use the account get no token.
    expect(mustFind(full, 'ServiceAccount', 'metadata-exporter').automountServiceAccountToken).toBe(false);
    expect(spec.volumes ?? []).toEqual([]);
    expect(exporter.volumeMounts ?? []).toEqual([]);
  });

  test('RBAC: get/list/watch on the documents Secret only, bound to the exporter in its namespace', () => {
    const rbac = full.filter((o) => /^(Cluster)?Role(Binding)?$/.test(o.kind));
    expect(rbac.map((o) => `${o.kind}/${o.metadata.namespace}/${o.metadata.name}`).sort()).toEqual([
      'Role/d8-istio/metadata-exporter',
      'RoleBinding/d8-istio/metadata-exporter',
    ]);
    expect(mustFind(full, 'Role', 'metadata-exporter').rules).toEqual([
      {
        apiGroups: [''],
        resources: ['secrets'],
        resourceNames: ['d8-istio-federation-documents'],
        verbs: ['get', 'list', 'watch'],
      },
    ]);
    const binding = mustFind(full, 'RoleBinding', 'metadata-exporter');
    expect(binding.roleRef).toEqual({
      apiGroup: 'rbac.authorization.k8s.io',
      kind: 'Role',
      name: 'metadata-exporter',
    });
    expect(binding.subjects).toEqual([
      { kind: 'ServiceAccount', name: 'metadata-exporter', namespace: 'd8-istio' },
    ]);
  });

  test('documents hold the public and private metadata of this cluster', () => {
    const documents = mustFind(full, 'Secret', 'd8-istio-federation-documents');
    expect(secretJson(documents, 'public.json')).toEqual({
      clusterUUID: CLUSTER_UUID,
      authnKeyPub: KEYPAIR.pub,
      rootCA: expect.stringContaining('BEGIN CERTIFICATE'),
    });
    expect(secretJson(documents, 'federation.json')).toEqual({
      ingressGateways: [{ address: 'gw.example.com', port: 443 }],
      publicServices: PUBLIC_SERVICES,
    });
    expect(secretJson(documents, 'remote-public-metadata.json')).toEqual(
      Object.fromEntries(
        TRUSTED_PEERS.map((p) => [
          p.clusterUUID,
          {
            clusterUUID: p.clusterUUID,
            authnKeyPub: p.authnKeyPub,
            rootCA: p.rootCA,
            trustDomain: p.trustDomain,
          },
        ]),
      ),
    );
    const keypair = mustFind(full, 'Secret', 'd8-remote-authn-keypair');
    const data = keypair.data as Record<string, string>;
    expect(Buffer.from(data['pub.pem']!, 'base64').toString()).toBe(KEYPAIR.pub);
    expect(Buffer.from(data['priv.pem']!, 'base64').toString()).toBe(KEYPAIR.priv);
  });

  test('discovered gateways are published when nothing is advertised', async () => {
    const objects = await render(scenarioValues({ ...FULL_SCENARIO, advertise: false }));
    const documents = mustFind(objects, 'Secret', 'd8-istio-federation-documents');
    expect(secretJson(documents, 'federation.json')).toMatchObject({ ingressGateways: INGRESS_GATEWAYS });
  });

  test('Ingress publishes /metadata/ on the metadata host over HTTPS', () => {
    const ingress = mustFind(full, 'Ingress', 'metadata-exporter');
    const spec = ingress.spec as {
      tls: { hosts: string[]; secretName: string }[];
      rules: { host: string; http: { paths: JsonObject[] } }[];
    };
    expect(spec.rules).toEqual([
      {
        host: METADATA_HOST,
        http: {
          paths: [
            {
              path: '/metadata/',
              pathType: 'Prefix',
              backend: { service: { name: 'metadata-exporter', port: { name: 'http' } } },
            },
          ],
        },
      },
    ]);
    expect(spec.tls).toEqual([{ hosts: [METADATA_HOST], secretName: 'istio-metadata-tls' }]);
    const certificate = mustFind(full, 'Certificate', 'istio-metadata');
    expect(certificate.spec).toMatchObject({ secretName: 'istio-metadata-tls', dnsNames: [METADATA_HOST] });
    const service = mustFind(full, 'Service', 'metadata-exporter');
    expect((service.spec as { ports: JsonObject[] }).ports).toEqual([
      { name: 'http', port: 8080, targetPort: 'http', protocol: 'TCP' },
    ]);
  });

  test('CustomCertificate uses the configured Secret; OnlyInURI terminates TLS outside', () => {
    const custom = mustFind(customCertificate, 'Ingress', 'metadata-exporter').spec as JsonObject;
    expect(custom.tls).toEqual([{ hosts: [METADATA_HOST], secretName: CUSTOM_CERTIFICATE_SECRET }]);
    expect(findObject(customCertificate, 'Certificate', 'istio-metadata')).toBeUndefined();
    const external = mustFind(onlyInUri, 'Ingress', 'metadata-exporter').spec as JsonObject;
    expect(external.tls).toBeUndefined();
    expect(findObject(onlyInUri, 'Certificate', 'istio-metadata')).toBeUndefined();
  });
});

describe('imported services', () => {
  test('ServiceEntries carry exactly the imported groups, each host covered by an ISTIO_MUTUAL rule', () => {
    expect(renderedImports(full)).toEqual(expectedImports(SERVICE_ENTRIES));
    for (const serviceEntry of full.filter((o) => o.kind === 'ServiceEntry')) {
      expect(serviceEntry.metadata.namespace).toBe('d8-istio');
      expect(serviceEntry.metadata.name).toMatch(/^imported-[0-9a-f]{10}-([0-9a-f]|[0-9a-f]{12})-0$/);
      expect((serviceEntry.spec as JsonObject).location).toBe('MESH_INTERNAL');
    }
    const rules = destinationRules(full);
    expect(rules.map((r) => r.host).sort()).toEqual(['*.svc.cluster-a.local', '*.svc.cluster-c.local']);
    for (const rule of rules) expect(rule.spec.trafficPolicy).toEqual({ tls: { mode: 'ISTIO_MUTUAL' } });
    for (const entry of SERVICE_ENTRIES) {
      expect(
        destinationRuleHostFor(
          entry.hostname,
          rules.map((r) => r.host),
        ),
      ).toBeDefined();
    }
  });
});

describe('trust', () => {
  test('the shared mesh config lists each peer root CA for its trust domain only', () => {
    const configMap = mustFind(full, 'ConfigMap', 'd8-istio-federation-mesh-config');
    const mesh = parse((configMap.data as Record<string, string>).mesh!) as JsonObject;
    expect(mesh).toEqual({
      caCertificates: TRUSTED_PEERS.map((p) => ({ pem: p.rootCA, trustDomains: [p.trustDomain] })),
      // Sidecar agents ask istiod for the trust bundle (PCDS) only with this set.
      defaultConfig: { proxyMetadata: { PROXY_CONFIG_XDS_AGENT: 'true' } },
    });
  });
});

describe('admission and monitoring', () => {
  test('enabled: warns about unnamed ports of public Services, does not block IstioFederation', () => {
    expect(findObject(full, 'ValidatingAdmissionPolicy', 'd8-istio-federation-disabled')).toBeUndefined();
    const policy = mustFind(full, 'ValidatingAdmissionPolicy', 'd8-istio-federation-public-service-ports');
    const spec = policy.spec as {
      matchConstraints: { objectSelector: JsonObject; resourceRules: JsonObject[] };
      validations: { expression: string }[];
    };
    expect(spec.matchConstraints.objectSelector).toEqual({
      matchExpressions: [{ key: 'federation.istio.deckhouse.io/public-service', operator: 'Exists' }],
    });
    expect(spec.matchConstraints.resourceRules[0]).toMatchObject({ resources: ['services'] });
    expect(spec.validations[0]!.expression).toContain('p.name');
    // Issue 10 item 12: only the empty label value exports the Service (as in Deckhouse).
    expect(spec.validations[1]).toMatchObject({
      expression: "object.metadata.labels['federation.istio.deckhouse.io/public-service'] == ''",
      message: expect.stringContaining('not exported'),
    });
    const binding = mustFind(
      full,
      'ValidatingAdmissionPolicyBinding',
      'd8-istio-federation-public-service-ports',
    );
    expect(binding.spec).toEqual({ policyName: policy.metadata.name, validationActions: ['Warn'] });
  });

  test('disabled: only the policies denying IstioFederation and IstioMulticluster creation', () => {
    expect(disabled.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual([
      'ValidatingAdmissionPolicy/d8-istio-federation-disabled',
      'ValidatingAdmissionPolicy/d8-istio-multicluster-disabled',
      'ValidatingAdmissionPolicyBinding/d8-istio-federation-disabled',
      'ValidatingAdmissionPolicyBinding/d8-istio-multicluster-disabled',
    ]);
    const policy = mustFind(disabled, 'ValidatingAdmissionPolicy', 'd8-istio-federation-disabled');
    expect(policy.spec).toMatchObject({
      matchConstraints: {
        resourceRules: [
          { apiGroups: ['deckhouse.io'], operations: ['CREATE'], resources: ['istiofederations'] },
        ],
      },
      validations: [{ expression: 'false' }],
    });
    const binding = mustFind(disabled, 'ValidatingAdmissionPolicyBinding', 'd8-istio-federation-disabled');
    expect(binding.spec).toEqual({ policyName: 'd8-istio-federation-disabled', validationActions: ['Deny'] });
  });

  test('PrometheusRule alerts on fetch errors, stale metadata, readiness, conflicts, dropped and refused imports', () => {
    const rule = mustFind(full, 'PrometheusRule', 'istio-federation');
    const rules = (
      rule.spec as { groups: { rules: { alert: string; expr: string; for: string }[] }[] }
    ).groups.flatMap((g) => g.rules);
    const byMetric = (metric: string) => rules.find((r) => r.expr.includes(metric));
    expect(byMetric('d8_istio_federation_metadata_endpoints_fetch_error_count')).toMatchObject({
      expr: expect.stringContaining('== 1'),
      for: '5m',
    });
    // Staleness from the condition's transition time (behaviour: tests/monitoring, promtool).
    expect(byMetric('d8_istio_federation_metadata_stale_since_timestamp_seconds')?.expr).toMatch(/> 600$/);
    expect(byMetric('d8_istio_federation_metadata_age_seconds')).toBeUndefined();
    expect(byMetric('d8_istio_federation_ready')?.expr).toMatch(/== 0\)$/);
    expect(byMetric('d8_istio_federation_import_conflicts')?.expr).toMatch(
      /^sum by \(federation_name\).*> 0$/,
    );
    expect(byMetric('d8_istio_federation_dropped_services')?.expr).toMatch(/> 0$/);
    expect(byMetric('d8_istio_federation_refused')?.expr).toMatch(/> 0$/);
    expect(new Set(rules.map((r) => r.alert)).size).toBe(rules.length);
    // Prometheus templating survives Helm's own templating.
    expect(JSON.stringify(rule)).toContain('{{ $labels.federation_name }}');
  });
});

describe('optional APIs', () => {
  test('a cluster without prometheus-operator, cert-manager and Grafana dashboards renders without their objects', async () => {
    const bare = await render(scenarioValues(FULL_SCENARIO), []);
    expect(findObject(bare, 'PrometheusRule', 'istio-federation')).toBeUndefined();
    expect(findObject(bare, 'GrafanaDashboardDefinition', 'd8-istio-federation')).toBeUndefined();
    expect(findObject(full, 'GrafanaDashboardDefinition', 'd8-istio-federation')).toBeDefined();
    expect(findObject(bare, 'Certificate', 'istio-metadata')).toBeUndefined();
    expect(bare.filter((o) => o.kind === 'PodMonitor')).toEqual([]);
    expect(bare.flatMap(validationProblems)).toEqual([]);
    // Everything else is the same as on a cluster that has them.
    const rest = (objects: KubeObject[]) =>
      objects
        .filter(
          (o) =>
            !['PrometheusRule', 'PodMonitor', 'Certificate', 'GrafanaDashboardDefinition'].includes(o.kind),
        )
        .map((o) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`)
        .sort();
    expect(rest(bare)).toEqual(rest(full));
    expect(mustFind(bare, 'Ingress', 'metadata-exporter').spec).toEqual(
      mustFind(full, 'Ingress', 'metadata-exporter').spec,
    );
  });

  test('PodMonitors scrape the exporter and the gateway by a port their pods declare; no scrape annotations', () => {
    for (const [monitorName, deploymentName, path] of [
      ['metadata-exporter', 'metadata-exporter', '/metrics'],
      ['ingressgateway', 'ingressgateway', '/stats/prometheus'],
    ] as const) {
      const monitor = mustFind(full, 'PodMonitor', monitorName);
      expect(monitor.metadata.labels).toMatchObject({ prometheus: 'main' });
      const spec = monitor.spec as {
        namespaceSelector: { matchNames: string[] };
        selector: { matchLabels: Record<string, string> };
        podMetricsEndpoints: { port: string; path: string }[];
      };
      const deployment = mustFind(full, 'Deployment', deploymentName);
      const template = (deployment.spec as { template: { metadata: KubeObject['metadata'] & JsonObject } })
        .template;
      expect(spec.namespaceSelector.matchNames).toEqual([deployment.metadata.namespace]);
      expect(template.metadata.labels).toMatchObject(spec.selector.matchLabels);
      expect(template.metadata.annotations ?? {}).not.toHaveProperty(['prometheus.io/scrape']);
      const ports = podSpec(deployment).containers.flatMap((c) => (c.ports ?? []).map((p) => p.name));
      expect(spec.podMetricsEndpoints).toEqual([expect.objectContaining({ path })]);
      expect(ports).toContain(spec.podMetricsEndpoints[0]!.port);
    }
  });
});
