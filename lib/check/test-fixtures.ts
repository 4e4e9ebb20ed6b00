// Fixtures for lib/check tests: a healthy cluster-a as `check` reads it from the API.
import { generateAuthnKeypair } from '../federation/identity/authn-keys';
import { TEST_ROOT_CA_PEM, testPublicDocument } from '../../tests/support/peer-identity';
import type { ClusterSnapshot } from './snapshot';

export const A_UUID = '11111111-2222-3333-4444-555555555555';
export const B_UUID = '99999999-8888-7777-6666-555555555555';
export const KEYPAIR = generateAuthnKeypair();
export const A_PUBLIC = { clusterUUID: A_UUID, authnKeyPub: KEYPAIR.pub, rootCA: TEST_ROOT_CA_PEM };
export const B_PUBLIC = testPublicDocument(B_UUID);
export const BAR_HOST = 'bar.xyz.svc.cluster-b.local';
export const B_GATEWAY = { address: '203.0.113.20', port: 15443 };
export const A_CLUSTER_ID = 'cluster-a-local-1234';

const b64 = (text: string) => Buffer.from(text).toString('base64');
const ok = <T>(value: T) => ({ ok: true as const, value });

export function federationB(status: Record<string, unknown> = healthyStatusB()): unknown {
  return {
    metadata: { name: 'cluster-b', generation: 1 },
    spec: { trustDomain: 'cluster-b.local', metadataEndpoint: 'https://127.0.0.1:9/metadata/' },
    status,
  };
}

export function healthyStatusB(): Record<string, unknown> {
  return {
    importedServices: 1,
    conditions: [
      {
        type: 'MetadataFetched',
        status: 'True',
        reason: 'Fetched',
        message: '',
        lastTransitionTime: '2026-01-01T00:00:00Z',
      },
      {
        type: 'Ready',
        status: 'True',
        reason: 'Ready',
        message: '',
        lastTransitionTime: '2026-01-01T00:00:00Z',
      },
    ],
    metadataCache: {
      public: B_PUBLIC,
      private: {
        ingressGateways: [B_GATEWAY],
        publicServices: [{ hostname: BAR_HOST, ports: [{ name: 'http', port: 8080, protocol: 'HTTP' }] }],
      },
    },
  };
}

export function serviceEntry(hosts: string[], address = B_GATEWAY.address): unknown {
  return {
    metadata: { name: 'imported-x', namespace: 'd8-istio' },
    spec: { hosts, endpoints: [{ address, ports: { http: 15443 } }] },
  };
}

export function istiod(env: Record<string, string>, namespace = 'd8-istio'): unknown {
  return {
    metadata: { name: 'istiod', namespace },
    spec: {
      template: {
        spec: {
          containers: [
            { name: 'discovery', env: Object.entries(env).map(([name, value]) => ({ name, value })) },
          ],
        },
      },
    },
  };
}

export function healthySnapshot(overrides: Partial<ClusterSnapshot> = {}): ClusterSnapshot {
  return {
    crd: ok({
      spec: { versions: [{ name: 'v1alpha1', served: true }] },
      status: { conditions: [{ type: 'Established', status: 'True' }] },
    }),
    moduleConfig: undefined,
    operatorConfigMap: ok({
      data: {
        global: JSON.stringify({ discovery: { clusterDomain: 'cluster-a.local', clusterUUID: A_UUID } }),
        istioEnabled: 'true',
        istio: JSON.stringify({ federation: { enabled: true } }),
      },
    }),
    exporterDeployment: ok({ spec: { replicas: 1 }, status: { readyReplicas: 1 } }),
    exporterIngress: ok({ spec: { rules: [{ host: 'istio-metadata.cluster-a.example.com' }] } }),
    documentsSecret: ok({
      data: {
        'public.json': b64(JSON.stringify(A_PUBLIC)),
        'remote-public-metadata.json': b64(
          JSON.stringify({ [B_UUID]: { ...B_PUBLIC, trustDomain: 'cluster-b.local' } }),
        ),
      },
    }),
    keypairSecret: ok({ data: { 'priv.pem': b64(KEYPAIR.priv), 'pub.pem': b64(KEYPAIR.pub) } }),
    gatewayDeployment: ok(istiod({ TRUST_DOMAIN: 'cluster-a.local', ISTIO_META_CLUSTER_ID: A_CLUSTER_ID })),
    istiodDeployments: ok([]),
    federations: ok([federationB()]),
    serviceEntries: ok([serviceEntry([BAR_HOST])]),
    ...overrides,
  };
}
