import { detectProtocol, protocolFromPortName } from './protocol';

describe('protocolFromPortName (the reference rule, for peers\u2019 ports)', () => {
  test.each([
    ['grpc', 'HTTP2'],
    ['grpc-api', 'HTTP2'],
    ['http2-x', 'HTTP2'],
    ['http', 'HTTP'],
    ['http-web', 'HTTP'],
    ['https', 'TLS'],
    ['https-admin', 'TLS'],
    ['tls', 'TLS'],
    ['tls-passthrough', 'TLS'],
    ['tcp', 'TCP'],
    ['mongo', 'TCP'],
    ['web-http', 'TCP'],
    ['tcp-http', 'TCP'],
    ['', 'TCP'],
    [undefined, 'TCP'],
    // Issue 10 item 13: substring of the text before the first '-', case-sensitive,
    // longest keyword first (http2/https before grpc/http before tls).
    ['myhttp', 'HTTP'],
    ['httpx', 'HTTP'],
    ['xhttp-y', 'HTTP'],
    ['mygrpc', 'HTTP2'],
    ['grpcweb-x', 'HTTP2'],
    ['xhttp2', 'HTTP2'],
    ['http2s', 'HTTP2'],
    ['myhttps', 'TLS'],
    ['httpsx-1', 'TLS'],
    ['mtls', 'TLS'],
    ['tlsx', 'TLS'],
    ['grpctls', 'HTTP2'],
    ['tlshttp', 'HTTP'],
    ['http2https', 'HTTP2'],
    ['HTTP', 'TCP'],
    ['HTTP-upper', 'TCP'],
    ['Grpc-x', 'TCP'],
    ['Https', 'TCP'],
    ['httpS', 'HTTP'],
    ['TLS', 'TCP'],
    ['-http', 'TCP'],
  ])('%p -> %s', (name, expected) => {
    expect(protocolFromPortName(name)).toBe(expected);
  });
});

describe('detectProtocol (our own ports: unchanged)', () => {
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
    // Our exact, case-insensitive prefix match stays for our own ports (README: protocols).
    [{ name: 'HTTP-upper' }, 'HTTP'],
    [{ name: 'myhttp' }, 'TCP'],
    [{ name: 'httpx' }, 'TCP'],
  ])('%p -> %s', (port, expected) => {
    expect(detectProtocol(port)).toBe(expected);
  });
});
