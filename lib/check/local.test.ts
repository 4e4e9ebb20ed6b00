import { adler32, istioClusterId } from '../istio/cluster-id';
import { checkIstiod } from './istiod';
import { localChecks, localView } from './local';
import { A_CLUSTER_ID, A_PUBLIC, A_UUID, healthySnapshot, istiod } from './test-fixtures';

const served = { ok: true as const, body: A_PUBLIC, ms: 3 };
const byId = (results: ReturnType<typeof localChecks>) => Object.fromEntries(results.map((r) => [r.id, r]));

describe('adler32 / istioClusterId (the chart helper istio.federation.clusterId)', () => {
  test('adler32 as Sprig prints it', () => {
    expect(adler32('Wikipedia')).toBe(300286872);
    expect(adler32('')).toBe(1);
  });
  test('domain with dashes, then the decimal adler32 of the UUID', () => {
    expect(istioClusterId('cluster-a.local', 'Wikipedia')).toBe('cluster-a-local-300286872');
  });
});

describe('localView', () => {
  test('identity from the rendered documents, the gateway and the Ingress', () => {
    expect(localView(healthySnapshot())).toMatchObject({
      trustDomain: 'cluster-a.local',
      clusterUUID: A_UUID,
      gatewayClusterId: A_CLUSTER_ID,
      metadataEndpoint: 'https://istio-metadata.cluster-a.example.com/metadata/',
    });
  });
  test('--metadata-url wins over the Ingress host', () => {
    expect(localView(healthySnapshot(), 'https://127.0.0.1:1/metadata/').metadataEndpoint).toBe(
      'https://127.0.0.1:1/metadata/',
    );
  });
});

describe('localChecks', () => {
  test('a healthy cluster passes; istiod absent is skipped, not failed', () => {
    const snapshot = healthySnapshot();
    const results = localChecks(snapshot, localView(snapshot), served);
    expect(results.map((r) => [r.id, r.status])).toStrictEqual([
      ['crd', 'pass'],
      ['settings', 'pass'],
      ['identity', 'pass'],
      ['exporter.ready', 'pass'],
      ['exporter.public-document', 'pass'],
      ['istiod', 'skip'],
    ]);
  });

  test('missing CRD, federation disabled, exporter not ready: each fails with a hint', () => {
    const snapshot = healthySnapshot({
      crd: { ok: true, value: undefined },
      operatorConfigMap: {
        ok: true,
        value: { data: { istioEnabled: 'true', istio: JSON.stringify({ federation: { enabled: false } }) } },
      },
      exporterDeployment: { ok: true, value: { spec: { replicas: 1 }, status: {} } },
    });
    const r = byId(localChecks(snapshot, localView(snapshot), served));
    expect(r.crd).toMatchObject({ status: 'fail', detail: 'not found' });
    expect(r.crd!.hint).toContain('crds/');
    expect(r.settings).toMatchObject({ status: 'fail' });
    expect(r.settings!.detail).toContain('istio.federation.enabled=false');
    expect(r['exporter.ready']).toMatchObject({ status: 'fail', detail: '0/1 replicas ready' });
    expect(r['exporter.ready']!.hint).toContain('kubectl -n d8-istio describe deployment metadata-exporter');
  });

  test('ModuleConfig istio, where the kind exists, is the source of settings', () => {
    const snapshot = healthySnapshot({
      moduleConfig: {
        ok: true,
        value: { spec: { enabled: true, settings: { federation: { enabled: false } } } },
      },
    });
    const r = byId(localChecks(snapshot, localView(snapshot), served));
    expect(r.settings).toMatchObject({ status: 'fail' });
    expect(r.settings!.hint).toContain('kubectl edit moduleconfig istio');
  });

  test('an endpoint serving another public document fails; an unreachable one says how to point elsewhere', () => {
    const snapshot = healthySnapshot();
    const view = localView(snapshot);
    const other = byId(
      localChecks(snapshot, view, { ok: true, body: { ...A_PUBLIC, clusterUUID: 'x' }, ms: 1 }),
    );
    expect(other['exporter.public-document']).toMatchObject({ status: 'fail' });
    expect(other['exporter.public-document']!.detail).toContain(
      'differs from Secret d8-istio-federation-documents in clusterUUID',
    );
    const down = byId(localChecks(snapshot, view, { ok: false, error: 'Unreachable: ECONNREFUSED' }));
    expect(down['exporter.public-document']!.hint).toContain('--metadata-url');
  });
});

describe('checkIstiod', () => {
  const snapshotWith = (env: Record<string, string>, ns?: string) =>
    healthySnapshot({ istiodDeployments: { ok: true, value: [istiod(env, ns)] } });
  const good = {
    SHARED_MESH_CONFIG: 'd8-istio-federation-mesh-config',
    ISTIO_MULTIROOT_MESH: 'true',
    CLUSTER_ID: A_CLUSTER_ID,
  };

  test('the three settings right: three passes', () => {
    const s = snapshotWith(good);
    expect(checkIstiod(s, localView(s)).map((r) => [r.id, r.status])).toStrictEqual([
      ['istiod.shared-mesh-config', 'pass'],
      ['istiod.multiroot', 'pass'],
      ['istiod.cluster-id', 'pass'],
    ]);
  });

  test('a wrong CLUSTER_ID fails with the value to set; another namespace warns', () => {
    const s = snapshotWith({ ...good, CLUSTER_ID: 'Kubernetes' }, 'istio-system');
    const r = checkIstiod(s, localView(s));
    const id = r.find((x) => x.id === 'istiod.cluster-id')!;
    expect(id.status).toBe('fail');
    expect(id.hint).toContain(`CLUSTER_ID=${A_CLUSTER_ID}`);
    expect(r.find((x) => x.id === 'istiod.namespace')?.status).toBe('warn');
  });

  test('without the gateway the expected id is computed from domain and UUID', () => {
    const s = healthySnapshot({
      gatewayDeployment: { ok: true, value: undefined },
      operatorConfigMap: {
        ok: true,
        value: { data: { global: JSON.stringify({ discovery: { clusterDomain: 'cluster-a.local' } }) } },
      },
      istiodDeployments: {
        ok: true,
        value: [istiod({ ...good, CLUSTER_ID: istioClusterId('cluster-a.local', A_UUID) })],
      },
    });
    expect(checkIstiod(s, localView(s)).find((x) => x.id === 'istiod.cluster-id')?.status).toBe('pass');
  });
});
