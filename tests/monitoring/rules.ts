// The module's alerting rules as Prometheus loads them: the PrometheusRule rendered by real
// Helm (tests/helm/render.ts), its `spec` (`groups: [...]`) written as a Prometheus rules
// file for promtool. Used by tests/monitoring/promtool.test.ts and the dashboard test.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { FULL_SCENARIO, scenarioValues } from '../helm/fixtures';
import { findObject, MODULE_ROOT, render } from '../helm/render';

export interface AlertingRule {
  alert: string;
  expr: string;
  for?: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

export interface RuleGroups {
  groups: { name: string; rules: AlertingRule[] }[];
}

/** Renders the chart with every optional API and mode present and returns the PrometheusRule's spec. */
export async function renderedRuleGroups(): Promise<RuleGroups> {
  const values = scenarioValues(FULL_SCENARIO);
  // Multicluster too: its alert group is rendered only with multicluster.enabled.
  (values.istio as Record<string, unknown>).multicluster = { enabled: true };
  const objects = await render(values);
  const rule = findObject(objects, 'PrometheusRule', 'istio-federation');
  if (!rule) throw new Error('the chart rendered no PrometheusRule istio-federation');
  return rule.spec as RuleGroups;
}

/** The same spec as a Prometheus rules file (what `promtool check rules` reads). */
export function rulesFileText(groups: RuleGroups): string {
  return stringify(groups, { lineWidth: 0 });
}

/** PROMTOOL_BIN from the jest global setup, else the cached upstream build (built if missing). */
export function promtoolBinary(): string {
  if (process.env.PROMTOOL_BIN) return process.env.PROMTOOL_BIN;
  const output = execFileSync('bash', [join(MODULE_ROOT, 'tools', 'upstream', 'promtool.sh')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const path = output.trim().split('\n').pop() ?? '';
  process.env.PROMTOOL_BIN = path;
  return path;
}
