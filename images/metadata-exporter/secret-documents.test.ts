import { Logger } from '../../lib/hook-sdk/logger';
import { documentFiles, multiclusterFiles, testCluster } from '../../tests/exporter/fixtures';
import { documentKeys } from './document-set';
import { DocumentStore } from './document-store';
import { ExporterMetrics } from './metrics';
import {
  DEFAULT_BACKOFF,
  documentsFromSecretData,
  MAX_DOCUMENT_BYTES,
  parseSecretRef,
  retryDelayMs,
  SecretDocuments,
} from './secret-documents';

const local = testCluster('local.test');
const peer = testCluster('peer.test');
const empty = { ingressGateways: [], publicServices: [] };
const FEDERATION = documentKeys(['federation']);
const b64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64');

function secretData(files: object): Record<string, string> {
  return Object.fromEntries(
    Object.entries(files as Record<string, string>).map(([key, value]) => [key, b64(value)]),
  );
}

describe('parseSecretRef', () => {
  test.each([
    [
      'd8-istio/d8-istio-federation-documents',
      { namespace: 'd8-istio', name: 'd8-istio-federation-documents' },
    ],
    ['a/b.c', { namespace: 'a', name: 'b.c' }],
  ])('%s', (value, expected) => expect(parseSecretRef(value)).toStrictEqual(expected));

  test.each([
    'name',
    '/name',
    'ns/',
    'ns/a/b',
    'NS/name',
    'ns/Name',
    'ns/-a',
    `${'a'.repeat(64)}/b`,
    'a.b/c',
  ])('%j is refused', (value) => expect(parseSecretRef(value)).toBeUndefined());
});

describe('documentsFromSecretData', () => {
  test('decodes the three keys', () => {
    const files = documentFiles(local, empty, [peer]);
    expect(documentsFromSecretData(secretData(files), FEDERATION)).toStrictEqual({
      ok: true,
      raw: {
        public: files['public.json'],
        federation: files['federation.json'],
        remotes: files['remote-public-metadata.json'],
      },
    });
  });

  test('only the keys asked for: the multicluster ones are read when asked, ignored otherwise', () => {
    const federation = documentFiles(local, empty, []);
    const multicluster = multiclusterFiles(
      { ingressGateways: [], apiHost: 'api.example.com', networkName: 'network-a' },
      [peer],
    );
    const data = secretData({ ...federation, ...multicluster });
    expect(documentsFromSecretData(data, documentKeys(['multicluster']))).toStrictEqual({
      ok: true,
      raw: {
        public: federation['public.json'],
        multicluster: multicluster['multicluster.json'],
        multiclusterRemotes: multicluster['remote-multiclusters-public-metadata.json'],
      },
    });
    const onlyFederation = documentsFromSecretData(data, FEDERATION);
    expect(onlyFederation.ok && Object.keys(onlyFederation.raw)).toStrictEqual([
      'public',
      'federation',
      'remotes',
    ]);
    expect(
      documentsFromSecretData(secretData(federation), documentKeys(['federation', 'multicluster'])),
    ).toStrictEqual({
      ok: false,
      error: 'multicluster.json: missing from the Secret',
    });
  });

  test('a missing key, no data at all, an oversized value: refused with the reason', () => {
    const files = secretData(documentFiles(local, empty, []));
    const { ['remote-public-metadata.json']: _omitted, ...two } = files;
    expect(documentsFromSecretData(two, FEDERATION)).toStrictEqual({
      ok: false,
      error: 'remote-public-metadata.json: missing from the Secret',
    });
    expect(documentsFromSecretData(undefined, FEDERATION)).toMatchObject({
      ok: false,
      error: 'public.json: missing from the Secret',
    });
    const huge = { ...files, 'federation.json': 'A'.repeat(Math.ceil(MAX_DOCUMENT_BYTES / 3) * 4 + 4) };
    expect(documentsFromSecretData(huge, FEDERATION)).toStrictEqual({
      ok: false,
      error: 'federation.json is too large',
    });
  });
});

test('retryDelayMs doubles from the initial delay up to the cap, jitter takes at most 20 %', () => {
  const none = (): number => 0;
  expect([1, 2, 3, 4].map((n) => retryDelayMs(n, DEFAULT_BACKOFF, none))).toStrictEqual([
    250, 500, 1000, 2000,
  ]);
  expect(retryDelayMs(20, DEFAULT_BACKOFF, none)).toBe(DEFAULT_BACKOFF.maxMs);
  expect(retryDelayMs(10_000, DEFAULT_BACKOFF, none)).toBe(DEFAULT_BACKOFF.maxMs);
  expect(retryDelayMs(20, DEFAULT_BACKOFF, () => 0.999_999)).toBe(Math.round(DEFAULT_BACKOFF.maxMs * 0.8));
});

describe('SecretDocuments', () => {
  function setup() {
    const lines: { msg: string; error?: string }[] = [];
    const metrics = new ExporterMetrics({ processMetrics: false });
    const store = new DocumentStore(
      new Logger((line) => lines.push(JSON.parse(line) as { msg: string })),
      metrics,
    );
    return {
      store,
      lines,
      metrics,
      source: new SecretDocuments({ namespace: 'ns', name: 'docs' }, FEDERATION, store),
    };
  }

  test('serves the Secret; the same data again is not reloaded; deletion keeps the last set and is counted once', async () => {
    const { store, lines, metrics, source } = setup();
    source.onSecret({ data: secretData(documentFiles(local, empty, [])) });
    const first = store.current;
    expect(first?.set.public.clusterUUID).toBe(local.clusterUUID);

    source.onSecret({ data: secretData(documentFiles(local, empty, [])) }); // a relist, or a label change
    expect(store.current).toBe(first);

    source.onAbsent('deleted');
    source.onAbsent('not found'); // the relist after the watch ended
    expect(store.current).toBe(first);

    source.onSecret({ data: secretData(documentFiles(local, empty, [peer])) });
    expect(store.current?.set.peers.federation?.has(peer.clusterUUID)).toBe(true);

    expect(lines.map((l) => [l.msg, l.error])).toStrictEqual([
      ['documents loaded', undefined],
      ['documents rejected, serving the previous set', 'Secret ns/docs deleted'],
      ['documents loaded', undefined],
    ]);
    const text = await metrics.registry.metrics();
    expect(text).toMatch(/document_reloads_total\{result="failure"\} 1\b/);
    expect(text).toMatch(/documents_loaded 1\b/);
  });

  test('an invalid Secret keeps the previous set; the same one recreated after deletion is loaded again', () => {
    const { store, source } = setup();
    const files = documentFiles(local, empty, []);
    source.onSecret({ data: secretData(files) });
    const first = store.current;
    source.onSecret({ data: secretData({ ...files, 'public.json': '[]' }) });
    expect(store.current).toBe(first);
    source.onAbsent('deleted');
    source.onSecret({ data: secretData(files) });
    expect(store.current).not.toBe(first);
    expect(store.current?.set.public.clusterUUID).toBe(local.clusterUUID);
  });
});
