// Values the module schema rejects never reach Helm (addon-operator validates first),
// and globals the templates need fail the render with a message naming them.
import { FULL_SCENARIO, scenarioValues } from './fixtures';
import {
  prepareValues,
  render,
  RenderFailed,
  ValuesRejected,
  type JsonObject,
  type ModuleValues,
} from './render';

function valuesWith(change: (istio: JsonObject, global: JsonObject) => void): ModuleValues {
  // A deep copy: the fixtures share their constants between scenarios.
  const values = structuredClone(scenarioValues(FULL_SCENARIO));
  change(values.istio, values.global);
  return values;
}

function ingressGateway(istio: JsonObject): JsonObject {
  return (istio.alliance as { ingressGateway: JsonObject }).ingressGateway;
}

function firstServiceEntry(istio: JsonObject): JsonObject {
  const entries = (istio.internal as { federation: { serviceEntries: JsonObject[] } }).federation
    .serviceEntries;
  return entries[0]!;
}

const REJECTED: [string, (istio: JsonObject) => void, RegExp][] = [
  [
    'a privileged nodePort',
    (i) => (ingressGateway(i).nodePort = { port: 80 }),
    /nodePort\/port must be >= 1024/,
  ],
  [
    'an unknown inlet',
    (i) => (ingressGateway(i).inlet = 'Foo'),
    /inlet must be equal to one of the allowed values/,
  ],
  ['an unknown setting', (i) => (ingressGateway(i).replicas = 3), /must NOT have additional properties/],
  [
    'an unknown top-level key',
    (i) => (i.federationn = { enabled: true }),
    /must NOT have additional properties/,
  ],
  ['a non-boolean enabled', (i) => (i.federation = { enabled: 'yes' }), /enabled must be boolean/],
  [
    'a ServiceEntry with resolution NONE',
    (i) => (firstServiceEntry(i).resolution = 'NONE'),
    /resolution must be equal to one of the allowed values/,
  ],
  [
    'a ServiceEntry without endpoints',
    (i) => (firstServiceEntry(i).endpoints = []),
    /endpoints must NOT have fewer/,
  ],
  [
    'a ServiceEntry port name Istio would refuse',
    (i) => ((firstServiceEntry(i).ports as JsonObject[])[0]!.name = 'Foo_Bar'),
    /name must match pattern/,
  ],
  [
    'a wildcard hostname',
    (i) => (firstServiceEntry(i).hostname = '*.cluster-a.local'),
    /hostname must match pattern/,
  ],
];

describe('values rejected by the schema are rejected before rendering', () => {
  const savedHelm = process.env.HELM_BIN;
  // If Helm were run at all, it would fail with ENOENT instead of ValuesRejected.
  beforeAll(() => {
    process.env.HELM_BIN = '/nonexistent/helm-must-not-run';
  });
  afterAll(() => {
    process.env.HELM_BIN = savedHelm;
  });

  for (const [what, change, message] of REJECTED) {
    test(what, async () => {
      const rejected = render(valuesWith(change));
      await expect(rejected).rejects.toBeInstanceOf(ValuesRejected);
      await expect(rejected).rejects.toThrow(message);
    });
  }

  test('the unchanged values pass, with defaults applied', () => {
    const prepared = prepareValues(scenarioValues(FULL_SCENARIO));
    const internal = prepared.istio.internal as { images: JsonObject; istiodAddress: string };
    expect(internal.images).toEqual({
      proxyv2: 'docker.io/istio/proxyv2:1.30.3',
      metadataExporter: expect.stringContaining('metadata-exporter'),
      apiProxy: expect.stringContaining('api-proxy'),
    });
    expect(internal.istiodAddress).toBe('istiod.d8-istio.svc:15012');
  });
});

describe('globals the templates need', () => {
  test.each([
    [
      'clusterDomain',
      (g: JsonObject) => delete (g.discovery as JsonObject).clusterDomain,
      /global\.discovery\.clusterDomain is required/,
    ],
    [
      'clusterUUID',
      (g: JsonObject) => delete (g.discovery as JsonObject).clusterUUID,
      /global\.discovery\.clusterUUID is required/,
    ],
    [
      'publicDomainTemplate',
      (g: JsonObject) => delete (g.modules as JsonObject).publicDomainTemplate,
      /publicDomainTemplate is required/,
    ],
    [
      'a publicDomainTemplate without %s',
      (g: JsonObject) => ((g.modules as JsonObject).publicDomainTemplate = 'example.com'),
      /must contain %s/,
    ],
  ])('missing %s fails the render', async (_what, change, message) => {
    const failed = render(valuesWith((_istio, global) => change(global)));
    await expect(failed).rejects.toBeInstanceOf(RenderFailed);
    await expect(failed).rejects.toThrow(message);
  });

  test('disabled federation and multicluster need no globals at all', async () => {
    const objects = await render({ global: {}, istio: { federation: { enabled: false } } });
    expect(objects.map((o) => o.kind).sort()).toEqual([
      'ValidatingAdmissionPolicy',
      'ValidatingAdmissionPolicy',
      'ValidatingAdmissionPolicyBinding',
      'ValidatingAdmissionPolicyBinding',
    ]);
  });
});
