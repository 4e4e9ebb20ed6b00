import { decodeJwt } from 'jose';
import { stringify } from 'yaml';
import type { KubeObject } from '../../lib/hook-sdk';
import { applyJqFilter, bindingContextsFor, runCompiledHook } from '../../lib/hook-sdk/testing';
import { generateAuthnKeypair } from '../../lib/federation/identity/authn-keys';
import { MULTICLUSTER_MERGE_JQ_FILTER } from '../../lib/multicluster/kind';
import { REMOTE_SECRET_JQ_FILTER } from '../../lib/multicluster/remote-secret';
import { app } from '../index';
import { CLUSTER_A_GLOBAL, clusterAHarness, hookBinary } from '../../tests/support/module';
import { testPublicDocument as pub } from '../../tests/support/peer-identity';
import hook, { RENEWAL_SCHEDULE } from './merge-multiclusters';

const harness = clusterAHarness();
const OWN_UUID = (CLUSTER_A_GLOBAL.discovery as { clusterUUID: string }).clusterUUID;
const keypair = generateAuthnKeypair();
const NOW = new Date('2026-11-30T12:00:00Z');
const DAY_MS = 24 * 60 * 60 * 1000;
const enabled = { multicluster: { enabled: true } };
const withKeys = { internal: { remoteAuthnKeypair: keypair } };

function multicluster(
  name: string,
  options: { uuid?: string; private?: unknown; spec?: object } = {},
): KubeObject {
  return {
    apiVersion: 'deckhouse.io/v1alpha1',
    kind: 'IstioMulticluster',
    metadata: { name, generation: 1, creationTimestamp: '2026-01-01T00:00:00Z' },
    spec: { metadataEndpoint: `https://istio-metadata.${name}.example.com/metadata/`, ...options.spec },
    status: {
      metadataCache: {
        public: pub(options.uuid ?? `uuid-${name}`),
        ...(options.private === null
          ? {}
          : {
              private: options.private ?? {
                ingressGateways: [{ address: '192.0.2.10', port: 15443 }],
                apiHost: `istio-api-proxy.${name}.example.com`,
                networkName: `network-${name}`,
              },
            }),
      },
      conditions: [
        {
          type: 'Ready',
          status: 'True',
          reason: 'Joined',
          message: '',
          lastTransitionTime: '2026-01-01T00:00:00Z',
        },
      ],
    },
  };
}

/** The remote Secret as templates/multicluster/remote-secrets.yaml renders it. */
function remoteSecret(
  name: string,
  token: string,
  apiHost = `istio-api-proxy.${name}.example.com`,
): KubeObject {
  const kubeconfig = stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name, cluster: { server: `https://${apiHost}` } }],
    contexts: [{ name, context: { cluster: name, user: name } }],
    'current-context': name,
    users: [{ name, user: { token } }],
  });
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name: `istio-remote-secret-${name}`,
      namespace: 'd8-istio',
      labels: { 'istio/multiCluster': 'true' },
      annotations: { 'networking.istio.io/cluster': name },
    },
    data: { [name]: Buffer.from(kubeconfig).toString('base64') },
  };
}

const foreignSecret: KubeObject = {
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: {
    name: 'somebody-elses-remote',
    namespace: 'd8-istio',
    labels: { 'istio/multiCluster': 'true' },
  },
  data: { 'some-cluster': Buffer.from('not a kubeconfig').toString('base64') },
};

const cluster = [
  multicluster('cluster-b', { spec: { metadata: { ca: 'CA-PEM', insecureSkipVerify: true } } }),
  multicluster('flat-c', {
    spec: { enableIngressGateway: false, metadata: { insecureSkipVerify: true } },
    private: { ingressGateways: [], apiHost: '127.0.0.1:8443', networkName: 'network-flat-c' },
  }),
  multicluster('pending-d', { private: null }),
  multicluster('dotted.e'),
  multicluster('self', { uuid: OWN_UUID }),
  foreignSecret,
];

type Item = { name: string; apiJWT: string; [key: string]: unknown };
type Internal = {
  internal: {
    multiclusters: Item[];
    multiclustersNeedIngressGateway: boolean;
    multicluster: { trustedPeers: { name: string }[] };
  };
};
/** [multicluster, reason] of every token the run issued. */
const issued = (result: { logs: { msg: string; [key: string]: unknown }[] }) =>
  result.logs.filter((l) => l.msg === 'issued a new api token').map((l) => [l.multicluster, l.reason]);
const secretsOf = (items: Item[]) =>
  items.map((item) => remoteSecret(item.name, item.apiJWT, item.apiHost as string));
const internalOf = (result: { moduleValues: unknown }) => (result.moduleValues as Internal).internal;
const run = (options: { cluster?: KubeObject[]; values?: object; now?: Date; trigger?: string }) =>
  harness.run(hook, {
    cluster: options.cluster ?? cluster,
    configValues: enabled,
    values: { ...withKeys, ...options.values },
    now: options.now ?? NOW,
    trigger: options.trigger ?? 'multiclusters',
  });

describe('multicluster merge hook', () => {
  it('renders usable peers with api tokens, trusted peers, and the gateway need; validated by the values schema', async () => {
    const result = await run({});
    const internal = internalOf(result);
    expect(internal.multiclusters.map(({ apiJWT: _, ...item }) => item)).toEqual([
      {
        name: 'cluster-b',
        clusterUUID: 'uuid-cluster-b',
        apiHost: 'istio-api-proxy.cluster-b.example.com',
        networkName: 'network-cluster-b',
        ingressGateways: [{ address: '192.0.2.10', port: 15443 }],
        enableIngressGateway: true,
        rootCA: pub('x').rootCA,
        // The CA wins over insecureSkipVerify: the kubeconfig gets exactly one.
        metadataCA: 'CA-PEM',
      },
      {
        name: 'flat-c',
        clusterUUID: 'uuid-flat-c',
        apiHost: '127.0.0.1:8443',
        networkName: 'network-flat-c',
        ingressGateways: [],
        enableIngressGateway: false,
        rootCA: pub('x').rootCA,
        insecureSkipVerify: true,
      },
    ]);
    for (const item of internal.multiclusters) {
      expect(decodeJwt(item.apiJWT)).toMatchObject({
        aud: `uuid-${item.name}`,
        sub: OWN_UUID,
        scope: 'api',
        iss: 'd8-istio',
      });
    }
    expect(internal.multicluster.trustedPeers.map((p) => p.name)).toEqual([
      'cluster-b',
      'dotted.e',
      'flat-c',
      'pending-d',
    ]);
    expect(internal.multiclustersNeedIngressGateway).toBe(true);
    // dotted.e is trusted (its root and key are), never joined: the verdict refuses its name
    // as a cluster id (InvalidClusterID), so it has no remote Secret and no network.
    expect(result.logs).toContainEqual(
      expect.objectContaining({
        msg: 'ignored a Secret labelled istio/multiCluster',
        secret: 'd8-istio/somebody-elses-remote',
      }),
    );
    expect(issued(result)).toEqual([
      ['cluster-b', 'Absent'],
      ['flat-c', 'Absent'],
    ]);
  });

  it('reuses the token from the remote Secret byte for byte: no values patch, even after a restart', async () => {
    const first = internalOf(await run({}));
    const secrets = secretsOf(first.multiclusters);
    const later = new Date(NOW.getTime() + 5 * DAY_MS);
    const steady = await run({
      cluster: [...cluster, ...secrets],
      values: { internal: { ...withKeys.internal, ...first } },
      now: later,
    });
    expect(steady.valuesPatch).toEqual([]);
    // addon-operator restarted: values are gone, the Secrets are the memory.
    const restarted = await run({ cluster: [...cluster, ...secrets], now: later });
    expect(internalOf(restarted).multiclusters).toEqual(first.multiclusters);
    expect(restarted.logs.some((l) => l.msg === 'issued a new api token')).toBe(false);
  });

  it('reissues when the peer UUID or the api host changed, naming why', async () => {
    const first = internalOf(await run({}));
    const [b, c] = first.multiclusters;
    const later = new Date(NOW.getTime() + DAY_MS);
    const changed = [
      multicluster('cluster-b', { uuid: 'uuid-new-b', spec: { metadata: { ca: 'CA-PEM' } } }),
      multicluster('flat-c', {
        spec: { enableIngressGateway: false },
        private: { ingressGateways: [], apiHost: 'new-host.example.com', networkName: 'network-flat-c' },
      }),
    ];
    const result = await run({
      cluster: [
        ...changed,
        remoteSecret('cluster-b', b!.apiJWT),
        remoteSecret('flat-c', c!.apiJWT, '127.0.0.1:8443'),
      ],
      now: later,
    });
    const reissued = internalOf(result).multiclusters;
    expect(decodeJwt(reissued[0]!.apiJWT).aud).toBe('uuid-new-b');
    // Same claims at the same second sign to the same bytes (Ed25519 is deterministic): a
    // reissue shows in nbf, one day later here.
    expect(decodeJwt(reissued[1]!.apiJWT).nbf).toBe(later.getTime() / 1000);
    expect(issued(result)).toEqual([
      ['cluster-b', 'WrongAudience'],
      ['flat-c', 'ApiHostChanged'],
    ]);
  });

  it('the daily schedule renews a token close to expiry and keeps a fresh one', async () => {
    const first = internalOf(await run({}));
    const secrets = secretsOf(first.multiclusters);
    const values = { internal: { ...withKeys.internal, ...first } };
    const fresh = await run({
      cluster: [...cluster, ...secrets],
      values,
      now: new Date(NOW.getTime() + 19 * DAY_MS),
      trigger: RENEWAL_SCHEDULE,
    });
    expect(fresh.valuesPatch).toEqual([]);
    const late = await run({
      cluster: [...cluster, ...secrets],
      values,
      now: new Date(NOW.getTime() + 21 * DAY_MS),
      trigger: RENEWAL_SCHEDULE,
    });
    expect(issued(late)).toEqual([
      ['cluster-b', 'Expiring'],
      ['flat-c', 'Expiring'],
    ]);
    expect(internalOf(late).multiclusters.map((i) => decodeJwt(i.apiJWT).nbf)).toEqual([
      (NOW.getTime() + 21 * DAY_MS) / 1000,
      (NOW.getTime() + 21 * DAY_MS) / 1000,
    ]);
  });

  it('needs the gateway as soon as one IstioMulticluster wants it, before any metadata', async () => {
    const waiting = await run({ cluster: [multicluster('new-b', { private: null })] });
    expect(internalOf(waiting).multiclustersNeedIngressGateway).toBe(true);
    const flatOnly = await run({
      cluster: [multicluster('flat', { spec: { enableIngressGateway: false } })],
    });
    expect(internalOf(flatOnly).multiclustersNeedIngressGateway).toBe(false);
  });

  it('without our key pair nothing is signed: no items, a warning, trust still computed', async () => {
    const result = await harness.run(hook, {
      cluster,
      configValues: enabled,
      now: NOW,
      trigger: 'multiclusters',
    });
    expect(internalOf(result).multiclusters).toEqual([]);
    expect(internalOf(result).multicluster.trustedPeers).toHaveLength(4);
    expect(result.logs).toContainEqual(
      expect.objectContaining({ level: 'warn', msg: expect.stringContaining('no api token') }),
    );
  });

  it('while multicluster is disabled: nothing in values, however many objects exist', async () => {
    const first = internalOf(await run({}));
    const result = await harness.run(hook, {
      cluster,
      configValues: {},
      values: { internal: { ...withKeys.internal, ...first } },
      now: NOW,
      trigger: 'multiclusters',
    });
    expect(internalOf(result)).toMatchObject({
      multiclusters: [],
      multiclustersNeedIngressGateway: false,
      multicluster: { trustedPeers: [] },
    });
  });

  it('the jqFilters ignore status churn and keep only the token-bearing kubeconfig of a Secret', () => {
    const a = cluster[0]!;
    const b = structuredClone(a) as KubeObject & { status: { conditions: unknown[] } };
    b.status.conditions = [];
    (b.metadata as Record<string, unknown>).resourceVersion = '77';
    const [ra, rb] = applyJqFilter(MULTICLUSTER_MERGE_JQ_FILTER, [a, b]);
    expect(rb).toEqual(ra);
    const secret = remoteSecret('cluster-b', 'x.y.z');
    (secret.data as Record<string, string>).other = 'c2VjcmV0';
    const [filtered, foreign] = applyJqFilter(REMOTE_SECRET_JQ_FILTER, [secret, foreignSecret]);
    expect(filtered).toEqual({
      name: 'istio-remote-secret-cluster-b',
      key: 'cluster-b',
      kubeconfig: (secret.data as Record<string, string>)['cluster-b'],
    });
    expect(foreign).toEqual({
      name: 'somebody-elses-remote',
      key: 'somebody-elses-remote',
      kubeconfig: null,
    });
  });

  it('runs in the compiled binary with the same values', async () => {
    // Tokens are reused from the Secrets, so the result does not depend on the binary's clock.
    const first = internalOf(await run({}));
    const secrets = secretsOf(first.multiclusters);
    const objects = [...cluster, ...secrets];
    const expected = await run({ cluster: objects, now: new Date() });
    const { values, configValues } = harness.initialValues({ configValues: enabled, values: withKeys });
    const result = runCompiledHook(hookBinary(), app.hooks.indexOf(hook), {
      contexts: bindingContextsFor(hook, objects, 'multiclusters'),
      values,
      configValues,
    });
    expect(result.stderr).toBe('');
    expect(result.exitCode).toBe(0);
    expect(harness.applyAndValidate(values, result.valuesPatch).moduleValues).toEqual(expected.moduleValues);
  });
});
