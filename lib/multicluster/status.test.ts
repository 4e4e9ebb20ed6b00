import { testPublicDocument as pub } from '../../tests/support/peer-identity';
import { findCondition } from '../federation/status/conditions';
import { nextStatuses } from '../federation/status/next';
import type { FetchOutcome } from '../federation/fetch/outcome';
import type { PeerStatus } from '../federation/status/types';
import { MULTICLUSTER_KIND, readMulticluster } from './kind';
import type { MulticlusterPrivateDocument } from './wire';

const T0 = new Date('2026-11-22T06:00:00Z');
type Status = PeerStatus<MulticlusterPrivateDocument>;
const DOC: MulticlusterPrivateDocument = {
  ingressGateways: [{ address: '192.0.2.1', port: 15443 }],
  apiHost: 'api.b.example',
  networkName: 'network-b',
};
const ok: FetchOutcome<MulticlusterPrivateDocument> = {
  public: { ok: true, document: pub('uuid-b') },
  private: { ok: true, document: DOC },
};

function run(status: Status, outcome?: FetchOutcome<MulticlusterPrivateDocument>, disabled = false) {
  const peer = readMulticluster(
    { name: 'b', generation: 1, created: '', spec: { metadataEndpoint: 'https://b/metadata/' }, status },
    { ownTrustDomain: 'cluster.local' },
  )!;
  const { statuses } = nextStatuses(
    MULTICLUSTER_KIND,
    [outcome ? { peer, action: 'fetch', why: 'new' } : { peer, action: 'wait' }],
    new Map(outcome ? [['b', { outcome, durationMs: 1 }]] : []),
    { local: { trustDomain: 'cluster.local', clusterUUID: 'uuid-a', now: T0 }, disabled },
  );
  return statuses[0]!;
}
const reasons = (s: Status) =>
  Object.fromEntries((s.conditions ?? []).map((c) => [c.type, `${c.status}/${c.reason}`]));

describe('multicluster status projection', () => {
  test('fetched and joined, not probed yet: Ready waits for the probe', () => {
    const { next, patch } = run({}, ok);
    expect(reasons(next)).toEqual({
      MetadataFetched: 'True/Fetched',
      TrustEstablished: 'True/PeerTrusted',
      Joined: 'True/Joined',
      RemoteAPIReachable: 'Unknown/NotProbed',
      Ready: 'False/NotProbed',
    });
    expect(next.conditions!.map((c) => c.type)).toEqual([
      'MetadataFetched',
      'TrustEstablished',
      'Joined',
      'RemoteAPIReachable',
      'Ready',
    ]);
    // The private document is cached in its wire form, without federation keys.
    expect(patch).toMatchObject({ observedGeneration: 1, metadataCache: { private: DOC } });
    expect(patch).not.toHaveProperty('importedServices');
    expect(next.trustedIdentity?.clusterUUID).toBe('uuid-b');
  });

  test('a probe result is kept while joined, and Ready follows it; the same inputs write nothing', () => {
    const first = run({}, ok).next;
    const probed: Status = {
      ...first,
      conditions: first.conditions!.map((c) =>
        c.type === 'RemoteAPIReachable'
          ? { ...c, status: 'True', reason: 'RemoteAPIReachable', message: 'ok' }
          : c,
      ),
    };
    const again = run(probed, ok);
    expect(reasons(again.next).Ready).toBe('True/Ready');
    const still = run(again.next, ok);
    expect(still.patch).toBeUndefined();
  });

  test('not joined: the probe is not run, and Ready says why', () => {
    const { next } = run({}, { ...ok, private: { ok: true, document: { ...DOC, ingressGateways: [] } } });
    expect(reasons(next)).toMatchObject({
      Joined: 'False/NoGateways',
      RemoteAPIReachable: 'Unknown/NotProbed',
      Ready: 'False/NoGateways',
    });
  });

  test('a refused token on the private document: Joined says TokenRejected', () => {
    const failure = {
      reason: 'TokenRejected' as const,
      message: 'HTTP 401',
      endpoint: 'https://b/metadata/private/multicluster.json',
      status: 401,
    };
    const { next } = run({}, { public: ok.public, private: { ok: false, failure } });
    expect(reasons(next)).toMatchObject({
      MetadataFetched: 'False/TokenRejected',
      Joined: 'False/TokenRejected',
    });
  });

  test('disabled: the cache stays, every condition says MulticlusterDisabled', () => {
    const fetched = run({}, ok).next;
    const { next } = run(fetched, undefined, true);
    expect(next.metadataCache?.private).toEqual(DOC);
    expect(reasons(next)).toMatchObject({
      TrustEstablished: 'False/MulticlusterDisabled',
      Joined: 'False/MulticlusterDisabled',
      RemoteAPIReachable: 'False/MulticlusterDisabled',
      Ready: 'False/MulticlusterDisabled',
    });
    expect(findCondition(next.conditions, 'MetadataFetched')?.status).toBe('True');
  });
});
