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
      privateDocuments: ['federation'],
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

describe('document sources', () => {
  test('--documents-secret with --kubeconfig and --watch-timeout', () => {
    const config = parseCommandLine([
      '--documents-secret=d8-istio/d8-istio-federation-documents',
      '--kubeconfig=/k',
      '--watch-timeout=7',
    ]);
    expect(config).toMatchObject({
      documentsSecret: { namespace: 'd8-istio', name: 'd8-istio-federation-documents' },
      kubeconfig: '/k',
      watchTimeoutSeconds: 7,
    });
    expect(config.documentsDir).toBeUndefined();
  });

  test('--private-documents: federation by default, multicluster, or both', () => {
    expect(parseCommandLine(['--documents-dir=/d']).privateDocuments).toStrictEqual(['federation']);
    expect(
      parseCommandLine(['--documents-dir=/d', '--private-documents=multicluster']).privateDocuments,
    ).toStrictEqual(['multicluster']);
    expect(
      parseCommandLine(['--documents-dir=/d', '--private-documents', 'multicluster,federation'])
        .privateDocuments,
    ).toStrictEqual(['multicluster', 'federation']);
  });

  test.each([
    [[], 'exactly one of --documents-dir and --documents-secret'],
    [
      ['--documents-dir=/d', '--documents-secret=a/b'],
      'exactly one of --documents-dir and --documents-secret',
    ],
    [
      ['--documents-dir=/d', '--kubeconfig=/k'],
      '--kubeconfig and --watch-timeout go with --documents-secret',
    ],
    [['--documents-secret=a'], 'expected <namespace>/<name>'],
    ...['', 'api', 'federation,', 'federation,federation', 'federation multicluster'].map(
      (list): [string[], string] => [
        ['--documents-dir=/d', `--private-documents=${list}`],
        'expected a comma-separated list of federation, multicluster',
      ],
    ),
  ])('%j is refused', (argv, message) => {
    const exit = jest.spyOn(process, 'exit').mockImplementation(((code: number) => {
      throw new Error(`exit ${code}`);
    }) as never);
    const stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      expect(() => parseCommandLine(argv)).toThrow('exit 1');
      expect(stderr.mock.calls.map((c) => String(c[0])).join('')).toContain(message);
    } finally {
      exit.mockRestore();
      stderr.mockRestore();
    }
  });
});
