// Multicluster objects rendered with real Helm: the remote Secrets istiod reads peers' APIs
// with (valid objects; kubeconfigs client libraries load, with exactly one TLS option or
// none), multicluster trust and meshNetworks in the shared mesh config, nothing while disabled.
import { KubeConfig } from '@kubernetes/client-node';
import { parse } from 'yaml';
import { istioClusterId } from '../../lib/istio/cluster-id';
import { CLUSTER_DOMAIN, CLUSTER_UUID, FULL_SCENARIO, TRUSTED_PEERS, scenarioValues } from './fixtures';
import { findObject, render, RenderFailed, ValuesRejected, type JsonObject, type KubeObject } from './render';
import { validationProblems } from './validate';
import { meshNetworksProblems } from './mesh-networks';

const OWN_CLUSTER_ID = istioClusterId(CLUSTER_DOMAIN, CLUSTER_UUID);
const OWN_NETWORK = `network-${OWN_CLUSTER_ID}`;
const ROOT = (id: string) => `-----BEGIN CERTIFICATE-----\nMIIB${id}\n-----END CERTIFICATE-----\n`;
const METADATA_CA = '-----BEGIN CERTIFICATE-----\nMIIBmetadataCA\n-----END CERTIFICATE-----\n';
const jwt = (peer: string) => `eyJhbGciOiJFZERTQSJ9.eyJhdWQiOiIke${peer}In0.c2lnbmF0dXJl${peer}`;

const ITEMS = [
  {
    name: 'cluster-a',
    clusterUUID: 'uuid-a',
    apiHost: 'istio-api-proxy.a.example.com',
    apiJWT: jwt('a'),
    networkName: 'network-cluster-local-111',
    ingressGateways: [
      { address: '192.0.2.10', port: 15443 },
      { address: '192.0.2.11', port: 15443 },
    ],
    enableIngressGateway: true,
    rootCA: ROOT('a'),
    metadataCA: METADATA_CA,
  },
  {
    name: 'cluster-c',
    clusterUUID: 'uuid-c',
    apiHost: '127.0.0.1:8443',
    apiJWT: jwt('c'),
    networkName: 'network-cluster-local-333',
    ingressGateways: [{ address: 'gw.c.example.com', port: 443 }],
    enableIngressGateway: true,
    rootCA: ROOT('c'),
    insecureSkipVerify: true,
  },
  {
    name: 'flat-d',
    clusterUUID: 'uuid-d',
    apiHost: 'istio-api-proxy.d.example.com',
    apiJWT: jwt('d'),
    networkName: 'network-cluster-local-444',
    ingressGateways: [],
    enableIngressGateway: false,
    rootCA: ROOT('d'),
  },
];
const TRUSTED = [
  ...ITEMS.map(({ name, clusterUUID, rootCA }) => ({ name, clusterUUID, rootCA, authnKeyPub: 'k' })),
  // Trusted, private document not complete yet: trusted root, no remote Secret, no network.
  { name: 'pending-e', clusterUUID: 'uuid-e', rootCA: ROOT('e'), authnKeyPub: 'k' },
];

function values(options: { multicluster: boolean; federation: boolean; items?: unknown[] }) {
  const v = scenarioValues({ ...FULL_SCENARIO, enabled: options.federation });
  v.istio.multicluster = { enabled: options.multicluster };
  const internal = v.istio.internal as JsonObject;
  internal.multiclusters = options.items ?? ITEMS;
  internal.multiclustersNeedIngressGateway = true;
  internal.multicluster = { trustedPeers: TRUSTED };
  return v;
}

const remoteSecrets = (objects: KubeObject[]) =>
  objects.filter((o) => o.kind === 'Secret' && o.metadata.labels?.['istio/multiCluster'] === 'true');
const meshConfig = (objects: KubeObject[]) =>
  findObject(objects, 'ConfigMap', 'd8-istio-federation-mesh-config')?.data as
    Record<string, string> | undefined;

let alone: KubeObject[];
let withFederation: KubeObject[];
let disabledWithFederation: KubeObject[];
let disabled: KubeObject[];

beforeAll(async () => {
  [alone, withFederation, disabledWithFederation, disabled] = await Promise.all([
    render(values({ multicluster: true, federation: false })),
    render(values({ multicluster: true, federation: true })),
    render(values({ multicluster: false, federation: true })),
    render(values({ multicluster: false, federation: false })),
  ]);
});

test('every multicluster object is valid for the API server', () => {
  for (const object of [
    ...remoteSecrets(alone),
    findObject(alone, 'ConfigMap', 'd8-istio-federation-mesh-config')!,
  ]) {
    expect([object.metadata.name, validationProblems(object)]).toEqual([object.metadata.name, []]);
  }
});

test('one remote Secret per usable peer, in the shape istiod and Deckhouse runbooks expect', () => {
  const secrets = remoteSecrets(alone);
  expect(secrets.map((s) => s.metadata.name)).toEqual(ITEMS.map((i) => `istio-remote-secret-${i.name}`));
  for (const [index, secret] of secrets.entries()) {
    const name = ITEMS[index]!.name;
    expect(secret.metadata).toEqual({
      name: `istio-remote-secret-${name}`,
      namespace: 'd8-istio',
      labels: { module: 'istio', heritage: 'deckhouse', app: 'multicluster', 'istio/multiCluster': 'true' },
      annotations: { 'networking.istio.io/cluster': name },
    });
    expect(Object.keys(secret.data as object)).toEqual([name]);
  }
});

function kubeconfigOf(secret: KubeObject, key: string): string {
  return Buffer.from((secret.data as Record<string, string>)[key]!, 'base64').toString('utf8');
}

test('each kubeconfig loads in a Kubernetes client: server, inline token, exactly one TLS option or none', () => {
  const tls: unknown[] = [];
  for (const [index, secret] of remoteSecrets(alone).entries()) {
    const item = ITEMS[index]!;
    const text = kubeconfigOf(secret, item.name);
    const config = new KubeConfig();
    config.loadFromString(text);
    expect(config.getCurrentContext()).toBe(item.name);
    expect(config.getContexts()).toEqual([{ name: item.name, cluster: item.name, user: item.name }]);
    const cluster = config.getCurrentCluster()!;
    expect([cluster.name, cluster.server]).toEqual([item.name, `https://${item.apiHost}`]);
    expect(config.getCurrentUser()).toMatchObject({ name: item.name, token: item.apiJWT });
    tls.push({ caData: cluster.caData, skipTLSVerify: cluster.skipTLSVerify });
    // Nothing istiod's sanitizer refuses, nothing client-go refuses (CA + insecure together).
    const raw = parse(text) as { users: { user: JsonObject }[]; clusters: { cluster: JsonObject }[] };
    expect(Object.keys(raw.users[0]!.user)).toEqual(['token']);
    const options = ['certificate-authority-data', 'insecure-skip-tls-verify'].filter(
      (key) => key in raw.clusters[0]!.cluster,
    );
    expect(options.length).toBeLessThanOrEqual(1);
  }
  expect(tls).toEqual([
    { caData: Buffer.from(METADATA_CA).toString('base64'), skipTLSVerify: false },
    { caData: undefined, skipTLSVerify: true },
    { caData: undefined, skipTLSVerify: false },
  ]);
});

test('mesh config: multicluster roots without trustDomains, our network and mesh ID for the sidecars', () => {
  const mesh = parse(meshConfig(alone)!.mesh!) as JsonObject;
  expect(mesh).toEqual({
    caCertificates: TRUSTED.map((p) => ({ pem: p.rootCA })),
    defaultConfig: {
      meshId: 'd8-istio-mesh',
      proxyMetadata: {
        PROXY_CONFIG_XDS_AGENT: 'true',
        ISTIO_META_NETWORK: OWN_NETWORK,
        ISTIO_META_MESH_ID: 'd8-istio-mesh',
      },
    },
  });
  // With federation too: federation peers keep their trust-domain restriction.
  const both = parse(meshConfig(withFederation)!.mesh!) as { caCertificates: JsonObject[] };
  expect(both.caCertificates).toEqual([
    ...TRUSTED_PEERS.map((p) => ({ pem: p.rootCA, trustDomains: [p.trustDomain] })),
    ...TRUSTED.map((p) => ({ pem: p.rootCA })),
  ]);
});

test('meshNetworks: our registry on our network; gatewayed peers on theirs; flat peers absent', () => {
  const networks = parse(meshConfig(alone)!.meshNetworks!) as unknown;
  expect(meshNetworksProblems(networks)).toEqual([]);
  expect(networks).toEqual({
    networks: {
      [OWN_NETWORK]: { endpoints: [{ fromRegistry: OWN_CLUSTER_ID }], gateways: [] },
      'network-cluster-local-111': {
        endpoints: [{ fromRegistry: 'cluster-a' }],
        gateways: ITEMS[0]!.ingressGateways,
      },
      'network-cluster-local-333': {
        endpoints: [{ fromRegistry: 'cluster-c' }],
        gateways: [{ address: 'gw.c.example.com', port: 443 }],
      },
    },
  });
  expect(meshConfig(withFederation)!.meshNetworks).toBe(meshConfig(alone)!.meshNetworks);
});

test('no peers yet: the ConfigMap still names our own network, no remote Secret', async () => {
  const objects = await render(values({ multicluster: true, federation: false, items: [] }));
  expect(remoteSecrets(objects)).toEqual([]);
  expect(parse(meshConfig(objects)!.meshNetworks!)).toEqual({
    networks: { [OWN_NETWORK]: { endpoints: [{ fromRegistry: OWN_CLUSTER_ID }], gateways: [] } },
  });
});

test('disabled: no remote Secret, no meshNetworks key, no multicluster root or proxy metadata', () => {
  expect(remoteSecrets(disabled)).toEqual([]);
  expect(meshConfig(disabled)).toBeUndefined();
  expect(remoteSecrets(disabledWithFederation)).toEqual([]);
  const data = meshConfig(disabledWithFederation)!;
  expect(Object.keys(data)).toEqual(['mesh']);
  expect(parse(data.mesh!)).toEqual({
    caCertificates: TRUSTED_PEERS.map((p) => ({ pem: p.rootCA, trustDomains: [p.trustDomain] })),
    defaultConfig: { proxyMetadata: { PROXY_CONFIG_XDS_AGENT: 'true' } },
  });
});

test('values the templates could not render safely are refused before Helm', async () => {
  const bad = (patch: JsonObject) =>
    render(values({ multicluster: true, federation: false, items: [{ ...ITEMS[0], ...patch }] }));
  // A dotted name would make istiod refuse the whole meshNetworks (fromRegistry must be a label).
  await expect(bad({ name: 'cluster.a' })).rejects.toBeInstanceOf(ValuesRejected);
  await expect(bad({ apiJWT: 'not a jwt' })).rejects.toBeInstanceOf(ValuesRejected);
  await expect(bad({ apiHost: 'https://host/' })).rejects.toBeInstanceOf(ValuesRejected);
  await expect(bad({ unknownKey: 1 })).rejects.toBeInstanceOf(ValuesRejected);
});

test('a cluster domain too long for an Istio cluster ID fails the render with a message', async () => {
  const v = values({ multicluster: true, federation: false });
  (v.global.discovery as JsonObject).clusterDomain = `${'very-long-domain-part.'.repeat(3)}example`;
  const failure = render(v);
  await expect(failure).rejects.toBeInstanceOf(RenderFailed);
  await expect(failure).rejects.toThrow(/not a DNS-1123 label/);
});

test('a cluster id that fits but a network name that does not (63, a label value) fails the render', async () => {
  // The id is a DNS-1123 label; `network-<id>` is 8 characters longer than a label value may
  // be, and every peer refuses such a networkName (lib/multicluster/wire.ts networkNameProblem).
  const suffix = `-${istioClusterId('x', CLUSTER_UUID).split('-').pop()!}`;
  const domain = `${'d'.repeat(60 - suffix.length - '.local'.length)}.local`;
  const id = istioClusterId(domain, CLUSTER_UUID);
  expect(id).toHaveLength(60);
  const v = values({ multicluster: true, federation: false });
  (v.global.discovery as JsonObject).clusterDomain = domain;
  const failure = render(v);
  await expect(failure).rejects.toBeInstanceOf(RenderFailed);
  await expect(failure).rejects.toThrow(/network-.* is longer than 63 characters/);
  // Federation alone publishes no network: the same domain renders.
  const federationOnly = values({ multicluster: false, federation: true });
  (federationOnly.global.discovery as JsonObject).clusterDomain = domain;
  await expect(render(federationOnly)).resolves.toBeDefined();
});

test('the meshNetworks check refuses what istiod refuses', () => {
  const doc = (network: JsonObject) => ({ networks: { n: network } });
  expect(meshNetworksProblems(doc({ endpoints: [{ fromRegistry: 'cluster.a' }] }))).toEqual([
    'n: invalid registry name cluster.a',
  ]);
  expect(meshNetworksProblems(doc({ gateways: [{ address: 'a_b', port: 15443 }] }))).toHaveLength(1);
  expect(meshNetworksProblems(doc({ gateways: [{ address: '192.0.2.1', port: 0 }] }))).toHaveLength(1);
  expect(meshNetworksProblems(doc({ endpoints: [{ registry: 'a' }] }))).not.toEqual([]);
  expect(meshNetworksProblems({ networks: {}, meshId: 'x' })).not.toEqual([]);
});
