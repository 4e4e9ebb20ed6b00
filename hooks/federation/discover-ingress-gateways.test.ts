import type { KubeObject } from '../../lib/hook-sdk';
import { applyJqFilter, bindingContextsFor, runCompiledHook } from '../../lib/hook-sdk/testing';
import { GATEWAY_NODE_JQ_FILTER, GATEWAY_POD_JQ_FILTER } from '../../lib/federation/discovery/gateways';
import { app } from '../index';
import { clusterAHarness, hookBinary } from '../../tests/support/module';
import hook from './discover-ingress-gateways';

const harness = clusterAHarness();

const gatewayService = (ingress: Record<string, string>[], namespace = 'd8-istio'): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name: 'ingressgateway', namespace, labels: { app: 'ingressgateway' } },
  spec: {
    type: 'LoadBalancer',
    ports: [
      { name: 'status-port', port: 15021, nodePort: 31021 },
      { name: 'tls', port: 15443, nodePort: 30443 },
    ],
  },
  status: { loadBalancer: { ingress } },
});
const gatewayPod = (name: string, nodeName: string, ready = true): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: 'd8-istio', labels: { app: 'ingressgateway' } },
  spec: { nodeName, containers: [{ name: 'istio-proxy' }] },
  status: {
    phase: 'Running',
    conditions: [
      { type: 'Ready', status: ready ? 'True' : 'False', lastTransitionTime: '2026-01-01T00:00:00Z' },
      { type: 'ContainersReady', status: 'True' },
    ],
  },
});
const node = (
  name: string,
  addresses: { type: string; address: string }[],
  opts: { ready?: boolean; unschedulable?: boolean; heartbeat?: string } = {},
): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Node',
  metadata: { name, resourceVersion: '1' },
  spec: opts.unschedulable ? { unschedulable: true } : {},
  status: {
    addresses: [{ type: 'Hostname', address: name }, ...addresses],
    conditions: [
      {
        type: 'MemoryPressure',
        status: 'False',
        lastHeartbeatTime: opts.heartbeat ?? '2026-01-01T00:00:00Z',
      },
      {
        type: 'Ready',
        status: opts.ready === false ? 'False' : 'True',
        lastHeartbeatTime: opts.heartbeat ?? '2026-01-01T00:00:00Z',
      },
    ],
  },
});
type Gateways = { internal: { federation: { ingressGateways: unknown } } };
const gatewaysOf = (moduleValues: unknown) => (moduleValues as Gateways).internal.federation.ingressGateways;

const nodePortCluster = [
  gatewayService([]),
  gatewayPod('gw-1', 'node-1'),
  gatewayPod('gw-2', 'node-2'),
  gatewayPod('gw-3', 'node-3'),
  gatewayPod('gw-4', 'node-4'),
  node('node-1', [
    { type: 'InternalIP', address: '10.0.0.1' },
    { type: 'ExternalIP', address: '203.0.113.1' },
  ]),
  node('node-2', [{ type: 'InternalIP', address: '10.0.0.2' }]),
  node('node-3', [{ type: 'InternalIP', address: '10.0.0.3' }], { unschedulable: true }),
  node('node-4', [{ type: 'InternalIP', address: '10.0.0.4' }], { ready: false }),
  node('node-5', [{ type: 'InternalIP', address: '10.0.0.5' }]),
];

describe('ingress-gateway discovery hook', () => {
  it('LoadBalancer: every ingress IP or hostname with the tls port; Services outside d8-istio ignored', async () => {
    const result = await harness.run(hook, {
      cluster: [
        gatewayService([{ ip: '198.51.100.10' }, { hostname: 'gw.cluster-a.example.com' }]),
        gatewayService([{ ip: '192.0.2.99' }], 'default'),
      ],
      trigger: 'gatewayServices',
    });
    expect(gatewaysOf(result.moduleValues)).toEqual([
      { address: '198.51.100.10', port: 15443 },
      { address: 'gw.cluster-a.example.com', port: 15443 },
    ]);
  });

  it('NodePort: nodes running gateway pods, skipping unschedulable and not-Ready ones', async () => {
    const result = await harness.run(hook, {
      cluster: nodePortCluster,
      configValues: { alliance: { ingressGateway: { inlet: 'NodePort' } } },
      trigger: 'nodes',
    });
    expect(gatewaysOf(result.moduleValues)).toEqual([
      { address: '10.0.0.2', port: 30443 },
      { address: '203.0.113.1', port: 30443 },
    ]);
  });

  it('advertise overrides discovery', async () => {
    const result = await harness.run(hook, {
      cluster: [gatewayService([{ ip: '198.51.100.10' }])],
      configValues: {
        alliance: {
          ingressGateway: {
            advertise: [
              { address: 'gw.example.com', port: 443 },
              { address: '192.0.2.1', port: 443 },
            ],
          },
        },
      },
    });
    expect(gatewaysOf(result.moduleValues)).toEqual([
      { address: '192.0.2.1', port: 443 },
      { address: 'gw.example.com', port: 443 },
    ]);
  });

  // Not gated by federation.enabled: multicluster.json publishes the same gateways.
  it.each([
    ['multicluster only', { multicluster: { enabled: true } }],
    ['federation only', { federation: { enabled: true } }],
  ])('%s: the gateways are discovered', async (_mode, configValues) => {
    const result = await harness.run(hook, {
      cluster: [gatewayService([{ ip: '198.51.100.10' }])],
      configValues,
      trigger: 'gatewayServices',
    });
    expect(gatewaysOf(result.moduleValues)).toEqual([{ address: '198.51.100.10', port: 15443 }]);
  });

  it('no address yet: an empty list and a warning, the hook succeeds', async () => {
    const result = await harness.run(hook, { cluster: [gatewayService([])] });
    expect(gatewaysOf(result.moduleValues)).toEqual([]);
    expect(result.logs).toEqual([expect.objectContaining({ level: 'warn', source: 'LoadBalancer' })]);
  });

  it('node heartbeats and pod status churn do not change the filter results', () => {
    const [a, b] = applyJqFilter(GATEWAY_NODE_JQ_FILTER, [
      node('n', [{ type: 'InternalIP', address: '10.0.0.1' }]),
      {
        ...node('n', [{ type: 'InternalIP', address: '10.0.0.1' }], { heartbeat: '2026-01-01T00:05:00Z' }),
        metadata: { name: 'n', resourceVersion: '2' },
      },
    ]);
    expect(b).toEqual(a);
    expect(a).toEqual({
      name: 'n',
      ready: true,
      unschedulable: false,
      addresses: [{ type: 'InternalIP', address: '10.0.0.1' }],
    });
    const pod = gatewayPod('gw', 'node-1');
    const churned = structuredClone(pod) as KubeObject & {
      status: { conditions: Record<string, unknown>[] };
    };
    churned.status.conditions[0]!.lastTransitionTime = '2026-02-02T00:00:00Z';
    churned.metadata.resourceVersion = '9';
    const [p1, p2] = applyJqFilter(GATEWAY_POD_JQ_FILTER, [pod, churned]);
    expect(p2).toEqual(p1);
    expect(p1).toEqual({ nodeName: 'node-1', phase: 'Running', ready: true });
  });

  it('runs in the compiled binary with the same result', () => {
    const { values, configValues } = harness.initialValues({
      configValues: { alliance: { ingressGateway: { inlet: 'NodePort' } } },
    });
    const result = runCompiledHook(hookBinary(), app.hooks.indexOf(hook), {
      contexts: bindingContextsFor(hook, nodePortCluster, 'nodes'),
      values,
      configValues,
    });
    expect(result.stderr).toBe('');
    expect(result.exitCode).toBe(0);
    expect(gatewaysOf(harness.applyAndValidate(values, result.valuesPatch).moduleValues)).toEqual([
      { address: '10.0.0.2', port: 30443 },
      { address: '203.0.113.1', port: 30443 },
    ]);
  });
});
