// Renders every combination of the settings that shape the chart with real Helm and
// checks the semantics of each result (which objects exist and their key fields).
import {
  CUSTOM_CERTIFICATE_SECRET,
  SERVICE_ENTRIES,
  TRUSTED_PEERS,
  scenarioValues,
  type HttpsMode,
  type Inlet,
  type Scenario,
} from './fixtures';
import {
  findObject,
  mapConcurrently,
  objectKey,
  render,
  RenderFailed,
  type JsonObject,
  type KubeObject,
} from './render';
import { expectedImports, renderedImports } from './imports';
import { validationProblems } from './validate';

const INLETS: Inlet[] = ['LoadBalancer', 'NodePort'];
const NODE_PORTS: (number | undefined)[] = [undefined, 31443];
const HTTPS_MODES: HttpsMode[] = ['CertManager', 'CustomCertificate', 'OnlyInURI', 'Disabled'];
const BOOLEANS = [false, true];

const SCENARIOS: Scenario[] = BOOLEANS.flatMap((enabled) =>
  INLETS.flatMap((inlet) =>
    NODE_PORTS.flatMap((nodePort) =>
      BOOLEANS.flatMap((advertise) =>
        BOOLEANS.flatMap((federations) =>
          HTTPS_MODES.map((httpsMode) => ({ enabled, inlet, nodePort, advertise, federations, httpsMode })),
        ),
      ),
    ),
  ),
);

/** Objects every enabled render has, whatever the settings. */
const ALWAYS_WHEN_ENABLED = [
  'ServiceAccount/d8-istio/ingressgateway',
  'Deployment/d8-istio/ingressgateway',
  'PodDisruptionBudget/d8-istio/ingressgateway',
  'Service/d8-istio/ingressgateway',
  'Gateway/d8-istio/ingressgateway',
  'ServiceAccount/d8-istio/metadata-exporter',
  'Deployment/d8-istio/metadata-exporter',
  'Service/d8-istio/metadata-exporter',
  'Ingress/d8-istio/metadata-exporter',
  'Role/d8-istio/metadata-exporter',
  'RoleBinding/d8-istio/metadata-exporter',
  'Secret/d8-istio/d8-istio-federation-documents',
  'Secret/d8-istio/d8-remote-authn-keypair',
  'ConfigMap/d8-istio/d8-istio-federation-mesh-config',
  'ValidatingAdmissionPolicy//d8-istio-federation-public-service-ports',
  'ValidatingAdmissionPolicyBinding//d8-istio-federation-public-service-ports',
  'PrometheusRule/d8-istio/istio-federation',
  'PodMonitor/d8-istio/metadata-exporter',
  'PodMonitor/d8-istio/ingressgateway',
  'GrafanaDashboardDefinition//d8-istio-federation',
];

type Outcome = { scenario: Scenario; objects: KubeObject[] } | { scenario: Scenario; error: Error };

let outcomes: Outcome[];

beforeAll(async () => {
  // Two at a time: Helm is CPU-bound and CI has two cores.
  outcomes = await mapConcurrently(SCENARIOS, 2, async (scenario): Promise<Outcome> => {
    try {
      return { scenario, objects: await render(scenarioValues(scenario)) };
    } catch (error) {
      return { scenario, error: error as Error };
    }
  });
});

function describeScenario(s: Scenario): string {
  return JSON.stringify(s);
}

/** The matrix never enables multicluster: its admission policy is always there. */
const MULTICLUSTER_DISABLED = [
  'ValidatingAdmissionPolicy//d8-istio-multicluster-disabled',
  'ValidatingAdmissionPolicyBinding//d8-istio-multicluster-disabled',
];

function expectedKeys(s: Scenario): string[] {
  if (!s.enabled) {
    return [
      'ValidatingAdmissionPolicy//d8-istio-federation-disabled',
      'ValidatingAdmissionPolicyBinding//d8-istio-federation-disabled',
      ...MULTICLUSTER_DISABLED,
    ].sort();
  }
  const keys = [...ALWAYS_WHEN_ENABLED, ...MULTICLUSTER_DISABLED];
  if (s.httpsMode === 'CertManager') keys.push('Certificate/d8-istio/istio-metadata');
  return keys.sort();
}

function checkEnabledFields(s: Scenario, objects: KubeObject[]): void {
  const service = findObject(objects, 'Service', 'ingressgateway');
  const spec = service?.spec as { type: string; externalTrafficPolicy: string; ports: JsonObject[] };
  expect(spec.type).toBe(s.inlet);
  expect(spec.externalTrafficPolicy).toBe('Local');
  expect(service?.metadata.labels?.app).toBe('ingressgateway');
  expect((service?.metadata as JsonObject).annotations).toEqual({ 'example.com/lb-class': 'external' });
  const tls = spec.ports.find((p) => p.name === 'tls');
  expect(tls).toMatchObject({ port: 15443, targetPort: 15443 });
  // A fixed nodePort only means something for the NodePort inlet.
  if (s.inlet === 'NodePort' && s.nodePort !== undefined) expect(tls?.nodePort).toBe(s.nodePort);
  else expect(tls?.nodePort).toBeUndefined();

  const ingress = findObject(objects, 'Ingress', 'metadata-exporter')?.spec as JsonObject;
  if (s.httpsMode === 'OnlyInURI') expect(ingress.tls).toBeUndefined();
  else {
    const secretName = s.httpsMode === 'CustomCertificate' ? CUSTOM_CERTIFICATE_SECRET : 'istio-metadata-tls';
    expect(ingress.tls).toEqual([{ hosts: ['istio-metadata.example.com'], secretName }]);
  }

  const mesh = (findObject(objects, 'ConfigMap', 'd8-istio-federation-mesh-config')?.data as { mesh: string })
    .mesh;
  for (const peer of TRUSTED_PEERS) {
    expect(mesh.includes(peer.trustDomain)).toBe(s.federations);
  }
}

test('the matrix covers every combination', () => {
  expect(SCENARIOS).toHaveLength(2 * 2 * 2 * 2 * 2 * 4);
  expect(new Set(SCENARIOS.map(describeScenario)).size).toBe(SCENARIOS.length);
});

test('HTTPS disabled fails the render with a clear message, and only then', () => {
  for (const outcome of outcomes) {
    const mustFail = outcome.scenario.enabled && outcome.scenario.httpsMode === 'Disabled';
    if ('error' in outcome) {
      expect({ scenario: describeScenario(outcome.scenario), mustFail }).toEqual({
        scenario: describeScenario(outcome.scenario),
        mustFail: true,
      });
      expect(outcome.error).toBeInstanceOf(RenderFailed);
      expect(outcome.error.message).toMatch(/requires HTTPS: global\.modules\.https\.mode is Disabled/);
    } else {
      expect({ scenario: describeScenario(outcome.scenario), mustFail }).toEqual({
        scenario: describeScenario(outcome.scenario),
        mustFail: false,
      });
    }
  }
});

test('each render has exactly the expected objects, no duplicates, all valid', () => {
  let checked = 0;
  for (const outcome of outcomes) {
    if ('error' in outcome) continue;
    const { scenario, objects } = outcome;
    const keys = objects.map(objectKey);
    const context = describeScenario(scenario);
    const imported = (k: string) => /^(ServiceEntry|DestinationRule)\//.test(k);
    expect({ context, keys: keys.filter((k) => !imported(k)).sort() }).toEqual({
      context,
      keys: expectedKeys(scenario),
    });
    // Imports exist exactly when there are federations (packing is tested in remote-services.test.ts).
    const expected = scenario.enabled && scenario.federations ? expectedImports(SERVICE_ENTRIES) : [];
    expect({ context, imports: renderedImports(objects) }).toEqual({ context, imports: expected });
    expect({ context, rules: keys.some((k) => k.startsWith('DestinationRule/')) }).toEqual({
      context,
      rules: expected.length > 0,
    });
    expect({ context, duplicates: keys.filter((k, i) => keys.indexOf(k) !== i) }).toEqual({
      context,
      duplicates: [],
    });
    expect({ context, problems: objects.flatMap(validationProblems) }).toEqual({ context, problems: [] });
    if (scenario.enabled) checkEnabledFields(scenario, objects);
    checked++;
  }
  // 128 combinations minus the 16 enabled ones with HTTPS disabled.
  expect(checked).toBe(112);
});
