// Fast checks of the e2e harness's own pure parts (the scenario itself is federation.e2e.test.ts).
import { operatorConfigMap, parseMetrics } from '../../tools/e2e/addon-operator';
import { exporterKubeconfig } from '../../tools/e2e/exporter';
import { resourcePath } from '../../tools/e2e/kube-api';

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

test('the exporter kubeconfig: server, inline CA, the service-account token as the current user', () => {
  const caPem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
  const config = JSON.parse(
    exporterKubeconfig({ server: 'https://127.0.0.1:6443', caPem, token: 'admin' }, 'sa-token'),
  ) as {
    clusters: { name: string; cluster: { server: string; 'certificate-authority-data': string } }[];
    users: { name: string; user: { token: string } }[];
    contexts: { name: string; context: { cluster: string; user: string } }[];
    'current-context': string;
  };
  const context = config.contexts.find((c) => c.name === config['current-context'])?.context;
  const cluster = config.clusters.find((c) => c.name === context?.cluster)?.cluster;
  expect(cluster?.server).toBe('https://127.0.0.1:6443');
  expect(Buffer.from(cluster?.['certificate-authority-data'] ?? '', 'base64').toString()).toBe(caPem);
  expect(config.users.find((u) => u.name === context?.user)?.user).toEqual({ token: 'sa-token' });
});
