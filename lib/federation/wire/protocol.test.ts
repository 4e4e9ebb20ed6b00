import { detectProtocol, protocolFromPortName } from './protocol';

describe('protocolFromPortName (the reference rule)', () => {
  test.each([
    ['grpc', 'HTTP2'],
    ['grpc-api', 'HTTP2'],
    ['http2-x', 'HTTP2'],
    ['http', 'HTTP'],
    ['http-web', 'HTTP'],
    ['HTTP-upper', 'HTTP'],
    ['https', 'TLS'],
    ['https-admin', 'TLS'],
    ['tls', 'TLS'],
    ['tls-passthrough', 'TLS'],
    ['tcp', 'TCP'],
    ['mongo', 'TCP'],
    ['httpx', 'TCP'],
    ['web-http', 'TCP'],
    ['', 'TCP'],
    [undefined, 'TCP'],
  ])('%p -> %s', (name, expected) => {
    expect(protocolFromPortName(name)).toBe(expected);
  });
});

describe('detectProtocol', () => {
  test.each([
    [{ name: 'tcp-db', appProtocol: 'http' }, 'HTTP'],
    [{ name: 'http', appProtocol: 'grpc' }, 'HTTP2'],
    [{ name: 'http', appProtocol: 'kubernetes.io/h2c' }, 'HTTP2'],
    [{ name: 'web', appProtocol: 'kubernetes.io/wss' }, 'TLS'],
    [{ name: 'http', appProtocol: 'TCP' }, 'TCP'],
    // An unknown appProtocol falls back to the name.
    [{ name: 'grpc-x', appProtocol: 'example.com/custom' }, 'HTTP2'],
    [{ appProtocol: 'example.com/custom' }, 'TCP'],
    [{ name: 'https' }, 'TLS'],
    [{}, 'TCP'],
  ])('%p -> %s', (port, expected) => {
    expect(detectProtocol(port)).toBe(expected);
  });
});
