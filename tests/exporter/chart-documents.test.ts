// The chart and the exporter agree: the documents Secret Helm renders with both relationships
// enabled, served by the compiled exporter started with the arguments of the rendered
// Deployment (its Secret swapped for the same data in a directory).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FULL_SCENARIO, scenarioValues } from '../helm/fixtures';
import { findObject, render, type JsonObject } from '../helm/render';
import { request, startExporter, type RunningExporter } from './exporter-process';
import { EC_ROOT_CA, testCluster, writeKubernetesSecretDir, type TestCluster } from './fixtures';
import { eddsaToken, referenceClaims } from './tokens';

const CLUSTER_UUID = '0f8e4b2a-6c1d-4e3f-9a7b-2d5c8e1f4a60'; // tests/helm/fixtures.ts
const local = testCluster('cluster-b.local');
const federationPeer = testCluster('cluster-a.local');
const multiclusterPeer = testCluster('cluster-b.local');

let dir: string;
let exporter: RunningExporter;

beforeAll(async () => {
  const values = scenarioValues({ ...FULL_SCENARIO, advertise: false });
  values.istio.multicluster = { enabled: true, apiHost: '127.0.0.1:8443' };
  const internal = values.istio.internal as JsonObject & { federation: JsonObject };
  internal.remoteAuthnKeypair = local.keypair;
  internal.federation.localRootCA = EC_ROOT_CA;
  const peer = (name: string, p: TestCluster) => ({
    name,
    clusterUUID: p.clusterUUID,
    rootCA: p.rootCA,
    authnKeyPub: p.keypair.pub,
  });
  internal.federation.trustedPeers = [{ ...peer('a', federationPeer), trustDomain: 'cluster-a.local' }];
  internal.multicluster = { trustedPeers: [peer('m', multiclusterPeer)] };
  const objects = await render(values);

  const secret = findObject(objects, 'Secret', 'd8-istio-federation-documents');
  const files = Object.fromEntries(
    Object.entries(secret?.data as Record<string, string>).map(([key, value]) => [
      key,
      Buffer.from(value, 'base64').toString('utf8'),
    ]),
  );
  dir = mkdtempSync(join(tmpdir(), 'exporter-chart-'));
  writeKubernetesSecretDir(dir, files);
  const deployment = findObject(objects, 'Deployment', 'metadata-exporter');
  const args = (deployment?.spec as { template: { spec: { containers: { args: string[] }[] } } }).template
    .spec.containers[0]!.args;
  // Keep every argument but the Secret source and the listen address (startExporter sets them).
  const kept = args.filter(
    (arg, i) =>
      !['--documents-secret', '--listen'].includes(arg) &&
      !['--documents-secret', '--listen'].includes(args[i - 1]!),
  );
  expect(kept).toEqual(['--private-documents', 'federation,multicluster']);
  exporter = await startExporter(dir, kept);
  await exporter.waitForLog((r) => r.msg === 'documents loaded');
});

afterAll(async () => {
  await exporter?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const get = (path: string, peer: TestCluster, scope: string) =>
  request(exporter.port, path, {
    headers: {
      Authorization: `Bearer ${eddsaToken(peer.keypair.priv, referenceClaims(CLUSTER_UUID, peer.clusterUUID, undefined, scope))}`,
    },
  });

test('no peer entry of the rendered allow-lists is rejected', () => {
  expect(exporter.logs.find((r) => r.msg === 'documents loaded')).toMatchObject({
    remotes: 1,
    multiclusterRemotes: 1,
  });
  expect(exporter.logs.filter((r) => r.msg === 'remote peer entry rejected')).toEqual([]);
});

test('a multicluster peer reads the rendered multicluster.json', async () => {
  const res = await get('/metadata/private/multicluster.json', multiclusterPeer, 'private-multicluster');
  expect(res.status).toBe(200);
  expect(JSON.parse(res.body)).toStrictEqual({
    ingressGateways: [{ address: '203.0.113.5', port: 15443 }],
    apiHost: '127.0.0.1:8443',
    networkName: expect.stringMatching(/^network-cluster-b-local-[0-9]+$/),
  });
});

test('a federation peer reads federation.json and is refused multicluster.json', async () => {
  expect((await get('/metadata/private/federation.json', federationPeer, 'private-federation')).status).toBe(
    200,
  );
  expect(
    (await get('/metadata/private/multicluster.json', federationPeer, 'private-multicluster')).status,
  ).toBe(401);
  expect(
    (await get('/metadata/private/federation.json', multiclusterPeer, 'private-federation')).status,
  ).toBe(401);
});
