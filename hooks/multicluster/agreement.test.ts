import type { KubeObject } from '../../lib/hook-sdk';
import { istioClusterId } from '../../lib/istio/cluster-id';
import { JOIN_STATES } from '../../lib/multicluster/verdict';
import { MULTICLUSTER_REFUSAL_REASONS } from '../../lib/multicluster/reasons';
import { generateAuthnKeypair } from '../../lib/federation/identity/authn-keys';
import { applyStatusPatches } from '../../tests/fetch/cluster';
import { MULTICLUSTER_STATUS_SCHEMA, prunedStatusPaths } from '../../tests/support/crd-schema';
import { CLUSTER_A_GLOBAL, clusterAHarness } from '../../tests/support/module';
import { testPublicDocument } from '../../tests/support/peer-identity';
import { createMulticlusterFetchHook } from './fetch-metadata';
import { createMergeMulticlustersHook } from './merge-multiclusters';

/**
 * The status the multicluster fetch hook writes and the values the merge hook writes say the
 * same thing about every IstioMulticluster: Joined True <=> an item of
 * istio.internal.multiclusters (a remote Secret, a network), TrustEstablished True <=> an
 * entry of istio.internal.multicluster.trustedPeers (mesh trust, the exporter's and the
 * api-proxy's allow-lists), and a joined item carries exactly the cached private document.
 * Both hooks run as addon-operator runs them (real gojq over their own jqFilters) on the
 * same objects; the fetch hook fetches and probes nothing (every peer is current), so it
 * only projects the verdict.
 */

const harness = clusterAHarness();
const DISCOVERY = CLUSTER_A_GLOBAL.discovery as { clusterUUID: string; clusterDomain: string };
const OUR_UUID = DISCOVERY.clusterUUID;
const OUR_CLUSTER_ID = istioClusterId(DISCOVERY.clusterDomain, OUR_UUID);
const NOW = new Date('2026-11-30T12:00:00Z');
const keys = { internal: { remoteAuthnKeypair: generateAuthnKeypair() } };
const fetchHook = createMulticlusterFetchHook();
const mergeHook = createMergeMulticlustersHook();

const condition = (type: string, status: string, reason: string) => ({
  type,
  status,
  reason,
  message: '',
  lastTransitionTime: '2026-11-30T11:00:00Z',
  observedGeneration: 1,
});
const GATEWAY = { address: '192.0.2.10', port: 15443 };

interface Fixture {
  name: string;
  uuid?: string;
  /** Replaces the cached public document. */
  publicDocument?: unknown;
  /** The cached private document (wire form); none when undefined. */
  private?: Record<string, unknown>;
  flat?: boolean;
  created?: string;
}

const complete = (network: string, extra: Record<string, unknown> = {}) => ({
  ingressGateways: [GATEWAY],
  apiHost: '127.0.0.1:9',
  networkName: network,
  ...extra,
});

function multicluster(f: Fixture): KubeObject {
  const pub = f.publicDocument ?? (f.uuid ? testPublicDocument(f.uuid) : undefined);
  return {
    apiVersion: 'deckhouse.io/v1alpha1',
    kind: 'IstioMulticluster',
    metadata: {
      name: f.name,
      generation: 1,
      uid: `uid-${f.name}`,
      creationTimestamp: f.created ?? '2026-01-01T00:00:00Z',
    },
    spec: {
      metadataEndpoint: `https://istio-metadata.${f.name}.example.com/metadata/`,
      ...(f.flat ? { enableIngressGateway: false } : {}),
    },
    status: {
      observedGeneration: 1,
      metadataCache: { ...(pub ? { public: pub } : {}), ...(f.private ? { private: f.private } : {}) },
      // Current and probed: nothing is due on an event, so nothing is fetched or probed.
      conditions: [
        condition('MetadataFetched', 'True', 'Fetched'),
        condition('RemoteAPIReachable', 'True', 'RemoteAPIReachable'),
      ],
    },
  };
}

const FIXTURES: Record<string, Fixture[]> = {
  joined: [
    { name: 'b', uuid: 'uuid-b', private: complete('network-b') },
    {
      name: 'flat',
      uuid: 'uuid-flat',
      flat: true,
      private: complete('network-flat', { ingressGateways: [] }),
    },
    // What a Deckhouse peer of the in-flight branch sends too: unknown keys are dropped.
    {
      name: 'newer',
      uuid: 'uuid-newer',
      private: complete('network-newer', { clusterID: 'x', ambientGateways: [GATEWAY] }),
    },
  ],
  'not trusted': [
    { name: 'mirror', uuid: OUR_UUID, private: complete('network-mirror') },
    { name: 'b', uuid: 'uuid-b', private: complete('network-b') },
    { name: 'b-copy', uuid: 'uuid-b', created: '2026-06-01T00:00:00Z', private: complete('network-x') },
    { name: 'no-public', private: complete('network-n') },
    {
      name: 'bad-key',
      publicDocument: { ...testPublicDocument('uuid-k'), authnKeyPub: 'not a key' },
      private: complete('network-k'),
    },
  ],
  'trusted, not joined': [
    { name: 'pending', uuid: 'uuid-p' },
    { name: 'no-api', uuid: 'uuid-a', private: complete('network-a', { apiHost: '' }) },
    { name: 'no-net', uuid: 'uuid-n', private: complete('', { networkName: undefined }) },
    { name: 'no-gw', uuid: 'uuid-g', private: complete('network-g', { ingressGateways: [] }) },
    { name: 'ours', uuid: 'uuid-o', private: complete(`network-${OUR_CLUSTER_ID}`) },
    { name: 'b', uuid: 'uuid-b', private: complete('network-b') },
    { name: 'c', uuid: 'uuid-c', created: '2026-06-01T00:00:00Z', private: complete('network-b') },
    { name: 'dotted.name', uuid: 'uuid-d', private: complete('network-d') },
    { name: OUR_CLUSTER_ID, uuid: 'uuid-id', private: complete('network-id') },
  ],
  'edited status': [
    {
      name: 'b',
      uuid: 'uuid-b',
      // One hostile gateway among good ones: dropped on both sides, the rest stays.
      private: complete('network-b', { ingressGateways: [{ address: '127.0.0.1', port: 15443 }, GATEWAY] }),
    },
    { name: 'c', uuid: 'uuid-c', private: complete('network-c', { apiHost: 'https://evil.example/x' }) },
    { name: 'd', uuid: 'uuid-d', private: complete('network-d', { ingressGateways: null }) },
  ],
};

type Condition = { type: string; status: string; reason: string };
type Status = {
  conditions?: Condition[];
  metadataCache?: { private?: { ingressGateways: unknown[]; apiHost: string; networkName: string } };
};
type Item = { name: string; apiHost: string; networkName: string; ingressGateways: unknown[] };
type Internal = {
  multiclusters: Item[];
  multicluster: { trustedPeers: { name: string }[] };
};

async function bothHooks(cluster: KubeObject[], enabled = true) {
  const configValues = { multicluster: { enabled } };
  const fetch = await harness.run(fetchHook, {
    cluster,
    trigger: 'multiclusters',
    now: NOW,
    configValues,
    values: keys,
  });
  expect(fetch.logs.filter((l) => l.level === 'error')).toEqual([]);
  const after = applyStatusPatches(cluster, fetch.kubeOperations, 'IstioMulticluster');
  const merge = await harness.run(mergeHook, {
    cluster: after,
    trigger: 'multiclusters',
    now: NOW,
    configValues,
    values: keys,
  });
  return {
    statuses: new Map(after.map((o) => [o.metadata.name, o.status as Status])),
    internal: (merge.moduleValues as { internal: Internal }).internal,
  };
}

describe.each(Object.entries(FIXTURES))('status and values agree: %s', (_, fixtures) => {
  let statuses: Map<string, Status>;
  let internal: Internal;

  beforeAll(async () => {
    ({ statuses, internal } = await bothHooks(fixtures.map(multicluster)));
  });

  test.each(fixtures.map((f) => f.name))('%s', (name) => {
    const status = statuses.get(name)!;
    expect(prunedStatusPaths(status, MULTICLUSTER_STATUS_SCHEMA)).toEqual([]);
    const reason = (type: string) => {
      const c = status.conditions?.find((c) => c.type === type);
      return c && `${c.status}/${c.reason}`;
    };
    const item = internal.multiclusters.find((i) => i.name === name);
    const trusted = internal.multicluster.trustedPeers.some((p) => p.name === name);
    expect([name, reason('Joined') === 'True/Joined']).toEqual([name, item !== undefined]);
    expect([name, reason('TrustEstablished') === 'True/PeerTrusted']).toEqual([name, trusted]);
    if (reason('Ready') === 'True/Ready') expect(item).toBeDefined();
    if (item) {
      // What istiod gets is what the status shows, item for item.
      const { ingressGateways, apiHost, networkName } = status.metadataCache!.private!;
      expect({
        ingressGateways: item.ingressGateways,
        apiHost: item.apiHost,
        networkName: item.networkName,
      }).toEqual({ ingressGateways, apiHost, networkName });
    }
  });
});

test('the fixtures reach every join state and every refusal but MulticlusterDisabled', async () => {
  const reasons = new Set<string>();
  for (const fixtures of Object.values(FIXTURES)) {
    const { statuses } = await bothHooks(fixtures.map(multicluster));
    for (const status of statuses.values())
      for (const c of status.conditions ?? [])
        if (c.type === 'Joined' || c.type === 'TrustEstablished') reasons.add(c.reason);
  }
  const expected = [...JOIN_STATES, ...MULTICLUSTER_REFUSAL_REASONS].filter(
    (r) => r !== 'MulticlusterDisabled',
  );
  expect(expected.filter((r) => !reasons.has(r))).toEqual([]);
});

test('disabled: every status says so and nothing is in values', async () => {
  const fixtures = Object.values(FIXTURES).flat();
  const unique = [...new Map(fixtures.map((f) => [f.name, f])).values()];
  const { statuses, internal } = await bothHooks(unique.map(multicluster), false);
  expect(internal.multiclusters).toEqual([]);
  expect(internal.multicluster.trustedPeers).toEqual([]);
  for (const [name, status] of statuses) {
    const joined = status.conditions?.find((c) => c.type === 'Joined');
    expect([name, joined?.reason]).toEqual([name, 'MulticlusterDisabled']);
  }
});
