import { parseCommandLine, parseListenAddress } from './cli';

describe('parseListenAddress', () => {
  test.each([
    [':8080', { host: undefined, port: 8080 }],
    ['127.0.0.1:0', { host: '127.0.0.1', port: 0 }],
    ['0.0.0.0:443', { host: '0.0.0.0', port: 443 }],
    ['[::1]:8443', { host: '::1', port: 8443 }],
    ['localhost:80', { host: 'localhost', port: 80 }],
  ])('%s', (value, expected) => {
    expect(parseListenAddress(value)).toStrictEqual(expected);
  });

  test.each(['8080', ':', ':65536', '::1:80', 'host:port', '127.0.0.1:-1', ''])('%j is refused', (value) => {
    expect(() => parseListenAddress(value)).toThrow('expected host:port');
  });
});

describe('parseCommandLine', () => {
  test('defaults', () => {
    expect(parseCommandLine(['--documents-dir', '/docs'])).toStrictEqual({
      documentsDir: '/docs',
      listen: { host: undefined, port: 8080 },
      reloadIntervalMs: 5000,
      shutdownTimeoutMs: 10_000,
      limits: {
        headerTimeoutMs: 5000,
        requestTimeoutMs: 10_000,
        keepAliveTimeoutMs: 5000,
        maxHeaderBytes: 16_384,
        maxConnections: 1024,
      },
    });
  });

  test('durations are seconds, fractions allowed', () => {
    const config = parseCommandLine([
      '--documents-dir=/d',
      '--listen=127.0.0.1:0',
      '--reload-interval=0.05',
      '--header-timeout=0.3',
      '--tls-cert=/c',
      '--tls-key=/k',
    ]);
    expect(config).toMatchObject({
      listen: { host: '127.0.0.1', port: 0 },
      reloadIntervalMs: 50,
      limits: { headerTimeoutMs: 300 },
      tls: { certFile: '/c', keyFile: '/k' },
    });
  });
});
