import type { KubeObject } from '../../lib/hook-sdk';
import type { GatewayTarget, ProbeOptions, ProbeResult } from '../../lib/check/gateway-probe';
import { GATEWAY_PROBE_METRICS, isDocumentationAddress } from '../../lib/check/gateway-probes';
import { bindingContextsFor, runCompiledHook } from '../../lib/hook-sdk/testing';
import { testPublicDocument } from '../../tests/support/peer-identity';
import { clusterAHarness, hookBinary } from '../../tests/support/module';
import { app } from '../index';
import { createProbeGatewaysHook, PROBE_METRICS_GROUP, PROBE_TICK } from './probe-gateways';

const harness = clusterAHarness();
const BAR = 'bar.xyz.svc.cluster-b.local';

const federation = (
  name: string,
  domain: string,
  gateways: { address: string; port: number }[],
): KubeObject => ({
  apiVersion: 'deckhouse.io/v1alpha1',
  kind: 'IstioFederation',
  metadata: { name },
  spec: { trustDomain: domain, metadataEndpoint: `https://${name}.example.com/metadata/` },
  status: {
    metadataCache: {
      public: testPublicDocument(`${name}-uuid`),
      private: {
        ingressGateways: gateways,
        publicServices: [
          { hostname: `bar.xyz.svc.${domain}`, ports: [{ name: 'http', port: 8080, protocol: 'HTTP' }] },
        ],
      },
    },
  },
});

function fakeProbe(dialled: { target: GatewayTarget; sni?: string }[]) {
  return (target: GatewayTarget, options: ProbeOptions): Promise<ProbeResult> => {
    dialled.push({ target, ...(options.sni ? { sni: options.sni } : {}) });
    const alive = target.address !== '10.0.0.2';
    return Promise.resolve({
      target,
      dialed: target,
      alive,
      stage: alive ? 'handshake' : 'refused',
      ...(alive ? { connectMs: 4, handshakeMs: 6 } : {}),
    });
  };
}

test('isDocumentationAddress: RFC 5737 and RFC 3849 only', () => {
  expect(['192.0.2.1', '198.51.100.10', '203.0.113.20', '2001:db8::1'].map(isDocumentationAddress)).toEqual([
    true,
    true,
    true,
    true,
  ]);
  expect(['10.0.0.1', '203.0.114.1', 'gw.example.com', '2001:db9::1'].map(isDocumentationAddress)).toEqual([
    false,
    false,
    false,
    false,
  ]);
});

describe('gateway probe hook', () => {
  it('dials each gateway with the federation SNI on the schedule and exports up and latency per address', async () => {
    const dialled: { target: GatewayTarget; sni?: string }[] = [];
    const hook = createProbeGatewaysHook({ probe: fakeProbe(dialled) });
    const result = await harness.run(hook, {
      cluster: [
        federation('cluster-b', 'cluster-b.local', [
          { address: '10.0.0.1', port: 15443 },
          { address: '10.0.0.2', port: 15443 },
          { address: '203.0.113.20', port: 15443 },
        ]),
      ],
      trigger: PROBE_TICK,
      values: { federation: { enabled: true } },
    });
    expect(dialled).toEqual([
      { target: { address: '10.0.0.1', port: 15443 }, sni: `outbound_.8080_._.${BAR}` },
      { target: { address: '10.0.0.2', port: 15443 }, sni: `outbound_.8080_._.${BAR}` },
    ]);
    const labels = (address: string) => ({ federation_name: 'cluster-b', address, port: '15443' });
    expect(result.metrics).toEqual([
      { action: 'expire', group: PROBE_METRICS_GROUP },
      {
        name: GATEWAY_PROBE_METRICS.up,
        action: 'set',
        value: 1,
        labels: labels('10.0.0.1'),
        group: PROBE_METRICS_GROUP,
      },
      {
        name: GATEWAY_PROBE_METRICS.connectSeconds,
        action: 'set',
        value: 0.004,
        labels: labels('10.0.0.1'),
        group: PROBE_METRICS_GROUP,
      },
      {
        name: GATEWAY_PROBE_METRICS.handshakeSeconds,
        action: 'set',
        value: 0.006,
        labels: labels('10.0.0.1'),
        group: PROBE_METRICS_GROUP,
      },
      {
        name: GATEWAY_PROBE_METRICS.up,
        action: 'set',
        value: 0,
        labels: labels('10.0.0.2'),
        group: PROBE_METRICS_GROUP,
      },
    ]);
    expect(result.valuesPatch).toEqual([]);
    expect(result.kubeOperations).toEqual([]);
  });

  it('disabled federation: no dial, the series are expired', async () => {
    const dialled: { target: GatewayTarget }[] = [];
    const result = await harness.run(createProbeGatewaysHook({ probe: fakeProbe(dialled) }), {
      cluster: [federation('cluster-b', 'cluster-b.local', [{ address: '10.0.0.1', port: 15443 }])],
      trigger: PROBE_TICK,
      values: { federation: { enabled: false } },
    });
    expect(dialled).toEqual([]);
    expect(result.metrics).toEqual([{ action: 'expire', group: PROBE_METRICS_GROUP }]);
  });

  it('runs in the compiled executable (documentation addresses only: nothing dialled)', () => {
    const hook = app.hooks.find((h) => h.name === 'federation/probe-gateways')!;
    const { values, configValues } = harness.initialValues({ values: { federation: { enabled: true } } });
    const result = runCompiledHook(hookBinary(), app.hooks.indexOf(hook), {
      contexts: bindingContextsFor(
        hook,
        [federation('cluster-b', 'cluster-b.local', [{ address: '203.0.113.20', port: 15443 }])],
        PROBE_TICK,
      ),
      values,
      configValues,
    });
    expect(result.stderr).toBe('');
    expect(result.exitCode).toBe(0);
    expect(result.metrics).toEqual([{ action: 'expire', group: PROBE_METRICS_GROUP }]);
  });
});
