// The GrafanaDashboardDefinitions as real Helm renders them (templates/monitoring/grafana-dashboard.yaml):
// one per mode, federation's only with federation enabled, multicluster's only with
// multicluster enabled, neither where the cluster lacks the GrafanaDashboardDefinition API;
// each carries its JSON file unchanged.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FULL_SCENARIO, scenarioValues } from '../helm/fixtures';
import {
  findObject,
  mapConcurrently,
  MODULE_ROOT,
  OPTIONAL_APIS,
  render,
  type KubeObject,
} from '../helm/render';
import { validationProblems } from '../helm/validate';

const DASHBOARD_API = 'deckhouse.io/v1/GrafanaDashboardDefinition';
const WITHOUT_DASHBOARD_API = OPTIONAL_APIS.filter((api) => api !== DASHBOARD_API);

interface Case {
  federation: boolean;
  multicluster: boolean;
  api: boolean;
  expected: string[];
}

const CASES: Case[] = [
  { federation: true, multicluster: false, api: true, expected: ['d8-istio-federation'] },
  { federation: false, multicluster: true, api: true, expected: ['d8-istio-multicluster'] },
  {
    federation: true,
    multicluster: true,
    api: true,
    expected: ['d8-istio-federation', 'd8-istio-multicluster'],
  },
  { federation: true, multicluster: true, api: false, expected: [] },
];

const caseName = (c: Case) => `federation ${c.federation}, multicluster ${c.multicluster}, API ${c.api}`;

let rendered: KubeObject[][];

beforeAll(async () => {
  rendered = await mapConcurrently(CASES, 2, (c) => {
    const values = scenarioValues({ ...FULL_SCENARIO, enabled: c.federation });
    values.istio.multicluster = { enabled: c.multicluster };
    return render(values, c.api ? OPTIONAL_APIS : WITHOUT_DASHBOARD_API);
  });
});

test('each mode renders its own dashboard, and only where the API exists', () => {
  const dashboards = rendered.map((objects, i) => ({
    mode: caseName(CASES[i]!),
    names: objects.filter((o) => o.kind === 'GrafanaDashboardDefinition').map((o) => o.metadata.name),
  }));
  expect(dashboards).toEqual(CASES.map((c) => ({ mode: caseName(c), names: c.expected })));
  // The case without the API still renders the modes (the dashboards alone are missing).
  expect(findObject(rendered[3]!, 'PodMonitor', 'api-proxy')).toBeDefined();
});

test('the definition is the JSON file unchanged, in the Istio folder, with the module labels', () => {
  const both = rendered[2]!;
  const [federation, multicluster] = ['federation', 'multicluster'].map((name) => {
    const object = findObject(both, 'GrafanaDashboardDefinition', `d8-istio-${name}`)!;
    const spec = object.spec as { folder: string; definition: string };
    expect(spec.folder).toBe('Istio');
    const file = readFileSync(
      join(MODULE_ROOT, 'monitoring', 'grafana-dashboards', 'istio', `${name}.json`),
      'utf8',
    );
    expect(JSON.parse(spec.definition)).toEqual(JSON.parse(file));
    expect(validationProblems(object)).toEqual([]);
    return object;
  });
  expect(Object.keys(federation!.metadata.labels ?? {}).length).toBeGreaterThan(0);
  expect(multicluster!.metadata.labels).toEqual(federation!.metadata.labels);
});
