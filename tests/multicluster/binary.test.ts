// The compiled executable (Bun) runs the multicluster fetch hook against a real HTTPS peer:
// TLS with the object's CA, both tokens (private-multicluster, api) accepted by the peer's
// reference-style check, the probe's GET /api, status and metrics as in the jest runs.
// The peer runs in its own Bun process because runCompiledHook blocks this event loop.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { app } from '../../hooks/index';
import fetchHook from '../../hooks/multicluster/fetch-metadata';
import { bindingContextsFor, runCompiledHook } from '../../lib/hook-sdk/testing';
import { MULTICLUSTER_METRICS } from '../../lib/multicluster/metrics';
import { CLUSTER_A_GLOBAL, clusterAHarness, hookBinary, MODULE_ROOT } from '../support/module';
import { applyStatusPatches, statusOf } from '../fetch/cluster';
import { deckhouseKeypair, type TokenCheck } from '../fetch/peer';

const OUR_UUID = (CLUSTER_A_GLOBAL.discovery as { clusterUUID: string }).clusterUUID;
const ourKeys = deckhouseKeypair();
const hookIndex = app.hooks.findIndex((h) => h.name === fetchHook.name);

let child: ChildProcess | undefined;
afterAll(() => child?.kill('SIGTERM'));

interface Peer {
  endpoint: string;
  ca: string;
  checks: TokenCheck[];
  /** Resolves once the peer reported `count` token checks (event-driven, no sleeps). */
  tokenChecks(count: number): Promise<TokenCheck[]>;
}

function startPeer(): Promise<Peer> {
  const config = {
    clusterUUID: 'uuid-b',
    trustDomain: 'cluster-a.local',
    privateDocument: { ingressGateways: [{ address: '192.0.2.20', port: 15443 }], networkName: 'network-b' },
    apiHostSelf: true,
    knownPeers: { [OUR_UUID]: ourKeys.pub },
  };
  child = spawn(
    join(MODULE_ROOT, 'node_modules', '.bin', 'bun'),
    ['tests/fetch/peer-main.ts', JSON.stringify(config)],
    { cwd: MODULE_ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const checks: TokenCheck[] = [];
  const waiters: { count: number; resolve: (c: TokenCheck[]) => void }[] = [];
  return new Promise((resolve, reject) => {
    child!.once('exit', (code) => reject(new Error(`peer process exited with ${code}`)));
    createInterface({ input: child!.stdout! }).on('line', (line) => {
      const message = JSON.parse(line) as { endpoint?: string; ca?: string; tokenCheck?: TokenCheck };
      if (message.tokenCheck) {
        checks.push(message.tokenCheck);
        for (const w of waiters.filter((w) => checks.length >= w.count)) w.resolve(checks.slice(0, w.count));
      } else if (message.endpoint && message.ca) {
        resolve({
          endpoint: message.endpoint,
          ca: message.ca,
          checks,
          tokenChecks: (count) =>
            checks.length >= count
              ? Promise.resolve(checks.slice(0, count))
              : new Promise((r) => waiters.push({ count, resolve: r })),
        });
      }
    });
  });
}

test('the compiled hook fetches, probes and reports a healthy multicluster peer', async () => {
  const peer = await startPeer();
  const cluster = [
    {
      apiVersion: 'deckhouse.io/v1alpha1',
      kind: 'IstioMulticluster',
      metadata: { name: 'b', generation: 1, uid: 'uid-b' },
      spec: { metadataEndpoint: peer.endpoint, metadata: { ca: peer.ca } },
    },
  ];
  const { values, configValues } = clusterAHarness().initialValues({
    configValues: { multicluster: { enabled: true } },
    values: { internal: { remoteAuthnKeypair: ourKeys } },
  });
  const result = runCompiledHook(hookBinary(), hookIndex, {
    contexts: bindingContextsFor(fetchHook, cluster, 'multiclusters'),
    values,
    configValues,
  });
  expect(result.stderr).toBe('');
  expect(result.exitCode).toBe(0);
  const status = statusOf(applyStatusPatches(cluster, result.kubeOperations, 'IstioMulticluster'), 'b');
  const apiHost = new URL(peer.endpoint).host;
  expect((status.metadataCache as Record<string, unknown>).private).toEqual({
    ingressGateways: [{ address: '192.0.2.20', port: 15443 }],
    apiHost,
    networkName: 'network-b',
  });
  const conditions = status.conditions as { type: string; status: string }[];
  expect(conditions.map((c) => [c.type, c.status])).toEqual([
    ['MetadataFetched', 'True'],
    ['TrustEstablished', 'True'],
    ['Joined', 'True'],
    ['RemoteAPIReachable', 'True'],
    ['Ready', 'True'],
  ]);
  const checks = await peer.tokenChecks(2);
  expect(checks.map((c) => [c.accepted, c.claims?.scope, c.claims?.aud, c.claims?.sub])).toEqual([
    [true, 'private-multicluster', 'uuid-b', OUR_UUID],
    [true, 'api', 'uuid-b', OUR_UUID],
  ]);
  expect(result.metrics).toContainEqual(
    expect.objectContaining({
      name: MULTICLUSTER_METRICS.apiHostCheckError,
      value: 0,
      labels: { multicluster_name: 'b', api_host: apiHost },
    }),
  );
});
