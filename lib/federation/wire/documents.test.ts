import {
  isIpOrDnsName,
  validateIngressGateway,
  validatePrivateDocumentShape,
  validatePublicService,
} from './documents';

describe('names Istio accepts', () => {
  it.each(['192.0.2.10', '2001:db8::1', 'gw.example.com', 'a', 'x-1.b-2.c'])(
    '%p is an endpoint address',
    (a) => {
      expect(isIpOrDnsName(a)).toBe(true);
    },
  );

  it.each([
    '1.2.3.4:15443',
    'a..b',
    '-bad-',
    'bad-.example.com',
    '2001:db8::1:',
    'GW.example.com',
    'a_b.c',
    `${'x'.repeat(64)}.com`,
    '',
  ])('%p is refused as an endpoint address', (a) => {
    expect(isIpOrDnsName(a)).toBe(false);
    expect(validateIngressGateway({ address: a, port: 15443 }).ok).toBe(false);
  });

  it('names the bad address in the error', () => {
    expect(validateIngressGateway({ address: '1.2.3.4:15443', port: 443 })).toEqual({
      ok: false,
      error: 'ingress gateway address "1.2.3.4:15443" is neither an IP address nor a DNS name',
    });
  });

  it.each([
    [`${'s'.repeat(64)}.ns.svc.b.local`, false],
    [`${'s'.repeat(63)}.ns.svc.b.local`, true],
    ['web.ns.svc.b.local', true],
  ])('hostname %p accepted: %p', (hostname, ok) => {
    expect(validatePublicService({ hostname, ports: [{ name: 'http', port: 80 }] }).ok).toBe(ok);
  });

  it.each([
    ['', true],
    ['http', true],
    ['x'.repeat(62), true],
    ['x'.repeat(63), false],
    ['grpc_api', false],
    ['http.v1', false],
  ])('port name %p accepted: %p', (name, ok) => {
    expect(validatePublicService({ hostname: 'web.ns.svc.b.local', ports: [{ name, port: 80 }] }).ok).toBe(
      ok,
    );
  });

  it('caps the gateways one peer may publish', () => {
    const gateways = (n: number) =>
      Array.from({ length: n }, (_, i) => ({ address: `192.0.2.${i}`, port: 443 }));
    expect(validatePrivateDocumentShape({ ingressGateways: gateways(64) }).ok).toBe(true);
    expect(validatePrivateDocumentShape({ ingressGateways: gateways(65) }).ok).toBe(false);
  });
});
