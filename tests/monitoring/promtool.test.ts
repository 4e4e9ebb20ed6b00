// The module's alerting rules judged by Prometheus' own rule checker (promtool, built from
// upstream by tools/upstream/promtool.sh; PROMTOOL_BIN from the jest global setup):
// `promtool check rules` on the PrometheusRule rendered by real Helm, and `promtool test
// rules` over the cases of alerts.cases.yaml (input series, when each alert fires and not).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import {
  promtoolBinary,
  renderedRuleGroups,
  rulesFileText,
  type AlertingRule,
  type RuleGroups,
} from './rules';

interface ExpectedAlert {
  exp_labels?: Record<string, string>;
  exp_value?: string;
  exp_annotations?: Record<string, string>;
}
interface AlertRuleTest {
  alertname: string;
  eval_time: string;
  exp_alerts: ExpectedAlert[];
}
interface TestGroup {
  name: string;
  interval: string;
  input_series: { series: string; values: string }[];
  alert_rule_test: AlertRuleTest[];
}

const CASES = parse(readFileSync(join(__dirname, 'alerts.cases.yaml'), 'utf8')) as { tests: TestGroup[] };

let groups: RuleGroups;
let rules: AlertingRule[];
let dir: string;

beforeAll(async () => {
  groups = await renderedRuleGroups();
  rules = groups.groups.flatMap((g) => g.rules);
  dir = mkdtempSync(join(tmpdir(), 'istio-promtool-'));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

function promtool(...args: string[]): { status: number | null; output: string } {
  const result = spawnSync(promtoolBinary(), args, { cwd: dir, encoding: 'utf8' });
  if (result.error) throw result.error;
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

/**
 * What Prometheus prints for an annotation template, for the few forms our rules use:
 * `{{ $labels.NAME }}` and `{{ $value }}` / `{{ $value | humanizeDuration }}` (the case gives
 * the printed value). Anything else is an error, so a new template form is not silently skipped.
 */
function expand(template: string, labels: Record<string, string>, value: string): string {
  const text = template.replace(
    /\{\{\s*(\$labels\.(\w+)|\$value(\s*\|\s*humanizeDuration)?)\s*\}\}/g,
    (_m, _e, label) => {
      if (label === undefined) return value;
      const v = labels[label as string];
      if (v === undefined) throw new Error(`the case gives no label ${label as string} for ${template}`);
      return v;
    },
  );
  if (text.includes('{{')) throw new Error(`unsupported template form in: ${text}`);
  return text;
}

/** promtool's file: rule_files, exp_annotations and the rule's own labels filled in. */
function promtoolTests(rulesFile: string, alertRules: AlertingRule[]): string {
  const byName = new Map(alertRules.map((r) => [r.alert, r]));
  const tests = CASES.tests.map((group) => ({
    ...group,
    alert_rule_test: group.alert_rule_test.map((t) => {
      const rule = byName.get(t.alertname);
      if (!rule) throw new Error(`no rendered alert ${t.alertname}`);
      return {
        ...t,
        exp_alerts: t.exp_alerts.map(({ exp_value, exp_labels = {} }) => ({
          exp_labels: { ...exp_labels, ...rule.labels },
          exp_annotations: Object.fromEntries(
            Object.entries(rule.annotations).map(([k, v]) => [k, expand(v, exp_labels, exp_value ?? '')]),
          ),
        })),
      };
    }),
  }));
  return stringify({ rule_files: [rulesFile], evaluation_interval: '1m', tests }, { lineWidth: 0 });
}

test('promtool check rules accepts the rendered PrometheusRule, one rule per alert', () => {
  writeFileSync(join(dir, 'rules.yaml'), rulesFileText(groups));
  const { status, output } = promtool('check', 'rules', 'rules.yaml');
  expect(output).toContain(`SUCCESS: ${rules.length} rules found`);
  expect(status).toBe(0);
  expect(rules.length).toBeGreaterThanOrEqual(8);
});

test('promtool check rules is a real checker: a broken expression and a bad duration fail', () => {
  const broken: RuleGroups = {
    groups: [
      {
        name: 'broken',
        rules: [
          { ...rules[0]!, expr: 'sum by (federation_name (x)' },
          { ...rules[1]!, for: '5 minutes' },
        ],
      },
    ],
  };
  writeFileSync(join(dir, 'broken.yaml'), rulesFileText(broken));
  const { status, output } = promtool('check', 'rules', 'broken.yaml');
  expect(status).not.toBe(0);
  expect(output).toMatch(/FAILED/);
});

test.each(['federation', 'multicluster'])(
  "the %s dashboard's expressions parse with Prometheus' own parser (as recording rules)",
  (name) => {
    const dashboard = JSON.parse(
      readFileSync(
        join(__dirname, '..', '..', 'monitoring', 'grafana-dashboards', 'istio', `${name}.json`),
        'utf8',
      ),
    ) as { panels: { targets?: { expr: string }[] }[] };
    const exprs = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));
    expect(exprs.length).toBeGreaterThanOrEqual(15);
    const asRules = {
      groups: [
        {
          name: 'dashboard',
          rules: exprs.map((expr, i) => ({
            record: `dashboard:expr_${i}`,
            // Grafana's variables, as Grafana substitutes them.
            expr: expr.replaceAll('$__rate_interval', '5m').replaceAll(`$${name}`, '.*'),
          })),
        },
      ],
    };
    writeFileSync(join(dir, `${name}-dashboard.yaml`), stringify(asRules, { lineWidth: 0 }));
    const { status, output } = promtool('check', 'rules', `${name}-dashboard.yaml`);
    expect(output).toContain(`SUCCESS: ${exprs.length} rules found`);
    expect(status).toBe(0);
  },
);

test('every alert has Deckhouse annotations and a runbook with commands to run', () => {
  for (const rule of rules) {
    expect([rule.alert, rule.annotations.plk_protocol_version]).toEqual([rule.alert, '1']);
    expect([rule.alert, rule.annotations.plk_markup_format]).toEqual([rule.alert, 'markdown']);
    expect(rule.annotations.summary).toMatch(/\S/);
    expect(rule.annotations.description).toContain('What to do:');
    expect([rule.alert, /`(kubectl|istio-federation) [^`]+`/.test(rule.annotations.description!)]).toEqual([
      rule.alert,
      true,
    ]);
    expect(rule.labels).toMatchObject({ severity_level: expect.stringMatching(/^[0-9]$/), tier: 'cluster' });
  }
  // The federation alerts point at the check command for the federation of the alert.
  for (const name of [
    'D8IstioFederationMetadataStale',
    'D8IstioFederationNotReady',
    'D8IstioFederationGatewayUnreachable',
  ])
    expect(rules.find((r) => r.alert === name)?.annotations.description).toContain(
      'istio-federation check --peer {{ $labels.federation_name }}',
    );
});

test('every alert has a case where it fires and one where it does not', () => {
  const cases = CASES.tests.flatMap((g) => g.alert_rule_test);
  for (const rule of rules) {
    const mine = cases.filter((c) => c.alertname === rule.alert);
    expect([rule.alert, mine.some((c) => c.exp_alerts.length > 0)]).toEqual([rule.alert, true]);
    expect([rule.alert, mine.some((c) => c.exp_alerts.length === 0)]).toEqual([rule.alert, true]);
  }
});

test('promtool test rules: each alert fires when it should and not otherwise', () => {
  writeFileSync(join(dir, 'rules.yaml'), rulesFileText(groups));
  writeFileSync(join(dir, 'alerts.test.yaml'), promtoolTests('rules.yaml', rules));
  const { status, output } = promtool('test', 'rules', 'alerts.test.yaml');
  expect(output).toContain('SUCCESS');
  expect(status).toBe(0);
});

test('the cases catch the old mistakes: conflicts by max (prints 3, not 5), staleness 20 minutes late', () => {
  const variants: [string, string, (expr: string) => string][] = [
    ['max', 'D8IstioFederationImportConflicts', (e) => e.replace('sum by', 'max by')],
    ['late', 'D8IstioFederationMetadataStale', (e) => e.replace('> 600', '> 1200')],
  ];
  for (const [name, alert, change] of variants) {
    const variant = rules.map((r) => (r.alert === alert ? { ...r, expr: change(r.expr) } : r));
    expect(variant).not.toEqual(rules);
    writeFileSync(
      join(dir, `${name}.yaml`),
      rulesFileText({ groups: [{ name: 'variant', rules: variant }] }),
    );
    writeFileSync(join(dir, `${name}.test.yaml`), promtoolTests(`${name}.yaml`, variant));
    const { status, output } = promtool('test', 'rules', `${name}.test.yaml`);
    expect([name, status]).toEqual([name, 1]);
    // Only the changed alert fails.
    const failed = [...output.matchAll(/alertname: (\w+), time:/g)].map((m) => m[1]);
    expect(new Set(failed)).toEqual(new Set([alert]));
  }
});
