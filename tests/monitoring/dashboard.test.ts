// The Grafana dashboard (monitoring/grafana-dashboards/istio/federation.json) and the alert
// expressions read only metrics the module exports: every name is checked against the
// catalogue collected from the code (tests/monitoring/catalogue.ts). Needs no tool: the alert
// expressions are read from the template source (their rendering is tested with Helm and
// promtool in promtool.test.ts).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { IGNORED_METRIC } from '../../hooks/federation/discover-public-services';
import { metricCatalogue, seriesNames, type CatalogueEntry } from './catalogue';
import { metricNames } from './promql';

const ROOT = join(__dirname, '..', '..');
const DASHBOARD_PATH = join(ROOT, 'monitoring', 'grafana-dashboards', 'istio', 'federation.json');
const RULES_TEMPLATE = join(ROOT, 'templates', 'monitoring', 'prometheus-rules.yaml');

interface Panel {
  type: string;
  title: string;
  panels?: Panel[];
  targets?: { expr: string }[];
}
interface Dashboard {
  title: string;
  uid: string;
  panels: Panel[];
  templating: { list: { name: string; query?: string | { query: string }; definition?: string }[] };
}

const dashboard = JSON.parse(readFileSync(DASHBOARD_PATH, 'utf8')) as Dashboard;
const allPanels = (panels: Panel[]): Panel[] => panels.flatMap((p) => [p, ...allPanels(p.panels ?? [])]);
const panels = allPanels(dashboard.panels).filter((p) => p.type !== 'row');

/** Every PromQL expression of the dashboard: panel targets and query variables. */
function dashboardExpressions(d: Dashboard): { where: string; expr: string }[] {
  const exprs = allPanels(d.panels).flatMap((p) =>
    (p.targets ?? []).map((t) => ({ where: `panel "${p.title}"`, expr: t.expr })),
  );
  for (const v of d.templating.list) {
    const query = typeof v.query === 'object' ? v.query.query : v.definition;
    const inner = /^label_values\((.*),\s*\w+\)$/.exec(query ?? '')?.[1];
    if (inner) exprs.push({ where: `variable $${v.name}`, expr: inner });
  }
  return exprs;
}

/** The alert expressions as written in the template (`expr:` lines). */
function alertExpressions(template: string): { where: string; expr: string }[] {
  const out: { where: string; expr: string }[] = [];
  let alert = '?';
  for (const line of template.split('\n')) {
    const a = /^\s*- alert: (\S+)/.exec(line);
    if (a) alert = a[1]!;
    const e = /^\s*expr: (.+)$/.exec(line);
    if (e) out.push({ where: `alert ${alert}`, expr: e[1]! });
  }
  return out;
}

/** Each (place, name) whose name is not a series of the catalogue; also places that read no metric. */
function unknownNames(exprs: { where: string; expr: string }[], known: Set<string>): string[] {
  return exprs.flatMap(({ where, expr }) => {
    const names = metricNames(expr);
    if (names.length === 0) return [`${where}: reads no metric (${expr})`];
    return names.filter((n) => !known.has(n)).map((n) => `${where}: ${n}`);
  });
}

let catalogue: CatalogueEntry[];
let known: Set<string>;

beforeAll(async () => {
  catalogue = await metricCatalogue();
  known = seriesNames(catalogue);
});

test('the catalogue holds every metric family, histograms expanded to their series', () => {
  const names = catalogue.map((c) => c.name);
  expect(new Set(names).size).toBe(names.length);
  for (const name of names)
    expect(name).toMatch(/^d8_istio_(federation|multicluster|metadata_exporter|api_proxy)_\w+$/);
  expect(catalogue).toContainEqual({
    name: 'd8_istio_federation_metadata_fetch_duration_seconds',
    type: 'histogram',
    source: 'hooks',
  });
  expect(known.has('d8_istio_federation_metadata_fetch_duration_seconds_bucket')).toBe(true);
  expect(known.has('d8_istio_federation_metadata_fetch_duration_seconds')).toBe(false);
  expect(catalogue).toContainEqual({
    name: 'd8_istio_metadata_exporter_auth_failures_total',
    type: 'counter',
    source: 'metadata-exporter',
  });
});

test('the metric-name extractor keeps metrics and drops functions, labels, keywords, variables', () => {
  expect(
    metricNames(
      'histogram_quantile(0.95, sum by (federation_name, le) (rate(a_bucket{x=~"b_c", le!="1e3"}[$__rate_interval]))) * 60 > on (x) group_left b_total offset 5m',
    ),
  ).toEqual(['a_bucket', 'b_total']);
  expect(metricNames('max by (x) (time() - c_seconds) > 600')).toEqual(['c_seconds']);
});

test('the dashboard parses and covers readiness, freshness, imports, fetches, gateways and the exporter', () => {
  expect(dashboard).toMatchObject({ title: 'Istio federation', uid: 'd8-istio-federation' });
  const used = new Set(dashboardExpressions(dashboard).flatMap(({ expr }) => metricNames(expr)));
  for (const name of [
    'd8_istio_federation_ready',
    'd8_istio_federation_metadata_stale_since_timestamp_seconds',
    'd8_istio_federation_metadata_age_seconds',
    'd8_istio_federation_imported_services',
    'd8_istio_federation_dropped_services',
    'd8_istio_federation_import_conflicts',
    'd8_istio_federation_metadata_endpoints_fetch_error_count',
    'd8_istio_federation_metadata_fetch_duration_seconds_bucket',
    'd8_istio_federation_gateway_up',
    'd8_istio_federation_gateway_connect_seconds',
    'd8_istio_federation_gateway_tls_handshake_seconds',
    'd8_istio_metadata_exporter_requests_total',
    'd8_istio_metadata_exporter_auth_failures_total',
  ])
    expect([name, used.has(name)]).toEqual([name, true]);
  // Panel ids are unique (Grafana keys panels by id) and every panel queries something.
  const ids = allPanels(dashboard.panels).map((p) => (p as unknown as { id: number }).id);
  expect(new Set(ids).size).toBe(ids.length);
  for (const p of panels) expect([p.title, (p.targets ?? []).length > 0]).toEqual([p.title, true]);
  // Per peer: federation panels filter on the $federation variable (all but the one
  // federation metric about this cluster, which has no federation_name label).
  for (const { where, expr } of dashboardExpressions(dashboard))
    if (/d8_istio_federation_/.test(expr) && where.startsWith('panel') && !expr.includes(IGNORED_METRIC))
      expect([where, expr]).toEqual([where, expect.stringContaining('federation_name=~"$federation"')]);
});

test('every metric in every dashboard expression exists', () => {
  expect(dashboardExpressions(dashboard).length).toBeGreaterThanOrEqual(15);
  expect(unknownNames(dashboardExpressions(dashboard), known)).toEqual([]);
});

test('every metric in every alert expression exists', () => {
  const exprs = alertExpressions(readFileSync(RULES_TEMPLATE, 'utf8'));
  expect(exprs.length).toBeGreaterThanOrEqual(8);
  expect(unknownNames(exprs, known)).toEqual([]);
});

test('a wrong metric name is caught: misspelt, a histogram without its suffix, a removed metric', () => {
  const broken: Dashboard = JSON.parse(JSON.stringify(dashboard)) as Dashboard;
  const targets = allPanels(broken.panels).flatMap((p) => p.targets ?? []);
  const swap = (from: string, to: string) => {
    const t = targets.find((x) => x.expr.includes(from))!;
    t.expr = t.expr.replace(from, to);
  };
  swap('d8_istio_federation_ready', 'd8_istio_federation_readiness');
  swap(
    'd8_istio_federation_metadata_fetch_duration_seconds_bucket',
    'd8_istio_federation_metadata_fetch_duration_seconds',
  );
  expect(unknownNames(dashboardExpressions(broken), known)).toEqual([
    'panel "Ready": d8_istio_federation_readiness',
    'panel "Fetch duration": d8_istio_federation_metadata_fetch_duration_seconds',
  ]);
  // The same check against a catalogue that lost a metric (e.g. renamed in the code).
  const without = seriesNames(catalogue.filter((c) => c.name !== 'd8_istio_federation_gateway_up'));
  expect(unknownNames(dashboardExpressions(dashboard), without)).toEqual([
    'panel "Gateway liveness": d8_istio_federation_gateway_up',
  ]);
  const alerts = alertExpressions(readFileSync(RULES_TEMPLATE, 'utf8'));
  expect(unknownNames(alerts, without)).toEqual([
    'alert D8IstioFederationGatewayUnreachable: d8_istio_federation_gateway_up',
  ]);
});
