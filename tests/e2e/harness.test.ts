// Fast checks of the e2e harness's own pure parts (the scenario itself is federation.e2e.test.ts).
import { lstatSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { operatorConfigMap, parseMetrics } from '../../tools/e2e/addon-operator';
import { readDocumentsDir, writeDocumentsAtomically } from '../../tools/e2e/documents-sync';
import { resourcePath } from '../../tools/e2e/kube-api';

describe('documents directory (kubelet AtomicWriter layout)', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'e2e-docs-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const files = (n: number) => ({
    'public.json': `{"v":${n}}`,
    'federation.json': `{"f":${n}}`,
    'remote-public-metadata.json': '{}',
  });

  test('files are symlinks through ..data; a rewrite swaps the data directory and removes the old one', () => {
    writeDocumentsAtomically(dir, files(1));
    const first = readlinkSync(join(dir, '..data'));
    expect(lstatSync(join(dir, 'public.json')).isSymbolicLink()).toBe(true);
    expect(readlinkSync(join(dir, 'public.json'))).toBe(join('..data', 'public.json'));
    expect(readDocumentsDir(dir)['public.json']).toBe('{"v":1}');

    writeDocumentsAtomically(dir, files(2));
    const second = readlinkSync(join(dir, '..data'));
    expect(second).not.toBe(first);
    expect(readFileSync(join(dir, 'federation.json'), 'utf8')).toBe('{"f":2}');
    const entries = readdirSync(dir).sort();
    expect(entries).toEqual(
      ['..data', second, 'federation.json', 'public.json', 'remote-public-metadata.json'].sort(),
    );
  });
});

describe('parseMetrics', () => {
  test('reads names, labels (with escapes) and values; skips comments', () => {
    const text = [
      '# HELP x help',
      'd8_istio_federation_metadata_endpoints_fetch_error_count{endpoint="https://h/metadata/public/public.json",federation_name="cluster-b",hook="a\\"b"} 1',
      'plain_metric 0.5',
    ].join('\n');
    expect(parseMetrics(text)).toEqual([
      {
        name: 'd8_istio_federation_metadata_endpoints_fetch_error_count',
        labels: {
          endpoint: 'https://h/metadata/public/public.json',
          federation_name: 'cluster-b',
          hook: 'a"b',
        },
        value: 1,
      },
      { name: 'plain_metric', labels: {}, value: 0.5 },
    ]);
  });
});

describe('addon-operator ConfigMap', () => {
  test('globals under `global`, the module switch and settings under istioEnabled / istio', () => {
    const cm = operatorConfigMap(
      {
        clusterDomain: 'cluster-a.local',
        clusterUUID: 'u-1',
        publicDomainTemplate: '%s.a.example.com',
        httpsMode: 'CertManager',
      },
      { federation: { enabled: true } },
    );
    const data = cm.data as Record<string, string>;
    expect(JSON.parse(data.global ?? '')).toEqual({
      discovery: { clusterDomain: 'cluster-a.local', clusterUUID: 'u-1' },
      modules: { publicDomainTemplate: '%s.a.example.com', https: { mode: 'CertManager' } },
    });
    expect(data.istioEnabled).toBe('true');
    expect(JSON.parse(data.istio ?? '')).toEqual({ federation: { enabled: true } });
  });
});

test('resourcePath builds core, grouped, namespaced and subresource paths', () => {
  expect(
    resourcePath('v1', 'services', { namespace: 'd8-istio', name: 'ingressgateway', subresource: 'status' }),
  ).toBe('/api/v1/namespaces/d8-istio/services/ingressgateway/status');
  expect(resourcePath('deckhouse.io/v1alpha1', 'istiofederations')).toBe(
    '/apis/deckhouse.io/v1alpha1/istiofederations',
  );
});
