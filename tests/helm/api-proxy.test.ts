// The multicluster api-proxy's objects, rendered with real Helm: only with
// multicluster.enabled, valid for the API server, HTTPS-only Ingress on istio-api-proxy.<domain>,
// a non-root read-only Deployment, the peers Secret, and the minimal read-only RBAC.
import {
  CLUSTER_UUID,
  CUSTOM_CERTIFICATE_SECRET,
  FULL_SCENARIO,
  scenarioValues,
  type HttpsMode,
} from './fixtures';
import {
  findObject,
  render,
  RenderFailed,
  type JsonObject,
  type KubeObject,
  type ModuleValues,
} from './render';
import { parseCommandLine } from '../../images/api-proxy/cli';
import { PEERS_FILE_NAME } from '../../images/api-proxy/peers';
import { validationProblems } from './validate';

const API_HOST = 'istio-api-proxy.example.com';
const PEER = {
  name: 'cluster-a',
  clusterUUID: '5a2f8c62-7d2b-4bd5-8f57-1c2b3b6b7d10',
  rootCA: '-----BEGIN CERTIFICATE-----\nMIIBpeerA\n-----END CERTIFICATE-----\n',
  authnKeyPub:
    '-----BEGIN ED25519 PUBLIC KEY-----\nMCowBQYDK2VwAyEA0Tx8Pm3QrOPB6xPXdChWmxw/rDRKvPBLMa0aCaDfzfc=\n-----END ED25519 PUBLIC KEY-----\n',
};

function multiclusterValues(options: { httpsMode?: HttpsMode; federation?: boolean } = {}): ModuleValues {
  const values = scenarioValues({
    ...FULL_SCENARIO,
    enabled: options.federation ?? false,
    httpsMode: options.httpsMode ?? 'CertManager',
  });
  values.istio.multicluster = { enabled: true };
  (values.istio.internal as JsonObject).multicluster = { trustedPeers: [PEER] };
  return values;
}

const apiProxyObjects = (objects: KubeObject[]) =>
  objects.filter((o) => o.metadata.labels?.app === 'api-proxy');
const must = (objects: KubeObject[], kind: string, name: string): KubeObject => {
  const found = findObject(objects, kind, name);
  if (!found) throw new Error(`${kind}/${name} not rendered`);
  return found;
};

let enabled: KubeObject[];
let withFederation: KubeObject[];
let disabled: KubeObject[];

beforeAll(async () => {
  [enabled, withFederation, disabled] = await Promise.all([
    render(multiclusterValues()),
    render(multiclusterValues({ federation: true })),
    render(scenarioValues(FULL_SCENARIO)),
  ]);
});

test('nothing of the api-proxy is rendered while multicluster is disabled; admission refuses IstioMulticluster', () => {
  expect(apiProxyObjects(disabled)).toEqual([]);
  const policy = must(disabled, 'ValidatingAdmissionPolicy', 'd8-istio-multicluster-disabled');
  expect(policy.spec).toMatchObject({
    failurePolicy: 'Fail',
    matchConstraints: {
      resourceRules: [
        { apiGroups: ['deckhouse.io'], operations: ['CREATE'], resources: ['istiomulticlusters'] },
      ],
    },
    validations: [{ expression: 'false', reason: 'Forbidden' }],
  });
  expect(must(disabled, 'ValidatingAdmissionPolicyBinding', 'd8-istio-multicluster-disabled').spec).toEqual({
    policyName: 'd8-istio-multicluster-disabled',
    validationActions: ['Deny'],
  });
  expect(findObject(enabled, 'ValidatingAdmissionPolicy', 'd8-istio-multicluster-disabled')).toBeUndefined();
});

test('multicluster alone renders the api-proxy and not the federation-only objects', () => {
  expect(
    apiProxyObjects(enabled)
      .map((o) => `${o.kind}/${o.metadata.name}`)
      .sort(),
  ).toEqual([
    'Certificate/api-proxy',
    'ClusterRole/d8:istio:multicluster:api-proxy',
    'ClusterRoleBinding/d8:istio:multicluster:api-proxy',
    'Deployment/api-proxy',
    'Ingress/api-proxy',
    'PodMonitor/api-proxy',
    'Role/d8:istio:multicluster:api-proxy',
    'RoleBinding/d8:istio:multicluster:api-proxy',
    'Secret/d8-remote-multiclusters-public-metadata',
    'Service/api-proxy',
    'ServiceAccount/multicluster-api-proxy',
  ]);
  // The metadata exporter serves both relationships (tests/helm/multicluster-modes.test.ts);
  // what only federation needs stays away.
  expect(findObject(enabled, 'Deployment', 'metadata-exporter')).toBeDefined();
  expect(enabled.filter((o) => o.kind === 'ServiceEntry' || o.kind === 'DestinationRule')).toEqual([]);
  expect(
    findObject(enabled, 'ValidatingAdmissionPolicy', 'd8-istio-federation-public-service-ports'),
  ).toBeUndefined();
  // With federation on too, both sets coexist.
  expect(apiProxyObjects(withFederation)).toHaveLength(11);
  expect(findObject(withFederation, 'Deployment', 'metadata-exporter')).toBeDefined();
});

test('every api-proxy object is valid for the API server', () => {
  expect(apiProxyObjects(enabled).flatMap(validationProblems)).toEqual([]);
});

test('Deployment: non-root, read-only root FS, no privilege, HTTPS probes, the peers Secret mounted', () => {
  const spec = (must(enabled, 'Deployment', 'api-proxy').spec as { template: { spec: JsonObject } }).template
    .spec as {
    serviceAccountName: string;
    automountServiceAccountToken: boolean;
    securityContext: JsonObject;
    containers: {
      image: string;
      args: string[];
      env: { name: string; value: string }[];
      securityContext: JsonObject;
      readinessProbe: JsonObject;
      livenessProbe: JsonObject;
      volumeMounts: JsonObject[];
    }[];
    volumes: JsonObject[];
  };
  expect(spec.serviceAccountName).toBe('multicluster-api-proxy');
  expect(spec.automountServiceAccountToken).toBe(true);
  expect(spec.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 64535 });
  const [container] = spec.containers;
  expect(container!.image).toContain('api-proxy');
  expect(container!.args).toEqual([
    '--listen',
    ':4443',
    '--tls-self-signed',
    '--peers-file',
    '/etc/api-proxy/peers/remote-multiclusters-public-metadata.json',
  ]);
  expect(container!.env).toEqual([{ name: 'CLUSTER_UUID', value: CLUSTER_UUID }]);
  expect(container!.securityContext).toEqual({
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    capabilities: { drop: ['ALL'] },
  });
  expect(container!.readinessProbe).toMatchObject({
    httpGet: { path: '/ready', port: 4443, scheme: 'HTTPS' },
  });
  expect(container!.livenessProbe).toMatchObject({
    httpGet: { path: '/livez', port: 4443, scheme: 'HTTPS' },
  });
  expect(container!.volumeMounts).toEqual([
    { name: 'peers', mountPath: '/etc/api-proxy/peers', readOnly: true },
  ]);
  expect(spec.volumes).toEqual([
    { name: 'peers', secret: { secretName: 'd8-remote-multiclusters-public-metadata' } },
  ]);
});

test("the Deployment's command line is one the executable accepts, reading the Secret's key", () => {
  const container = (
    (must(enabled, 'Deployment', 'api-proxy').spec as { template: { spec: JsonObject } }).template.spec as {
      containers: { args: string[]; env: { name: string; value: string }[] }[];
    }
  ).containers[0]!;
  const env = Object.fromEntries(container.env.map((e) => [e.name, e.value]));
  const config = parseCommandLine(container.args, env);
  expect(config).toMatchObject({
    listen: { host: undefined, port: 4443 },
    clusterUUID: CLUSTER_UUID,
    tls: 'self-signed',
    peersFile: `/etc/api-proxy/peers/${PEERS_FILE_NAME}`,
  });
  expect(config.kubeconfig).toBeUndefined();
  const secret = must(enabled, 'Secret', 'd8-remote-multiclusters-public-metadata');
  expect(Object.keys(secret.data as JsonObject)).toEqual([PEERS_FILE_NAME]);
});

test('the peers Secret lists multicluster peers only, never federation peers', () => {
  const secret = must(withFederation, 'Secret', 'd8-remote-multiclusters-public-metadata');
  const data = secret.data as Record<string, string>;
  const peers = JSON.parse(
    Buffer.from(data['remote-multiclusters-public-metadata.json']!, 'base64').toString('utf8'),
  );
  expect(peers).toEqual({
    [PEER.clusterUUID]: { clusterUUID: PEER.clusterUUID, authnKeyPub: PEER.authnKeyPub, rootCA: PEER.rootCA },
  });
  // Federation peers live in the exporter's own Secret, which the api-proxy never reads.
  const documents = must(withFederation, 'Secret', 'd8-istio-federation-documents');
  expect(Object.keys(documents.data as JsonObject)).toContain('remote-public-metadata.json');
  const deployment = JSON.stringify(must(withFederation, 'Deployment', 'api-proxy'));
  expect(deployment).not.toContain('d8-istio-federation-documents');
});

test('Ingress: istio-api-proxy host, HTTPS, only /api, /apis and /version, streaming-friendly', () => {
  const ingress = must(enabled, 'Ingress', 'api-proxy');
  const annotations = ingress.metadata.annotations as Record<string, string>;
  expect(annotations).toMatchObject({
    'nginx.ingress.kubernetes.io/backend-protocol': 'HTTPS',
    'nginx.ingress.kubernetes.io/proxy-read-timeout': '3600',
    'nginx.ingress.kubernetes.io/proxy-buffering': 'off',
    'nginx.ingress.kubernetes.io/force-ssl-redirect': 'true',
  });
  const spec = ingress.spec as {
    tls: JsonObject[];
    rules: { host: string; http: { paths: JsonObject[] } }[];
  };
  expect(spec.tls).toEqual([{ hosts: [API_HOST], secretName: 'api-proxy-ingress-tls' }]);
  expect(spec.rules).toHaveLength(1);
  expect(spec.rules[0]!.host).toBe(API_HOST);
  expect(spec.rules[0]!.http.paths.map((p) => [p.path, p.pathType])).toEqual([
    ['/api', 'Prefix'],
    ['/apis', 'Prefix'],
    ['/version', 'Exact'],
  ]);
  expect(must(enabled, 'Certificate', 'api-proxy').spec).toMatchObject({
    secretName: 'api-proxy-ingress-tls',
    dnsNames: [API_HOST],
  });
});

test('CustomCertificate uses the platform Secret; OnlyInURI terminates TLS outside; Disabled fails', async () => {
  const custom = await render(multiclusterValues({ httpsMode: 'CustomCertificate' }));
  expect((must(custom, 'Ingress', 'api-proxy').spec as JsonObject).tls).toEqual([
    { hosts: [API_HOST], secretName: CUSTOM_CERTIFICATE_SECRET },
  ]);
  expect(findObject(custom, 'Certificate', 'api-proxy')).toBeUndefined();
  const external = await render(multiclusterValues({ httpsMode: 'OnlyInURI' }));
  expect((must(external, 'Ingress', 'api-proxy').spec as JsonObject).tls).toBeUndefined();
  const failed = render(multiclusterValues({ httpsMode: 'Disabled' }));
  await expect(failed).rejects.toBeInstanceOf(RenderFailed);
  await expect(failed).rejects.toThrow(/HTTPS is mandatory for api proxy/);
});

test('a cluster without cert-manager renders no Certificate', async () => {
  expect(findObject(await render(multiclusterValues(), []), 'Certificate', 'api-proxy')).toBeUndefined();
});

test('a PodMonitor scrapes /metrics on the https port the pod declares; no scrape annotations', async () => {
  const monitor = must(enabled, 'PodMonitor', 'api-proxy');
  expect(monitor.metadata.namespace).toBe('d8-istio');
  expect(monitor.metadata.labels).toMatchObject({ prometheus: 'main' });
  expect(monitor.spec).toEqual({
    jobLabel: 'app',
    namespaceSelector: { matchNames: ['d8-istio'] },
    selector: { matchLabels: { app: 'api-proxy' } },
    // The proxy's certificate is self-signed (--tls-self-signed).
    podMetricsEndpoints: [
      { port: 'https', path: '/metrics', scheme: 'https', tlsConfig: { insecureSkipVerify: true } },
    ],
  });
  const deployment = must(enabled, 'Deployment', 'api-proxy');
  const template = (deployment.spec as { template: { metadata: KubeObject['metadata'] & JsonObject } })
    .template;
  expect(deployment.metadata.namespace).toBe('d8-istio');
  expect(template.metadata.labels).toMatchObject({ app: 'api-proxy' });
  expect(
    Object.keys(template.metadata.annotations ?? {}).filter((k) => k.startsWith('prometheus.io/')),
  ).toEqual([]);
  const container = (
    template as unknown as { spec: { containers: { args: string[]; ports: JsonObject[] }[] } }
  ).spec.containers[0]!;
  expect(container.ports).toContainEqual({ name: 'https', containerPort: 4443, protocol: 'TCP' });
  expect(container.args).toContain('--tls-self-signed');
  // Without prometheus-operator: no PodMonitor; without multicluster: none for the proxy.
  expect(findObject(await render(multiclusterValues(), []), 'PodMonitor', 'api-proxy')).toBeUndefined();
  expect(findObject(disabled, 'PodMonitor', 'api-proxy')).toBeUndefined();
});

describe('RBAC: read-only, no secrets, no subresources', () => {
  type Rule = { apiGroups: string[]; resources: string[]; verbs: string[]; resourceNames?: string[] };
  const rules = (kind: string) =>
    (must(enabled, kind, 'd8:istio:multicluster:api-proxy') as unknown as { rules: Rule[] }).rules;

  test('the ClusterRole is exactly the documented rule set', () => {
    expect(rules('ClusterRole')).toEqual([
      {
        apiGroups: [''],
        resources: ['services', 'endpoints', 'pods', 'nodes', 'namespaces'],
        verbs: ['get', 'list', 'watch'],
      },
      { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['get', 'list', 'watch'] },
      {
        apiGroups: ['apiextensions.k8s.io'],
        resources: ['customresourcedefinitions'],
        verbs: ['get', 'list', 'watch'],
      },
      { apiGroups: ['gateway.networking.k8s.io'], resources: ['gateways'], verbs: ['get', 'list', 'watch'] },
      {
        apiGroups: ['networking.istio.io', 'security.istio.io', 'telemetry.istio.io', 'extensions.istio.io'],
        resources: ['*'],
        verbs: ['get', 'list', 'watch'],
      },
    ]);
  });

  test('the Role adds ConfigMaps in d8-istio only', () => {
    const role = must(enabled, 'Role', 'd8:istio:multicluster:api-proxy');
    expect(role.metadata.namespace).toBe('d8-istio');
    expect(rules('Role')).toEqual([
      { apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list', 'watch'] },
    ]);
  });

  test('no rule grants a write, secrets, service accounts, a subresource or a wildcard core/apps resource', () => {
    for (const rule of [...rules('ClusterRole'), ...rules('Role')]) {
      expect(rule.verbs).toEqual(['get', 'list', 'watch']);
      expect(rule.resources.filter((r) => /secret|serviceaccount|\//.test(r))).toEqual([]);
      if (rule.resources.includes('*'))
        expect(rule.apiGroups.every((g) => g.endsWith('.istio.io'))).toBe(true);
    }
  });

  test('both bindings name the proxy ServiceAccount in d8-istio', () => {
    for (const kind of ['ClusterRoleBinding', 'RoleBinding']) {
      const binding = must(enabled, kind, 'd8:istio:multicluster:api-proxy') as unknown as {
        subjects: JsonObject[];
        roleRef: JsonObject;
      };
      expect(binding.subjects).toEqual([
        { kind: 'ServiceAccount', name: 'multicluster-api-proxy', namespace: 'd8-istio' },
      ]);
      expect(binding.roleRef).toEqual({
        apiGroup: 'rbac.authorization.k8s.io',
        kind: kind === 'RoleBinding' ? 'Role' : 'ClusterRole',
        name: 'd8:istio:multicluster:api-proxy',
      });
    }
  });
});
