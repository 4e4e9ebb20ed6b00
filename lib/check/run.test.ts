import type { TimedOutcome } from '../federation/fetch/outcome';
import type { CachedPrivateDocument } from '../federation/wire/validate';
import type { ProbeOptions, ProbeResult, GatewayTarget } from './gateway-probe';
import { renderText } from './render';
import { exitCode, type CheckResult } from './result';
import { runChecks, type CheckDeps } from './run';
import {
  A_PUBLIC,
  B_GATEWAY,
  B_PUBLIC,
  BAR_HOST,
  federationB,
  healthySnapshot,
  healthyStatusB,
  serviceEntry,
} from './test-fixtures';
import type { ClusterSnapshot } from './snapshot';

const PRIVATE_B: CachedPrivateDocument = {
  ingressGateways: [B_GATEWAY],
  publicServices: [{ hostname: BAR_HOST, ports: [{ name: 'http', port: 8080, protocol: 'HTTP' }] }],
};
const PRIVATE_URL = 'https://127.0.0.1:9/metadata/private/federation.json';

function healthyFetch(): TimedOutcome<CachedPrivateDocument> {
  return {
    durationMs: 12,
    outcome: {
      public: { ok: true, document: B_PUBLIC },
      private: { ok: true, document: PRIVATE_B, rejected: [] },
    },
  };
}

interface Fakes {
  snapshot?: ClusterSnapshot;
  fetch?: TimedOutcome<CachedPrivateDocument>;
  probe?: (target: GatewayTarget, options: ProbeOptions) => ProbeResult;
}

const probes: { target: GatewayTarget; options: ProbeOptions }[] = [];

function deps(fakes: Fakes = {}): CheckDeps {
  return {
    apiServer: 'https://127.0.0.1:6443',
    version: () => Promise.resolve('Kubernetes v1.34.0'),
    snapshot: () => Promise.resolve(fakes.snapshot ?? healthySnapshot()),
    fetchServed: () => Promise.resolve({ ok: true, body: A_PUBLIC, ms: 2 }),
    fetchPeers: (targets) =>
      Promise.resolve(new Map(targets.map((t) => [t.name, fakes.fetch ?? healthyFetch()] as const))),
    probe: (target, options) => {
      probes.push({ target, options });
      return Promise.resolve(
        fakes.probe?.(target, options) ?? {
          target,
          dialed: options.dialTo ?? target,
          ...(options.sni ? { sni: options.sni } : {}),
          alive: true,
          stage: 'handshake',
          connectMs: 1,
          handshakeMs: 2,
        },
      );
    },
    now: () => new Date('2026-06-01T00:00:00Z'),
  };
}

const byId = (results: CheckResult[]) => new Map(results.map((r) => [`${r.scope}/${r.id}`, r]));

beforeEach(() => {
  probes.length = 0;
});

describe('runChecks', () => {
  test('healthy: every check passes (istiod skipped), exit 0; the gateway is dialled with the federation SNI', async () => {
    const results = await runChecks(deps(), {
      connectTo: [{ from: B_GATEWAY, to: { address: '127.0.0.1', port: 4443 } }],
    });
    expect(results.filter((r) => r.status !== 'pass').map((r) => r.id)).toStrictEqual(['istiod']);
    expect(exitCode(results)).toBe(0);
    expect(results.filter((r) => r.scope === 'peer cluster-b').map((r) => r.id)).toStrictEqual([
      'peer.public-document',
      'peer.private-document',
      'peer.accepted-by-us',
      'peer.status',
      'peer.gateway',
      'peer.service-entries',
    ]);
    expect(probes).toStrictEqual([
      {
        target: B_GATEWAY,
        options: expect.objectContaining({
          sni: `outbound_.8080_._.${BAR_HOST}`,
          dialTo: { address: '127.0.0.1', port: 4443 },
        }),
      },
    ]);
    expect(renderText(results)).toContain('[PASS] gateway 203.0.113.20:15443 answers TLS');
  });

  test('the peer refuses our token (401): fail, and the hint says what its admin must create', async () => {
    const results = await runChecks(
      deps({
        fetch: {
          durationMs: 5,
          outcome: {
            public: { ok: true, document: B_PUBLIC },
            private: {
              ok: false,
              failure: {
                reason: 'TokenRejected',
                status: 401,
                message: `GET ${PRIVATE_URL}: HTTP 401`,
                endpoint: PRIVATE_URL,
              },
            },
          },
        },
      }),
    );
    const priv = byId(results).get('peer cluster-b/peer.private-document')!;
    expect(priv.status).toBe('fail');
    expect(priv.detail).toContain('the peer refused our token');
    expect(priv.hint).toContain('must create an IstioFederation with spec.trustDomain: cluster-a.local');
    expect(priv.hint).toContain(
      'spec.metadataEndpoint: https://istio-metadata.cluster-a.example.com/metadata/',
    );
    expect(priv.hint).toContain('check token --peer cluster-b');
    expect(exitCode(results)).toBe(1);
    // The gateways are still dialled, from the cached document.
    expect(probes).toHaveLength(1);
  });

  test('peer exporter down: the public document fails with a reachability hint, cached data still checked', async () => {
    const url = 'https://127.0.0.1:9/metadata/public/public.json';
    const results = await runChecks(
      deps({
        fetch: {
          durationMs: 1,
          outcome: {
            public: {
              ok: false,
              failure: { reason: 'Unreachable', message: `GET ${url}: ECONNREFUSED`, endpoint: url },
            },
          },
        },
      }),
    );
    const r = byId(results);
    expect(r.get('peer cluster-b/peer.public-document')).toMatchObject({ status: 'fail' });
    expect(r.get('peer cluster-b/peer.public-document')!.hint).toContain('is its exporter running');
    expect(r.get('peer cluster-b/peer.private-document')!.status).toBe('skip');
    expect(r.get('peer cluster-b/peer.service-entries')!.status).toBe('pass');
  });

  test('a dead gateway fails with a hint by stage', async () => {
    const results = await runChecks(
      deps({
        probe: (target) => ({
          target,
          dialed: target,
          alive: false,
          stage: 'refused',
          error: 'ECONNREFUSED',
        }),
      }),
    );
    const gw = byId(results).get('peer cluster-b/peer.gateway')!;
    expect(gw.status).toBe('fail');
    expect(gw.hint).toContain('nothing listens on 203.0.113.20:15443');
  });

  test('ServiceEntries that disagree with status fail; Ready=False fails with the conditions', async () => {
    const status = healthyStatusB();
    status.conditions = [
      {
        type: 'ServicesImported',
        status: 'False',
        reason: 'ImportLimitReached',
        message: '1 dropped',
        lastTransitionTime: '2026-01-01T00:00:00Z',
      },
      {
        type: 'Ready',
        status: 'False',
        reason: 'NotImported',
        message: '',
        lastTransitionTime: '2026-01-01T00:00:00Z',
      },
    ];
    const snapshot = healthySnapshot({
      federations: { ok: true, value: [federationB(status)] },
      serviceEntries: { ok: true, value: [serviceEntry([BAR_HOST, 'ghost.xyz.svc.cluster-b.local'])] },
    });
    const r = byId(await runChecks(deps({ snapshot })));
    expect(r.get('peer cluster-b/peer.service-entries')!.detail).toContain(
      '2 hosts in ServiceEntries, status.importedServices 1; hosts not in the cached document: ghost.xyz.svc.cluster-b.local',
    );
    expect(r.get('peer cluster-b/peer.status')!.detail).toContain(
      'ServicesImported=False ImportLimitReached',
    );
  });

  test('a peer our exporter does not know yet: accepted-by-us fails, saying when it will', async () => {
    const snapshot = healthySnapshot({
      documentsSecret: {
        ok: true,
        value: { data: { 'remote-public-metadata.json': Buffer.from('{}').toString('base64') } },
      },
    });
    const r = byId(await runChecks(deps({ snapshot })));
    const accepted = r.get('peer cluster-b/peer.accepted-by-us')!;
    expect(accepted.status).toBe('fail');
    expect(accepted.detail).toContain(
      'is not among the 0 peers in remote-public-metadata.json of Secret d8-istio-federation-documents',
    );
    expect(accepted.hint).toContain('TrustEstablished=True');
  });

  test('--peer limits the peers; an unknown name fails', async () => {
    const only = await runChecks(deps(), { peer: 'cluster-x' });
    expect(only.filter((r) => r.scope.startsWith('peer')).map((r) => [r.id, r.status])).toStrictEqual([
      ['peer.spec', 'fail'],
    ]);
  });

  test('an unreachable API server stops after one failing line', async () => {
    const results = await runChecks({ ...deps(), version: () => Promise.reject(new Error('ECONNREFUSED')) });
    expect(results).toHaveLength(1);
    expect(results[0]).toMatchObject({ id: 'api', status: 'fail' });
    expect(exitCode(results)).toBe(1);
  });
});
