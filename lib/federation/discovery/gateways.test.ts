import {
  discoverIngressGateways,
  gatewayNodes,
  nodeAddress,
  parseGatewayPod,
  parseGatewayService,
  parseNode,
  sortGateways,
  type GatewayPodSnapshot,
  type GatewayServiceSnapshot,
  type NodeSnapshot,
} from './gateways';

const lbService = (
  ingress: GatewayServiceSnapshot['loadBalancerIngress'],
  name = 'ingressgateway',
): GatewayServiceSnapshot => ({
  name,
  loadBalancerIngress: ingress,
  ports: [
    { name: 'status', port: 15021, nodePort: 30021 },
    { name: 'tls', port: 15443, nodePort: 30443 },
  ],
});
const node = (name: string, over: Partial<NodeSnapshot> = {}): NodeSnapshot => ({
  name,
  ready: true,
  unschedulable: false,
  addresses: [{ type: 'InternalIP', address: `10.0.0.${name.slice(-1)}` }],
  ...over,
});
const pod = (nodeName: string, ready = true, phase = 'Running'): GatewayPodSnapshot => ({
  nodeName,
  phase,
  ready,
});

describe('parsers tolerate garbage', () => {
  test('service', () => {
    expect(parseGatewayService(null)).toBeUndefined();
    expect(parseGatewayService({ name: 'gw', loadBalancerIngress: null, ports: 'x' })).toEqual({
      name: 'gw',
      loadBalancerIngress: [],
      ports: [],
    });
    expect(
      parseGatewayService({
        name: 'gw',
        loadBalancerIngress: [{ ip: '1.2.3.4', hostname: null }],
        ports: [{ name: 'tls', port: 15443.5 }],
      }),
    ).toEqual({
      name: 'gw',
      loadBalancerIngress: [{ ip: '1.2.3.4', hostname: undefined }],
      ports: [{ name: 'tls', port: undefined, nodePort: undefined }],
    });
  });
  test('pod and node', () => {
    expect(parseGatewayPod(undefined)).toEqual({ nodeName: undefined, phase: undefined, ready: false });
    expect(parseNode({ name: 'n' })).toEqual({
      name: 'n',
      ready: false,
      unschedulable: false,
      addresses: [],
    });
    expect(
      parseNode({
        name: 'n',
        ready: true,
        addresses: [
          { type: 'Hostname', address: 'n' },
          { type: 'ExternalIP', address: '' },
          { type: 'InternalIP', address: '10.1.1.1' },
        ],
      })?.addresses,
    ).toEqual([{ type: 'InternalIP', address: '10.1.1.1' }]);
    expect(parseNode({})).toBeUndefined();
  });
});

describe('LoadBalancer inlet', () => {
  test('every ingress point (IP preferred, else hostname) with the tls port, sorted and de-duplicated', () => {
    const result = discoverIngressGateways({
      inlet: 'LoadBalancer',
      services: [
        lbService([
          { ip: '198.51.100.7' },
          { hostname: 'lb.example.com' },
          { ip: '192.0.2.1', hostname: 'x.example.com' },
        ]),
        lbService([{ ip: '192.0.2.1' }], 'ingressgateway-2'),
      ],
      pods: [],
      nodes: [],
    });
    expect(result.source).toBe('LoadBalancer');
    expect(result.gateways).toEqual([
      { address: '192.0.2.1', port: 15443 },
      { address: '198.51.100.7', port: 15443 },
      { address: 'lb.example.com', port: 15443 },
    ]);
  });

  test('no ingress yet, or no tls port: nothing', () => {
    const noTls: GatewayServiceSnapshot = {
      name: 'gw',
      loadBalancerIngress: [{ ip: '192.0.2.1' }],
      ports: [{ name: 'http', port: 80 }],
    };
    expect(
      discoverIngressGateways({
        inlet: 'LoadBalancer',
        services: [lbService([]), noTls],
        pods: [],
        nodes: [],
      }).gateways,
    ).toEqual([]);
  });

  test('a garbage ingress address is reported, not published', () => {
    const result = discoverIngressGateways({
      inlet: 'LoadBalancer',
      services: [lbService([{ hostname: 'bad host' }])],
      pods: [],
      nodes: [],
    });
    expect(result.gateways).toEqual([]);
    expect(result.invalid).toEqual([{ address: 'bad host', port: 15443 }]);
  });
});

describe('NodePort inlet', () => {
  const services = [lbService([{ ip: '192.0.2.1' }])];

  test('nodes running ready gateway pods; ExternalIP else InternalIP; the tls nodePort', () => {
    const nodes = [
      node('node-1', {
        addresses: [
          { type: 'InternalIP', address: '10.0.0.1' },
          { type: 'ExternalIP', address: '203.0.113.1' },
        ],
      }),
      node('node-2'),
      node('node-3'),
    ];
    const result = discoverIngressGateways({
      inlet: 'NodePort',
      services,
      pods: [pod('node-2'), pod('node-1')],
      nodes,
    });
    expect(result.source).toBe('NodePort');
    expect(result.gateways).toEqual([
      { address: '10.0.0.2', port: 30443 },
      { address: '203.0.113.1', port: 30443 },
    ]);
  });

  test('unschedulable and not-Ready nodes are skipped', () => {
    const nodes = [node('node-1', { unschedulable: true }), node('node-2', { ready: false }), node('node-3')];
    const pods = [pod('node-1'), pod('node-2'), pod('node-3')];
    expect(discoverIngressGateways({ inlet: 'NodePort', services, pods, nodes }).gateways).toEqual([
      { address: '10.0.0.3', port: 30443 },
    ]);
  });

  test('pods: ready ones preferred; all running ones when none is ready; pending/unscheduled ignored', () => {
    const nodes = [node('node-1'), node('node-2'), node('node-3')];
    expect(
      gatewayNodes([pod('node-1'), pod('node-2', false), pod('node-3', true, 'Pending')], nodes).map(
        (n) => n.name,
      ),
    ).toEqual(['node-1']);
    expect(gatewayNodes([pod('node-1', false), pod('node-2', false)], nodes).map((n) => n.name)).toEqual([
      'node-1',
      'node-2',
    ]);
    expect(gatewayNodes([{ ready: true, phase: 'Running' }], nodes)).toEqual([]);
  });

  test('a node without addresses contributes nothing', () => {
    expect(nodeAddress(node('node-1', { addresses: [] }))).toBeUndefined();
    expect(
      discoverIngressGateways({
        inlet: 'NodePort',
        services,
        pods: [pod('node-1')],
        nodes: [node('node-1', { addresses: [] })],
      }).gateways,
    ).toEqual([]);
  });
});

describe('advertise override', () => {
  test('wins over discovery, sorted, de-duplicated', () => {
    const result = discoverIngressGateways({
      inlet: 'LoadBalancer',
      advertise: [
        { address: 'gw.example.com', port: 443 },
        { address: '192.0.2.9', port: 443 },
        { address: 'gw.example.com', port: 443 },
        { address: '192.0.2.9', port: 80 },
      ],
      services: [lbService([{ ip: '198.51.100.1' }])],
      pods: [],
      nodes: [],
    });
    expect(result.source).toBe('advertise');
    expect(result.gateways).toEqual([
      { address: '192.0.2.9', port: 80 },
      { address: '192.0.2.9', port: 443 },
      { address: 'gw.example.com', port: 443 },
    ]);
  });

  test('an empty advertise list means discovery', () => {
    expect(
      discoverIngressGateways({
        inlet: 'LoadBalancer',
        advertise: [],
        services: [lbService([{ ip: '198.51.100.1' }])],
        pods: [],
        nodes: [],
      }).source,
    ).toBe('LoadBalancer');
  });
});

test('sortGateways orders by address then port and is independent of input order', () => {
  const gws = [
    { address: 'b', port: 2 },
    { address: 'a', port: 10 },
    { address: 'a', port: 9 },
    { address: 'b', port: 2 },
  ];
  expect(sortGateways(gws)).toEqual([
    { address: 'a', port: 9 },
    { address: 'a', port: 10 },
    { address: 'b', port: 2 },
  ]);
  expect(sortGateways([...gws].reverse())).toEqual(sortGateways(gws));
});
