import { testPublicDocument } from '../../../tests/support/peer-identity';
import type { FetchOutcome } from '../fetch/outcome';
import type { PlanEntry } from '../fetch/plan';
import { DEFAULT_REFRESH_POLICY } from '../fetch/refresh';
import { FEDERATION_KIND, readFederation } from '../kind';
import type { CachedPrivateDocument } from '../wire/validate';
import { findCondition } from './conditions';
import {
  gatewayProbeRecord,
  gatewayReachableCondition,
  MAX_FAILING_RECORDED,
  readGatewayProbe,
  type GatewayDial,
} from './gateway';
import { nextStatuses } from './next';
import type { GatewayProbeStatus, PeerStatus } from './types';

const T0 = new Date('2026-11-22T06:00:00Z');
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);
type Status = PeerStatus<CachedPrivateDocument>;

const up = (address: string): GatewayDial => ({ address, port: 15443, alive: true, stage: 'handshake' });
const down = (address: string, error = `connect ECONNREFUSED ${address}:15443`): GatewayDial => ({
  address,
  port: 15443,
  alive: false,
  stage: 'refused',
  error,
});

describe('the gateway probe record (status.gatewayProbe)', () => {
  it('counts, names the failing gateways, and keeps `since` while the result is the same', () => {
    const first = gatewayProbeRecord([up('10.0.0.1'), down('10.0.0.2')], undefined, T0);
    expect(first).toEqual({
      reachable: 1,
      total: 2,
      failing: [{ address: '10.0.0.2', port: 15443, error: 'refused: connect ECONNREFUSED 10.0.0.2:15443' }],
      since: '2026-11-22T06:00:00Z',
    });
    // Same result 30 s later: the very same record (nothing to write).
    expect(gatewayProbeRecord([up('10.0.0.1'), down('10.0.0.2')], first, at(30))).toBe(first);
    // Another failure reason is a change: `since` moves.
    const other = gatewayProbeRecord([up('10.0.0.1'), down('10.0.0.2', 'x')], first, at(60));
    expect(other.since).toBe('2026-11-22T06:01:00Z');
    expect(other.failing[0]?.error).toBe('refused: x');
    const healed = gatewayProbeRecord([up('10.0.0.1'), up('10.0.0.2')], other, at(90));
    expect(healed).toEqual({ reachable: 2, total: 2, failing: [], since: '2026-11-22T06:01:30Z' });
  });

  it('is bounded: at most MAX_FAILING_RECORDED failing entries, errors cut at 256 characters', () => {
    const dials = Array.from({ length: 20 }, (_, i) => down(`10.0.1.${i}`, 'e'.repeat(1000)));
    const record = gatewayProbeRecord(dials, undefined, T0);
    expect(record.total).toBe(20);
    expect(record.reachable).toBe(0);
    expect(record.failing).toHaveLength(MAX_FAILING_RECORDED);
    expect(record.failing.every((f) => f.error.length === 256 && f.error.endsWith('...'))).toBe(true);
    expect(gatewayReachableCondition(record).message).toMatch(
      /^20 of 20 gateway\(s\) unreachable .* and 12 more$/,
    );
  });

  it('reads back what it writes, and nothing malformed', () => {
    const record = gatewayProbeRecord([down('10.0.0.2')], undefined, T0);
    expect(readGatewayProbe(JSON.parse(JSON.stringify(record)))).toEqual(record);
    expect(readGatewayProbe({ reachable: -1, total: 1, failing: [], since: 'x' })).toBeUndefined();
    expect(readGatewayProbe({ reachable: 1, total: 1, since: 'x' })).toBeUndefined();
    expect(readGatewayProbe('up')).toBeUndefined();
  });
});

describe('GatewayReachable', () => {
  it('True when every dialled gateway answered, False naming address:port and error, Unknown without a record', () => {
    expect(gatewayReachableCondition(gatewayProbeRecord([up('10.0.0.1')], undefined, T0))).toEqual({
      type: 'GatewayReachable',
      status: 'True',
      reason: 'GatewaysReachable',
      message: "1 of 1 gateway(s) answered from the operator's pod (since 2026-11-22T06:00:00Z)",
    });
    expect(
      gatewayReachableCondition(gatewayProbeRecord([up('10.0.0.1'), down('10.0.0.2')], undefined, T0)),
    ).toEqual({
      type: 'GatewayReachable',
      status: 'False',
      reason: 'GatewayUnreachable',
      message:
        "1 of 2 gateway(s) unreachable from the operator's pod since 2026-11-22T06:00:00Z: 10.0.0.2:15443 (refused: connect ECONNREFUSED 10.0.0.2:15443)",
    });
    expect(gatewayReachableCondition(undefined)).toMatchObject({ status: 'Unknown', reason: 'NotProbed' });
  });
});

describe('the fetch hook projects GatewayReachable from status.gatewayProbe', () => {
  const publicDoc = testPublicDocument('uuid-b');
  const privateDoc = {
    ingressGateways: [{ address: '10.0.0.2', port: 15443 }],
    publicServices: [
      {
        hostname: 'bar.xyz.svc.cluster-b.local',
        ports: [{ name: 'http', port: 80, protocol: 'HTTP' as const }],
      },
    ],
  };
  const success: FetchOutcome<CachedPrivateDocument> = {
    public: { ok: true, document: publicDoc },
    private: { ok: true, document: privateDoc, rejected: [] },
  };

  /** One fetch hook run over one peer (status/next.ts), as the hook does it. */
  function run(previous: Status, now: Date, options: { fetch?: boolean; trustDomain?: string } = {}) {
    const trustDomain = options.trustDomain ?? 'cluster-b.local';
    const peer = {
      name: 'peer-b',
      generation: 1,
      trustDomain,
      metadataEndpoint: 'https://b.example/metadata/',
      tls: {},
      created: '',
      status: previous,
      rejected: [],
    };
    const entry: PlanEntry<CachedPrivateDocument> =
      trustDomain === 'cluster-a.local'
        ? { peer, action: 'refuse', refusal: { reason: 'OwnTrustDomain', message: 'own' } }
        : options.fetch
          ? { peer, action: 'fetch', why: 'new' }
          : { peer, action: 'wait' };
    const outcomes = new Map(options.fetch ? [['peer-b', { outcome: success, durationMs: 1 }]] : []);
    const { statuses } = nextStatuses(FEDERATION_KIND, [entry], outcomes, {
      local: { trustDomain: 'cluster-a.local', now },
      policy: DEFAULT_REFRESH_POLICY,
    });
    return { status: statuses[0]!.next, patch: statuses[0]!.patch };
  }
  const withProbe = (status: Status, probe: GatewayProbeStatus): Status => ({
    ...status,
    gatewayProbe: probe,
  });
  const condition = (status: Status, type: string) => findCondition(status.conditions, type);

  it('False with the failing gateway while Ready stays True; True again when it answers; no write in between', () => {
    const fetched = run({}, T0, { fetch: true }).status;
    expect(condition(fetched, 'GatewayReachable')).toMatchObject({ status: 'Unknown', reason: 'NotProbed' });
    const dead = gatewayProbeRecord([down('10.0.0.2')], undefined, at(30));
    const failing = run(withProbe(fetched, dead), at(32));
    expect(condition(failing.status, 'GatewayReachable')).toMatchObject({
      status: 'False',
      reason: 'GatewayUnreachable',
      lastTransitionTime: '2026-11-22T06:00:32Z',
    });
    expect(condition(failing.status, 'GatewayReachable')?.message).toContain('10.0.0.2:15443 (refused:');
    // Ready is about trust and imports; the probe runs from the operator's pod, not the mesh.
    expect(condition(failing.status, 'Ready')).toMatchObject({ status: 'True', reason: 'Ready' });
    // The fetch hook's patch carries the condition and never gatewayProbe.
    expect(failing.patch).toBeDefined();
    expect(Object.keys(failing.patch!)).toEqual(['conditions']);
    // Steady state: the same record, no write.
    expect(run(failing.status, at(34)).patch).toBeUndefined();
    const healed = gatewayProbeRecord([up('10.0.0.2')], dead, at(60));
    const recovered = run({ ...failing.status, gatewayProbe: healed }, at(62), { fetch: true });
    expect(condition(recovered.status, 'GatewayReachable')).toMatchObject({
      status: 'True',
      reason: 'GatewaysReachable',
      lastTransitionTime: '2026-11-22T06:01:02Z',
    });
    expect(recovered.patch).not.toHaveProperty('gatewayProbe');
  });

  it('never removes gatewayProbe, also when a refusal rewrites the whole status', () => {
    const fetched = run({}, T0, { fetch: true }).status;
    const probed = withProbe(fetched, gatewayProbeRecord([down('10.0.0.2')], undefined, at(30)));
    const refused = run(probed, at(40), { trustDomain: 'cluster-a.local' });
    expect(refused.patch).toMatchObject({ metadataCache: null });
    expect(refused.patch).not.toHaveProperty('gatewayProbe');
    expect(condition(refused.status, 'GatewayReachable')).toMatchObject({
      status: 'Unknown',
      reason: 'NotProbed',
      message: 'the gateways of a refused peer (OwnTrustDomain) are not probed',
    });
  });

  it('the cached reader exposes status.gatewayProbe', () => {
    const probe = gatewayProbeRecord([down('10.0.0.2')], undefined, T0);
    const peer = readFederation(
      { name: 'peer-b', spec: { trustDomain: 'cluster-b.local' }, status: { gatewayProbe: probe } },
      { ownTrustDomain: 'cluster-a.local' },
    );
    expect(peer?.status.gatewayProbe).toEqual(probe);
  });
});
