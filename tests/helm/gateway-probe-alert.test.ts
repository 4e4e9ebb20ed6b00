// The alert on the gateway probe's metric (hooks/federation/probe-gateways.ts), rendered by real Helm.
import { GATEWAY_PROBE_METRICS } from '../../lib/check/gateway-probes';
import { FULL_SCENARIO, scenarioValues } from './fixtures';
import { findObject, render } from './render';
import { validationProblems } from './validate';

test('D8IstioFederationGatewayUnreachable fires on a gateway down for a minute, with a runbook line', async () => {
  const objects = await render(scenarioValues(FULL_SCENARIO));
  const rule = findObject(objects, 'PrometheusRule', 'istio-federation');
  expect(rule).toBeDefined();
  expect(validationProblems(rule!)).toEqual([]);
  const rules = (
    rule!.spec as {
      groups: {
        rules: { alert: string; expr: string; for: string; annotations: Record<string, string> }[];
      }[];
    }
  ).groups.flatMap((g) => g.rules);
  const alert = rules.find((r) => r.alert === 'D8IstioFederationGatewayUnreachable');
  expect(alert).toMatchObject({
    expr: `max by (federation_name, address, port) (${GATEWAY_PROBE_METRICS.up} == 0)`,
    for: '1m',
  });
  expect(alert!.annotations.summary).toContain('{{ $labels.address }}:{{ $labels.port }}');
  expect(alert!.annotations.description).toContain(
    'istio-federation check --peer {{ $labels.federation_name }}',
  );
});
