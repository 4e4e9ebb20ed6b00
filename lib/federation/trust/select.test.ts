import { testPublicDocument as pub } from '../../../tests/support/peer-identity';
import { selectTrustedPeers, type TrustInput } from './select';

const LOCAL = 'cluster-a.local';
const NOW = new Date();
const fed = (name: string, trustDomain: string, uuid = `uuid-${name}`): TrustInput => ({
  name,
  trustDomain,
  public: pub(uuid),
});
const refusedOf = (r: ReturnType<typeof selectTrustedPeers>) =>
  [...r.refusals].sort(([a], [b]) => (a < b ? -1 : 1)).map(([name, x]) => [name, x.reason]);

describe('trusted peers', () => {
  test('sorted by name; own, cluster.local, invalid and public-less federations refused', () => {
    const result = selectTrustedPeers(
      [
        fed('zeta', 'z.local'),
        fed('own', 'Cluster-A.local'),
        fed('default', 'cluster.local'),
        fed('broken', 'bad domain!'),
        { name: 'fresh', trustDomain: 'f.local' },
        fed('alpha', 'b.local'),
      ],
      { trustDomain: LOCAL, now: NOW },
    );
    expect(result.peers.map((p) => p.name)).toEqual(['alpha', 'zeta']);
    expect(result.peers[0]).toEqual({ name: 'alpha', trustDomain: 'b.local', ...pub('uuid-alpha') });
    expect(refusedOf(result)).toEqual([
      ['broken', 'InvalidTrustDomain'],
      ['default', 'ReservedTrustDomain'],
      ['fresh', 'NoPublicMetadata'],
      ['own', 'OwnTrustDomain'],
    ]);
  });

  test('same trust domain (any case): the first by name owns it, fetched or not', () => {
    // The owner of a domain does not change while its first federation has no public
    // document yet (the fetch plan refuses the same federations: trust/refusals.ts).
    const result = selectTrustedPeers(
      [fed('b-2', 'B.local'), fed('b-1', 'b.local'), { name: 'b-0', trustDomain: 'b.local' }],
      { trustDomain: LOCAL, now: NOW },
    );
    expect(result.peers.map((p) => p.name)).toEqual([]);
    expect(refusedOf(result)).toEqual([
      ['b-0', 'NoPublicMetadata'],
      ['b-1', 'DuplicateTrustDomain'],
      ['b-2', 'DuplicateTrustDomain'],
    ]);
    expect(result.refusals.get('b-2')!.message).toContain('b-0');
  });

  test('a clusterUUID claimed twice is trusted for nobody, and ours is never a peer', () => {
    const result = selectTrustedPeers(
      [
        fed('a-evil', 'evil.local', 'uuid-good'),
        fed('good', 'good.local', 'uuid-good'),
        fed('mirror', 'm.local', 'uuid-ours'),
        fed('fine', 'f.local'),
      ],
      { trustDomain: LOCAL, clusterUUID: 'uuid-ours', now: NOW },
    );
    expect(result.peers.map((p) => p.name)).toEqual(['fine']);
    expect(refusedOf(result)).toEqual([
      ['a-evil', 'DuplicateClusterUUID'],
      ['good', 'DuplicateClusterUUID'],
      ['mirror', 'LocalClusterUUID'],
    ]);
    expect(result.refusals.get('a-evil')!.message).toContain('a-evil, good');
  });

  test('a public document read back from status is checked like a fetched one', () => {
    const garbageKey = { ...fed('k', 'k.local'), public: { ...pub('uuid-k'), authnKeyPub: 'not a key' } };
    const garbageCA = { ...fed('c', 'c.local'), public: { ...pub('uuid-c'), rootCA: 'not a certificate' } };
    const result = selectTrustedPeers([garbageKey, garbageCA, fed('ok', 'o.local')], {
      trustDomain: LOCAL,
      now: NOW,
    });
    expect(result.peers.map((p) => p.name)).toEqual(['ok']);
    expect(refusedOf(result)).toEqual([
      ['c', 'InvalidPublicMetadata'],
      ['k', 'InvalidPublicMetadata'],
    ]);
    // The root CA expires: from then on the peer is no longer trusted.
    const later = selectTrustedPeers([fed('ok', 'o.local')], {
      trustDomain: LOCAL,
      now: new Date('2127-01-01T00:00:00Z'),
    });
    expect(refusedOf(later)).toEqual([['ok', 'InvalidPublicMetadata']]);
  });
});

test('issue 10 item 4: a root CA read back from status reaches trust filtered and re-encoded', () => {
  const ca = pub('uuid-x').rootCA;
  const key =
    '-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIBqOuvAMLdJ9ZQ5m5YvJ2lpjtpuZP6vnMd1ODnmuAoh6\n-----END PRIVATE KEY-----\n';
  const dirty = {
    ...fed('x', 'x.local'),
    public: { ...pub('uuid-x'), rootCA: `junk\r\n${ca.replace(/\n/g, '\r\n')}${key}` },
  };
  const { peers } = selectTrustedPeers([dirty], { trustDomain: LOCAL, now: NOW });
  expect(peers.map((p) => p.rootCA)).toEqual([ca]);
});
