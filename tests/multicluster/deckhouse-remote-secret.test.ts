// What a Deckhouse cluster receives from us through istiod: the remote Secret rendered by
// real Helm from the merge hook's values. Its kubeconfig has Deckhouse's exact shape, and its
// `scope: api` token passes a Deckhouse api-proxy's token check (tests/fetch/peer.ts, written
// from MULTICLUSTER.md §3, independent of our JWT code) for its whole reuse period.
import { decodeJwt } from 'jose';
import { parse } from 'yaml';
import { generateAuthnKeypair } from '../../lib/federation/identity/authn-keys';
import type { KubeObject } from '../../lib/hook-sdk';
import { API_TOKEN_RENEW_BEFORE_SECONDS, API_TOKEN_TTL_SECONDS } from '../../lib/multicluster/token';
import hook from '../../hooks/multicluster/merge-multiclusters';
import { FULL_SCENARIO, scenarioValues } from '../helm/fixtures';
import { findObject, render, type JsonObject } from '../helm/render';
import { deckhouseTokenCheck } from '../fetch/peer';
import { CLUSTER_A_GLOBAL, clusterAHarness } from '../support/module';
import { testPublicDocument } from '../support/peer-identity';

const OUR_UUID = (CLUSTER_A_GLOBAL.discovery as { clusterUUID: string }).clusterUUID;
const PEER_UUID = '7d1c0b5e-3f4a-4c2d-9e8b-6a5f4e3d2c1b';
const ourKeys = generateAuthnKeypair();
const NOW = new Date('2026-11-30T12:00:00Z');
const DAY = 24 * 60 * 60;
const API_HOST = 'istio-api-proxy.cluster-b.example.com';

function peer(name: string, spec: object): KubeObject {
  return {
    apiVersion: 'deckhouse.io/v1alpha1',
    kind: 'IstioMulticluster',
    metadata: { name, generation: 1, creationTimestamp: '2026-01-01T00:00:00Z' },
    spec: { metadataEndpoint: `https://istio-metadata.${name}.example.com/metadata/`, ...spec },
    status: {
      metadataCache: {
        public: testPublicDocument(name === 'cluster-b' ? PEER_UUID : `uuid-${name}`),
        private: {
          ingressGateways: [{ address: '192.0.2.10', port: 15443 }],
          apiHost: name === 'cluster-b' ? API_HOST : `istio-api-proxy.${name}.example.com`,
          networkName: `network-${name}`,
        },
      },
    },
  };
}

type Kubeconfig = Record<string, unknown> & {
  clusters: { cluster: Record<string, unknown> }[];
  users: { user: { token: string } }[];
};
let secrets: KubeObject[];
const kubeconfigOf = (name: string): Kubeconfig => {
  const secret = findObject(secrets, 'Secret', `istio-remote-secret-${name}`)!;
  const data = (secret.data as Record<string, string>)[name]!;
  return parse(Buffer.from(data, 'base64').toString('utf8')) as Kubeconfig;
};

beforeAll(async () => {
  const merged = await clusterAHarness().run(hook, {
    cluster: [
      peer('cluster-b', {}),
      peer('with-ca', { metadata: { ca: 'CA-PEM', insecureSkipVerify: true } }),
      peer('insecure', { metadata: { insecureSkipVerify: true } }),
    ],
    configValues: { multicluster: { enabled: true } },
    values: { internal: { remoteAuthnKeypair: ourKeys } },
    now: NOW,
    trigger: 'multiclusters',
  });
  const internal = (merged.moduleValues as { internal: JsonObject }).internal;
  const values = scenarioValues({ ...FULL_SCENARIO, enabled: false });
  values.istio.multicluster = { enabled: true };
  Object.assign(values.istio.internal as JsonObject, {
    multiclusters: internal.multiclusters,
    multiclustersNeedIngressGateway: internal.multiclustersNeedIngressGateway,
    multicluster: internal.multicluster,
  });
  secrets = (await render(values)).filter((o) => o.kind === 'Secret');
});

test("the kubeconfig is Deckhouse's: names, server https://<apiHost>, inline token, system roots", () => {
  const kubeconfig = kubeconfigOf('cluster-b');
  expect(kubeconfig).toEqual({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'cluster-b', cluster: { server: `https://${API_HOST}` } }],
    contexts: [{ name: 'cluster-b', context: { cluster: 'cluster-b', user: 'cluster-b' } }],
    'current-context': 'cluster-b',
    preferences: {},
    users: [{ name: 'cluster-b', user: { token: expect.any(String) } }],
  });
  expect(findObject(secrets, 'Secret', 'istio-remote-secret-cluster-b')!.metadata).toMatchObject({
    namespace: 'd8-istio',
    labels: { 'istio/multiCluster': 'true', app: 'multicluster' },
    annotations: { 'networking.istio.io/cluster': 'cluster-b' },
  });
});

test('spec.metadata: exactly one of CA data and insecure-skip-tls-verify (client-go refuses both)', () => {
  expect(kubeconfigOf('with-ca').clusters[0]!.cluster).toEqual({
    server: 'https://istio-api-proxy.with-ca.example.com',
    'certificate-authority-data': Buffer.from('CA-PEM').toString('base64'),
  });
  expect(kubeconfigOf('insecure').clusters[0]!.cluster).toEqual({
    server: 'https://istio-api-proxy.insecure.example.com',
    'insecure-skip-tls-verify': true,
  });
});

test('a Deckhouse api-proxy accepts the token from issue until renewal, and refuses it after expiry', () => {
  const token = kubeconfigOf('cluster-b').users[0]!.user.token;
  const check = (at: number) =>
    deckhouseTokenCheck(`Bearer ${token}`, {
      clusterUUID: PEER_UUID,
      scope: 'api',
      knownPeers: { [OUR_UUID]: ourKeys.pub },
      now: new Date(NOW.getTime() + at * 1000),
    });
  const nowSeconds = NOW.getTime() / 1000;
  expect(check(0)).toMatchObject({ accepted: true });
  // The merge hook reuses it until API_TOKEN_RENEW_BEFORE_SECONDS are left: still accepted then.
  expect(check(API_TOKEN_TTL_SECONDS - API_TOKEN_RENEW_BEFORE_SECONDS)).toMatchObject({ accepted: true });
  expect(check(API_TOKEN_TTL_SECONDS + 1)).toMatchObject({ accepted: false, reason: 'expired' });
  // Another peer, or another scope, is refused: the token is for this peer's api-proxy only.
  expect(
    deckhouseTokenCheck(`Bearer ${token}`, {
      clusterUUID: 'uuid-with-ca',
      scope: 'api',
      knownPeers: { [OUR_UUID]: ourKeys.pub },
      now: NOW,
    }),
  ).toMatchObject({ accepted: false, reason: 'wrong audience' });
  const claims = decodeJwt(token);
  expect(claims).toMatchObject({
    iss: 'd8-istio',
    sub: OUR_UUID,
    aud: PEER_UUID,
    scope: 'api',
    nbf: nowSeconds,
  });
  expect(claims.exp! - nowSeconds).toBeLessThanOrEqual(366 * DAY);
});
