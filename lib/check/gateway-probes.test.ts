import type { GatewayTarget, ProbeOptions, ProbeResult } from './gateway-probe';
import { gatewayProbeSamples, probeAll, probeTargets, GATEWAY_PROBE_METRICS } from './gateway-probes';
import { readPeer } from './peer';
import { B_GATEWAY, BAR_HOST, federationB, healthyStatusB } from './test-fixtures';

const peerB = (status = healthyStatusB()) => readPeer(federationB(status), 'cluster-a.local')!;

describe('probeTargets', () => {
  test('each cached gateway once, with the SNI of the first service (by hostname) and its first port', () => {
    const status = healthyStatusB();
    const cache = status.metadataCache as {
      private: { ingressGateways: unknown[]; publicServices: unknown[] };
    };
    cache.private.ingressGateways = [B_GATEWAY, { address: '203.0.113.21', port: 15443 }];
    cache.private.publicServices.push({
      hostname: 'aaa.xyz.svc.cluster-b.local',
      ports: [{ name: 'tcp', port: 5432 }],
    });
    expect(probeTargets([peerB(status)])).toStrictEqual([
      { federation: 'cluster-b', gateway: B_GATEWAY, sni: 'outbound_.5432_._.aaa.xyz.svc.cluster-b.local' },
      {
        federation: 'cluster-b',
        gateway: { address: '203.0.113.21', port: 15443 },
        sni: 'outbound_.5432_._.aaa.xyz.svc.cluster-b.local',
      },
    ]);
  });

  test('a federation with no cached private document has no target', () => {
    const status = healthyStatusB();
    delete (status.metadataCache as { private?: unknown }).private;
    expect(probeTargets([peerB(status)])).toStrictEqual([]);
  });
});

describe('probeAll', () => {
  const fakeResult = (target: GatewayTarget, options: ProbeOptions): ProbeResult => ({
    target,
    dialed: options.dialTo ?? target,
    alive: target.port !== 1,
    stage: target.port !== 1 ? 'handshake' : 'refused',
  });

  test('bounded concurrency, results in target order, dialTo applied', async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    const pending: (() => void)[] = [];
    const probe = (target: GatewayTarget, options: ProbeOptions): Promise<ProbeResult> => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      return new Promise((resolve) =>
        pending.push(() => {
          inFlight--;
          resolve(fakeResult(target, options));
        }),
      );
    };
    const targets = Array.from({ length: 7 }, (_, i) => ({
      federation: `f${i}`,
      gateway: { address: `192.0.2.${i + 1}`, port: 15443 },
    }));
    const running = probeAll(targets, {
      concurrency: 3,
      probe,
      dialTo: (g) => (g.address === '192.0.2.1' ? { address: '127.0.0.1', port: 9 } : undefined),
    });
    // Release the dials one by one, latest first, until all are done (bounded: 7 dials).
    for (let released = 0; released < 7; released++) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      pending.pop()?.();
    }
    const results = await running;
    expect(maxInFlight).toBe(3);
    expect(results.map((r) => r.federation)).toStrictEqual(targets.map((t) => t.federation));
    expect(results[0]!.dialed).toStrictEqual({ address: '127.0.0.1', port: 9 });
  });
});

describe('gatewayProbeSamples', () => {
  test('up per federation and gateway; latencies in seconds only where measured', () => {
    const labels = { federation_name: 'cluster-b', address: '203.0.113.20', port: '15443' };
    expect(
      gatewayProbeSamples([
        {
          federation: 'cluster-b',
          target: B_GATEWAY,
          dialed: B_GATEWAY,
          alive: true,
          stage: 'handshake',
          connectMs: 2,
          handshakeMs: 5,
          sni: `outbound_.8080_._.${BAR_HOST}`,
        },
        {
          federation: 'cluster-c',
          target: { address: '192.0.2.9', port: 1 },
          dialed: B_GATEWAY,
          alive: false,
          stage: 'refused',
        },
      ]),
    ).toStrictEqual([
      { name: GATEWAY_PROBE_METRICS.up, value: 1, labels },
      { name: GATEWAY_PROBE_METRICS.connectSeconds, value: 0.002, labels },
      { name: GATEWAY_PROBE_METRICS.handshakeSeconds, value: 0.005, labels },
      {
        name: GATEWAY_PROBE_METRICS.up,
        value: 0,
        labels: { federation_name: 'cluster-c', address: '192.0.2.9', port: '1' },
      },
    ]);
  });
});
