import type { IngressGateway } from '../wire/documents';
import { buildServiceEntries, resolutionFor, type MergedPort } from './service-entries';

const port = (number: number, name: string, federations = ['a']): MergedPort => ({
  number,
  name,
  protocol: 'TCP',
  federations,
});
const hosts = (entries: [string, MergedPort[]][]) =>
  new Map(entries.map(([h, ports]) => [h, new Map(ports.map((p) => [p.number, p]))]));
const g1 = { address: '192.0.2.1', port: 15443 };
const g2 = { address: '192.0.2.2', port: 30443 };
const gateways: Record<string, IngressGateway[]> = {
  a: [g1],
  b: [g2, g1],
  x: [{ address: 'gw.b.example', port: 443 }],
};
const gatewaysOf = (federation: string) => gateways[federation] ?? [];

test.each([
  [['192.0.2.1', '2001:db8::1'], 'STATIC'],
  [['192.0.2.1', 'gw.example.com'], 'DNS'],
  [['gw.example.com'], 'DNS'],
])('resolutionFor %p = %s', (addresses, expected) => {
  expect(resolutionFor(addresses)).toBe(expected);
});

describe('buildServiceEntries', () => {
  test('groups ports of one hostname by endpoint set; endpoints map port names to the gateway port', () => {
    const entries = buildServiceEntries(
      hosts([
        [
          'web.ns.svc.b.local',
          [port(8080, 'http', ['a', 'b']), port(9090, 'grpc'), port(80, 'http-legacy', ['b'])],
        ],
      ]),
      gatewaysOf,
    );
    expect(entries).toEqual([
      {
        hostname: 'web.ns.svc.b.local',
        resolution: 'STATIC',
        federations: ['a', 'b'],
        ports: [
          { number: 80, name: 'http-legacy', protocol: 'TCP' },
          { number: 8080, name: 'http', protocol: 'TCP' },
        ],
        endpoints: [
          { address: '192.0.2.1', ports: { 'http-legacy': 15443, http: 15443 } },
          { address: '192.0.2.2', ports: { 'http-legacy': 30443, http: 30443 } },
        ],
      },
      {
        hostname: 'web.ns.svc.b.local',
        resolution: 'STATIC',
        federations: ['a'],
        ports: [{ number: 9090, name: 'grpc', protocol: 'TCP' }],
        endpoints: [{ address: '192.0.2.1', ports: { grpc: 15443 } }],
      },
    ]);
  });

  test('sorted by hostname, then first port; hostname gateways give DNS; ports without gateways are left out', () => {
    const entries = buildServiceEntries(
      hosts([
        ['b.ns.svc.b.local', [port(1, 'p', ['x', 'y'])]],
        ['a.ns.svc.b.local', [port(2, 'p'), port(3, 'q', ['none'])]],
      ]),
      gatewaysOf,
    );
    expect(entries.map((e) => [e.hostname, e.resolution, e.ports.length, e.federations])).toEqual([
      ['a.ns.svc.b.local', 'STATIC', 1, ['a']],
      ['b.ns.svc.b.local', 'DNS', 1, ['x', 'y']],
    ]);
  });

  test('empty input gives no entries', () => {
    expect(buildServiceEntries(new Map(), gatewaysOf)).toEqual([]);
  });
});
