// The istiod webhook checks transcribed in validate.ts must refuse what istiod refuses.
import type { KubeObject } from './render';
import { validationProblems } from './validate';

function serviceEntry(spec: Record<string, unknown>): KubeObject {
  return {
    apiVersion: 'networking.istio.io/v1',
    kind: 'ServiceEntry',
    metadata: { name: 'se', namespace: 'd8-istio' },
    spec: { location: 'MESH_INTERNAL', ...spec },
  } as KubeObject;
}

const HOSTS = ['a.ns.svc.cluster-b.local', 'b.ns.svc.cluster-b.local'];
const endpoint = (address: string, port = 'p') => ({ address, ports: { [port]: 15443 } });

test.each([
  ['TCP', 'DNS', false],
  ['TCP', 'STATIC', false],
  ['Mongo', 'DNS', false],
  ['HTTP', 'DNS', true],
  ['http2', 'DNS', true],
  ['GRPC', 'DNS', true],
  ['HTTPS', 'DNS', true],
  ['TLS', 'STATIC', true],
])('two hosts with a %s port and %s resolution: allowed=%s', (protocol, resolution, allowed) => {
  const object = serviceEntry({
    hosts: HOSTS,
    resolution,
    ports: [{ number: 80, name: 'p', protocol }],
    endpoints: [endpoint('198.51.100.1')],
  });
  const expected = allowed ? [] : ['ServiceEntry/se: multiple hosts provided with non-HTTP, non-TLS ports'];
  expect(validationProblems(object)).toEqual(expected);
});

test('one host with a TCP port, or a TCP port next to HTTP ones on two hosts', () => {
  const ports = [{ number: 5432, name: 'p', protocol: 'TCP' }];
  expect(
    validationProblems(
      serviceEntry({ hosts: [HOSTS[0]], resolution: 'DNS', ports, endpoints: [endpoint('gw.example.net')] }),
    ),
  ).toEqual([]);
  const mixed = [...ports, { number: 80, name: 'http', protocol: 'HTTP' }];
  expect(
    validationProblems(serviceEntry({ hosts: HOSTS, resolution: 'DNS', ports: mixed, endpoints: [] })),
  ).toEqual(['ServiceEntry/se: multiple hosts provided with non-HTTP, non-TLS ports']);
});

test.each([
  ['DNS', 'gw.cluster-b.example.net', []],
  ['DNS', 'gw.cluster-b.example.net.', []],
  ['DNS', '198.51.100.7', []],
  ['DNS', '2001:db8::7', []],
  ['DNS', 'Gw.Example.net', ['endpoint address "Gw.Example.net" is not a valid FQDN or an IP address']],
  ['DNS', 'gw_1.example.net', ['endpoint address "gw_1.example.net" is not a valid FQDN or an IP address']],
  ['DNS', '10.0.0.256', ['endpoint address "10.0.0.256" is not a valid FQDN or an IP address']],
  [
    'DNS',
    `${'a'.repeat(64)}.example`,
    [`endpoint address "${'a'.repeat(64)}.example" is not a valid FQDN or an IP address`],
  ],
  ['STATIC', '198.51.100.7', []],
  ['STATIC', 'gw.cluster-b.example.net', ['gw.cluster-b.example.net is not a valid IP']],
  ['STATIC', '198.051.100.7', ['198.051.100.7 is not a valid IP']],
])('%s endpoint address %s', (resolution, address, problems) => {
  const object = serviceEntry({
    hosts: [HOSTS[0]],
    resolution,
    ports: [{ number: 80, name: 'p', protocol: 'HTTP' }],
    endpoints: [endpoint(address)],
  });
  expect(validationProblems(object)).toEqual(problems.map((p) => `ServiceEntry/se: ${p}`));
});

test('an endpoint port the ServiceEntry does not define', () => {
  const object = serviceEntry({
    hosts: [HOSTS[0]],
    resolution: 'DNS',
    ports: [{ number: 80, name: 'p', protocol: 'HTTP' }],
    endpoints: [endpoint('198.51.100.7', 'other')],
  });
  expect(validationProblems(object)).toEqual([
    'ServiceEntry/se: endpoint port 15443 is not defined by the service entry',
  ]);
});
