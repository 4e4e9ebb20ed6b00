// The Grafana dashboards (monitoring/grafana-dashboards/istio/{federation,multicluster}.json)
// and the alert expressions read only metrics the module exports: every name is checked
// against the catalogue collected from the code (tests/monitoring/catalogue.ts). Needs no tool: the alert
// expressions are read from the template source (their rendering is tested with Helm and
// promtool in promtool.test.ts).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { IGNORED_METRIC } from '../../hooks/federation/discover-public-services';
import { MULTICLUSTER_METRICS } from '../../lib/multicluster/metrics';
import { metricCatalogue, seriesNames, type CatalogueEntry } from './catalogue';
import { metricNames } from './promql';

const ROOT = join(__dirname, '..', '..');
const dashboardPath = (name: string) =>
  join(ROOT, 'monitoring', 'grafana-dashboards', 'istio', `${name}.json`);
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
  schemaVersion: number;
  panels: Panel[];
  templating: { list: { name: string; query?: string | { query: string }; definition?: string }[] };
}

const readDashboard = (name: string) => JSON.parse(readFileSync(dashboardPath(name), 'utf8')) as Dashboard;
const dashboard = readDashboard('federation');
const multicluster = readDashboard('multicluster');
const allPanels = (panels: Panel[]): Panel[] => panels.flatMap((p) => [p, ...allPanels(p.panels ?? [])]);
const queryPanels = (d: Dashboard) => allPanels(d.panels).filter((p) => p.type !== 'row');

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
});

// What both dashboards share: Grafana's keys, and per-peer panels filtered by the variable.
describe.each([
  { name: 'federation', d: dashboard, minExpressions: 15, exempt: [IGNORED_METRIC] },
  { name: 'multicluster', d: multicluster, minExpressions: 15, exempt: [] as string[] },
])('the $name dashboard', ({ name, d, minExpressions, exempt }) => {
  test('unique panel ids, every panel queries something, the same schema and datasource', () => {
    expect(d).toMatchObject({ uid: `d8-istio-${name}`, schemaVersion: dashboard.schemaVersion });
    // Panel ids are unique (Grafana keys panels by id) and every panel queries something.
    const ids = allPanels(d.panels).map((p) => (p as unknown as { id: number }).id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const p of queryPanels(d)) expect([p.title, (p.targets ?? []).length > 0]).toEqual([p.title, true]);
    expect(d.templating.list.map((v) => v.name)).toEqual(['ds_prometheus', name]);
    expect(d.templating.list[1]?.definition).toBe(`label_values(d8_istio_${name}_ready, ${name}_name)`);
    for (const p of queryPanels(d))
      expect([p.title, (p as unknown as { datasource: unknown }).datasource]).toEqual([
        p.title,
        { type: 'prometheus', uid: '${ds_prometheus}' },
      ]);
  });

  test("per peer: every panel on the mode's metrics filters on the variable", () => {
    // All but metrics about this cluster, which have no <mode>_name label.
    const own = new RegExp(`d8_istio_${name}_`);
    const exprs = dashboardExpressions(d).filter(
      ({ where, expr }) =>
        where.startsWith('panel') && own.test(expr) && !exempt.some((e) => expr.includes(e)),
    );
    expect(exprs.length).toBeGreaterThanOrEqual(8);
    for (const { where, expr } of exprs)
      expect([where, expr]).toEqual([where, expect.stringContaining(`${name}_name=~"$${name}"`)]);
  });

  test('every metric in every dashboard expression exists', () => {
    expect(dashboardExpressions(d).length).toBeGreaterThanOrEqual(minExpressions);
    expect(unknownNames(dashboardExpressions(d), known)).toEqual([]);
  });
});

test('the multicluster dashboard covers every multicluster and api-proxy metric, and the exporter route', () => {
  expect(multicluster).toMatchObject({ title: 'Istio multicluster', uid: 'd8-istio-multicluster' });
  const exprs = dashboardExpressions(multicluster);
  const used = new Set(exprs.flatMap(({ expr }) => metricNames(expr)));
  const reads = (entry: CatalogueEntry) =>
    [...seriesNames([entry])].some((series) => used.has(series)) ? entry.name : `${entry.name} (unread)`;
  // Derived from the code: a new multicluster or api-proxy metric needs a panel (or a reason).
  const notShown = ['d8_istio_api_proxy_service_account_token_reads'];
  const wanted = catalogue.filter(
    (c) =>
      (c.source === 'hooks' && c.name.startsWith('d8_istio_multicluster_')) ||
      (c.source === 'api-proxy' && !notShown.includes(c.name)),
  );
  expect(wanted.map((c) => c.name)).toEqual(
    expect.arrayContaining([...Object.values(MULTICLUSTER_METRICS), 'd8_istio_api_proxy_requests_total']),
  );
  expect(wanted.map(reads)).toEqual(wanted.map((c) => c.name));
  // The exporter's multicluster route, by code.
  const route = exprs.find(({ expr }) => expr.includes('d8_istio_metadata_exporter_requests_total'));
  expect(route?.expr).toContain('route="multicluster"');
  // The panels the health row is read for, by title.
  expect(queryPanels(multicluster).map((p) => p.title)).toEqual(
    expect.arrayContaining(['Ready', 'Metadata fetch errors', 'Remote API check errors', 'Data age']),
  );
});

test('every metric in every alert expression exists', () => {
  const exprs = alertExpressions(readFileSync(RULES_TEMPLATE, 'utf8'));
  expect(exprs.length).toBeGreaterThanOrEqual(8);
  expect(unknownNames(exprs, known)).toEqual([]);
});

/** A copy of the dashboard with the first occurrence of each name replaced. */
function withSwaps(d: Dashboard, swaps: [from: string, to: string][]): Dashboard {
  const broken: Dashboard = JSON.parse(JSON.stringify(d)) as Dashboard;
  const targets = allPanels(broken.panels).flatMap((p) => p.targets ?? []);
  for (const [from, to] of swaps) {
    const t = targets.find((x) => x.expr.includes(from))!;
    t.expr = t.expr.replace(from, to);
  }
  return broken;
}

test('a wrong metric name is caught: misspelt, a histogram without its suffix, a removed metric', () => {
  const broken = withSwaps(dashboard, [
    ['d8_istio_federation_ready', 'd8_istio_federation_readiness'],
    [
      'd8_istio_federation_metadata_fetch_duration_seconds_bucket',
      'd8_istio_federation_metadata_fetch_duration_seconds',
    ],
  ]);
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

test('the multicluster dashboard: a misspelt name, a histogram without suffix, a removed metric are caught', () => {
  const broken = withSwaps(multicluster, [
    ['d8_istio_multicluster_api_host_check_error_count', 'd8_istio_multicluster_api_check_error_count'],
    ['d8_istio_api_proxy_auth_failures_total', 'd8_istio_api_proxy_auth_failures'],
    [
      'd8_istio_multicluster_metadata_fetch_duration_seconds_bucket',
      'd8_istio_multicluster_metadata_fetch_duration_seconds',
    ],
  ]);
  expect(unknownNames(dashboardExpressions(broken), known)).toEqual([
    'panel "Remote API check errors": d8_istio_multicluster_api_check_error_count',
    'panel "Fetch duration": d8_istio_multicluster_metadata_fetch_duration_seconds',
    'panel "Authentication failures": d8_istio_api_proxy_auth_failures',
  ]);
  const without = seriesNames(catalogue.filter((c) => c.name !== 'd8_istio_api_proxy_known_peers'));
  expect(unknownNames(dashboardExpressions(multicluster), without)).toEqual([
    'panel "Known peers": d8_istio_api_proxy_known_peers',
  ]);
});
