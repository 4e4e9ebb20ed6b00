// What federation and multicluster share, rendered with real Helm in every mode: the metadata
// exporter and its documents Secret (multicluster.json, one allow-list per relationship), the
// east-west ingress gateway (with multicluster only while some IstioMulticluster needs it),
// the AUTO_PASSTHROUGH Gateway, and the setting multicluster.apiHost.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { parseCommandLine } from '../../images/metadata-exporter/cli';
import { API_HOST_PATTERN } from '../../images/metadata-exporter/multicluster-document';
import { CLUSTER_DOMAIN, FULL_SCENARIO, INGRESS_GATEWAYS, TRUSTED_PEERS, scenarioValues } from './fixtures';
import {
  findObject,
  MODULE_ROOT,
  render,
  RenderFailed,
  ValuesRejected,
  type JsonObject,
  type KubeObject,
  type ModuleValues,
} from './render';
import { validationProblems } from './validate';

const API_PROXY_HOST = 'istio-api-proxy.example.com';
const MULTICLUSTER_PEER = {
  name: 'cluster-m',
  clusterUUID: '7b3c9d10-1111-4bd5-8f57-1c2b3b6b7d12',
  rootCA: '-----BEGIN CERTIFICATE-----\nMIIBpeerM\n-----END CERTIFICATE-----\n',
  authnKeyPub:
    '-----BEGIN ED25519 PUBLIC KEY-----\nMCowBQYDK2VwAyEApeerMpeerMpeerMpeerMpeerMpeerMpeerMpeerM=\n-----END ED25519 PUBLIC KEY-----\n',
};
/** cluster-a of the federation fixtures, also a multicluster peer: in both allow-lists. */
const [FEDERATION_PEER] = TRUSTED_PEERS;

interface Mode {
  federation: boolean;
  multicluster: boolean;
  needGateway?: boolean;
  apiHost?: string;
}

function modeValues(mode: Mode): ModuleValues {
  const values = scenarioValues({ ...FULL_SCENARIO, advertise: false, enabled: mode.federation });
  values.istio.multicluster = {
    enabled: mode.multicluster,
    ...(mode.apiHost !== undefined ? { apiHost: mode.apiHost } : {}),
  };
  const internal = values.istio.internal as JsonObject;
  internal.multiclustersNeedIngressGateway = mode.needGateway ?? false;
  const { name, clusterUUID, rootCA, authnKeyPub } = FEDERATION_PEER!;
  internal.multicluster = {
    trustedPeers: [MULTICLUSTER_PEER, { name, clusterUUID, rootCA, authnKeyPub }],
  };
  return values;
}

const EXPORTER = [
  'ServiceAccount/metadata-exporter',
  'Deployment/metadata-exporter',
  'Service/metadata-exporter',
  'Ingress/metadata-exporter',
  'Role/metadata-exporter',
  'RoleBinding/metadata-exporter',
  'Secret/d8-istio-federation-documents',
  'PodMonitor/metadata-exporter',
];
const INGRESS_GATEWAY = [
  'ServiceAccount/ingressgateway',
  'Deployment/ingressgateway',
  'PodDisruptionBudget/ingressgateway',
  'Service/ingressgateway',
  'PodMonitor/ingressgateway',
];
const GATEWAY = ['Gateway/ingressgateway'];
const SHARED = [...EXPORTER, ...INGRESS_GATEWAY, ...GATEWAY];

const MODES: { name: string; mode: Mode; expected: string[] }[] = [
  { name: 'neither', mode: { federation: false, multicluster: false }, expected: [] },
  { name: 'federation only', mode: { federation: true, multicluster: false }, expected: SHARED },
  {
    name: 'multicluster only, no peer needs a gateway',
    mode: { federation: false, multicluster: true },
    expected: [...EXPORTER, ...GATEWAY],
  },
  {
    name: 'multicluster only, a peer needs a gateway',
    mode: { federation: false, multicluster: true, needGateway: true },
    expected: SHARED,
  },
  {
    name: 'both, no multicluster peer needs a gateway',
    mode: { federation: true, multicluster: true },
    expected: SHARED,
  },
  { name: 'both', mode: { federation: true, multicluster: true, needGateway: true }, expected: SHARED },
  {
    name: 'multicluster.apiHost set',
    mode: { federation: false, multicluster: true, needGateway: true, apiHost: '127.0.0.1:8443' },
    expected: SHARED,
  },
  {
    name: 'only the gateway flag (multicluster disabled)',
    mode: { federation: false, multicluster: false, needGateway: true },
    expected: [],
  },
];

const rendered = new Map<string, KubeObject[]>();

beforeAll(async () => {
  for (const { name, mode } of MODES) rendered.set(name, await render(modeValues(mode)));
});

const objectsOf = (name: string): KubeObject[] => {
  const objects = rendered.get(name);
  if (!objects) throw new Error(`${name} not rendered`);
  return objects;
};
const must = (objects: KubeObject[], kind: string, name: string): KubeObject => {
  const found = findObject(objects, kind, name);
  if (!found) throw new Error(`${kind}/${name} not rendered`);
  return found;
};
function secretJson(objects: KubeObject[], key: string): unknown {
  const data = must(objects, 'Secret', 'd8-istio-federation-documents').data as Record<string, string>;
  if (data[key] === undefined) throw new Error(`documents Secret lacks ${key}`);
  return JSON.parse(Buffer.from(data[key], 'base64').toString('utf8'));
}
type Container = { args: string[]; env: { name: string; value?: string }[] };
const container = (objects: KubeObject[], name: string): Container =>
  (must(objects, 'Deployment', name).spec as { template: { spec: { containers: Container[] } } }).template
    .spec.containers[0]!;
const envOf = (c: Container) => Object.fromEntries(c.env.map((e) => [e.name, e.value]));

describe.each(MODES)('$name', ({ name, expected }) => {
  test('renders exactly the shared objects of this mode, all valid for the API server', () => {
    const objects = objectsOf(name);
    const shared = objects
      .map((o) => `${o.kind}/${o.metadata.name}`)
      .filter((key) => SHARED.includes(key))
      .sort();
    expect(shared).toEqual([...expected].sort());
    expect(objects.flatMap(validationProblems)).toEqual([]);
  });
});

describe('the documents Secret', () => {
  const keys = (name: string) =>
    Object.keys(must(objectsOf(name), 'Secret', 'd8-istio-federation-documents').data as JsonObject).sort();

  test.each([
    ['federation only', ['federation.json', 'public.json', 'remote-public-metadata.json'], 'federation'],
    [
      'multicluster only, no peer needs a gateway',
      ['multicluster.json', 'public.json', 'remote-multiclusters-public-metadata.json'],
      'multicluster',
    ],
    [
      'both',
      [
        'federation.json',
        'multicluster.json',
        'public.json',
        'remote-multiclusters-public-metadata.json',
        'remote-public-metadata.json',
      ],
      'federation,multicluster',
    ],
  ])(
    '%s: the keys of the enabled relationships, and the exporter serves just those',
    (name, expected, list) => {
      expect(keys(name)).toEqual(expected);
      const { args } = container(objectsOf(name), 'metadata-exporter');
      expect(
        args.slice(args.indexOf('--private-documents'), args.indexOf('--private-documents') + 2),
      ).toEqual(['--private-documents', list]);
      // The exporter's own command line accepts what the chart passes.
      expect(parseCommandLine(args).privateDocuments).toEqual(list.split(','));
    },
  );

  test("multicluster.json: Deckhouse's shape with the discovered gateways, the api host and our network", () => {
    const objects = objectsOf('both');
    const document = secretJson(objects, 'multicluster.json') as { networkName: string };
    expect(document).toEqual({
      ingressGateways: INGRESS_GATEWAYS,
      apiHost: API_PROXY_HOST,
      networkName: expect.stringMatching(/^network-cluster-b-local-[0-9]+$/),
    });
    // The same gateways as federation.json, and the network the gateway announces.
    expect(secretJson(objects, 'federation.json')).toMatchObject({ ingressGateways: INGRESS_GATEWAYS });
    const env = envOf(container(objects, 'ingressgateway'));
    expect(env.ISTIO_META_NETWORK).toBe(document.networkName);
    expect(document.networkName).toBe(`network-${env.ISTIO_META_CLUSTER_ID}`);
  });

  test('no gateway discovered yet: ingressGateways is an empty list', async () => {
    const values = modeValues({ federation: false, multicluster: true });
    (values.istio.internal as { federation: JsonObject }).federation.ingressGateways = [];
    expect(secretJson(await render(values), 'multicluster.json')).toMatchObject({ ingressGateways: [] });
  });

  test('separate allow-lists: multicluster peers without trust domains, federation peers with theirs', () => {
    const objects = objectsOf('both');
    const peer = (p: { clusterUUID: string; authnKeyPub: string; rootCA: string }) => ({
      clusterUUID: p.clusterUUID,
      authnKeyPub: p.authnKeyPub,
      rootCA: p.rootCA,
    });
    expect(secretJson(objects, 'remote-multiclusters-public-metadata.json')).toEqual({
      [MULTICLUSTER_PEER.clusterUUID]: peer(MULTICLUSTER_PEER),
      [FEDERATION_PEER!.clusterUUID]: peer(FEDERATION_PEER!),
    });
    const federationPeers = secretJson(objects, 'remote-public-metadata.json') as JsonObject;
    expect(Object.keys(federationPeers).sort()).toEqual(TRUSTED_PEERS.map((p) => p.clusterUUID).sort());
    expect(federationPeers).not.toHaveProperty(MULTICLUSTER_PEER.clusterUUID);
  });

  test('the same allow-list as the api-proxy', () => {
    const objects = objectsOf('both');
    const proxyPeers = must(objects, 'Secret', 'd8-remote-multiclusters-public-metadata').data as Record<
      string,
      string
    >;
    const documents = must(objects, 'Secret', 'd8-istio-federation-documents').data as Record<string, string>;
    expect(documents['remote-multiclusters-public-metadata.json']).toBe(
      proxyPeers['remote-multiclusters-public-metadata.json'],
    );
  });
});

describe('multicluster.apiHost', () => {
  test('published as set; the api-proxy Ingress keeps istio-api-proxy.<public domain>', () => {
    const objects = objectsOf('multicluster.apiHost set');
    expect(secretJson(objects, 'multicluster.json')).toMatchObject({ apiHost: '127.0.0.1:8443' });
    const ingress = must(objects, 'Ingress', 'api-proxy').spec as { rules: { host: string }[] };
    expect(ingress.rules.map((r) => r.host)).toEqual([API_PROXY_HOST]);
  });

  test('unset, the published host is the api-proxy Ingress host', () => {
    const objects = objectsOf('both');
    const ingress = must(objects, 'Ingress', 'api-proxy').spec as { rules: { host: string }[] };
    expect(ingress.rules.map((r) => r.host)).toEqual([API_PROXY_HOST]);
    expect(secretJson(objects, 'multicluster.json')).toMatchObject({ apiHost: API_PROXY_HOST });
  });

  test.each([
    'https://api.example.com',
    'api.example.com/api',
    'api.example.com:0',
    'api.example.com:65536',
    'a b',
    '',
  ])('%j is refused by the schema', async (apiHost) => {
    await expect(
      render(modeValues({ federation: false, multicluster: true, apiHost })),
    ).rejects.toBeInstanceOf(ValuesRejected);
  });

  test('the schema pattern is the one the exporter checks the document with', () => {
    const schema = parse(readFileSync(join(MODULE_ROOT, 'openapi', 'config-values.yaml'), 'utf8')) as {
      properties: { multicluster: { properties: { apiHost: { pattern: string } } } };
    };
    expect(schema.properties.multicluster.properties.apiHost.pattern).toBe(API_HOST_PATTERN.source);
  });
});

describe('the ingress gateway', () => {
  test('announces our network, cluster id and the shared mesh id', () => {
    for (const name of ['federation only', 'multicluster only, a peer needs a gateway']) {
      const env = envOf(container(objectsOf(name), 'ingressgateway'));
      expect(env.ISTIO_META_CLUSTER_ID).toMatch(/^cluster-b-local-[0-9]+$/);
      expect(env.ISTIO_META_NETWORK).toBe(`network-${env.ISTIO_META_CLUSTER_ID}`);
      expect(env.ISTIO_META_REQUESTED_NETWORK_VIEW).toBe(env.ISTIO_META_NETWORK);
      expect(env.ISTIO_META_MESH_ID).toBe('d8-istio-mesh');
      expect(env.TRUST_DOMAIN).toBe(CLUSTER_DOMAIN);
    }
  });

  test('the AUTO_PASSTHROUGH Gateway is there with multicluster alone, as with federation', () => {
    const gateway = must(
      objectsOf('multicluster only, no peer needs a gateway'),
      'Gateway',
      'ingressgateway',
    );
    // Its spec is checked in objects.test.ts; the same in both modes.
    expect(gateway.spec).toEqual(must(objectsOf('federation only'), 'Gateway', 'ingressgateway').spec);
    expect(JSON.stringify(gateway.spec)).toContain('AUTO_PASSTHROUGH');
  });
});

test('multicluster alone still needs HTTPS for the metadata and the api-proxy', async () => {
  const values = modeValues({ federation: false, multicluster: true });
  (values.global.modules as { https: JsonObject }).https = { mode: 'Disabled' };
  const failed = render(values);
  await expect(failed).rejects.toBeInstanceOf(RenderFailed);
  await expect(failed).rejects.toThrow(/HTTPS is mandatory for api proxy|requires HTTPS/);
});
