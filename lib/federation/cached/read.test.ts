import { testPublicDocument as pub } from '../../../tests/support/peer-identity';
import { readFederation } from '../kind';

const context = { ownTrustDomain: 'cluster-a.local' };
/** A jqFilter result as the merge hook's filter yields it (the fetch hook's has more keys). */
const raw = (name: unknown, trustDomain: unknown, cache?: Record<string, unknown>, extra = {}) => ({
  name,
  spec: { trustDomain },
  status: { metadataCache: cache ?? null },
  ...extra,
});

describe('readFederation (the one reader of a cached federation)', () => {
  test.each([null, 7, 'x', [], {}, { name: '' }, { name: 3 }])('%p -> undefined', (value) => {
    expect(readFederation(value, context)).toBeUndefined();
  });

  test('name only: no documents, nothing rejected, empty spec fields', () => {
    expect(readFederation({ name: 'b', spec: null, status: null }, context)).toEqual({
      name: 'b',
      generation: undefined,
      trustDomain: '',
      metadataEndpoint: '',
      tls: {},
      status: {},
      rejected: [],
    });
  });

  test('spec, generation and owned status fields of the fetch hook filter are read', () => {
    const peer = readFederation(
      {
        name: 'b',
        generation: 3,
        spec: {
          trustDomain: 'b.local',
          metadataEndpoint: 'https://b/',
          metadata: { ca: 'PEM', insecureSkipVerify: true },
        },
        status: {
          observedGeneration: 2,
          importedServices: 4,
          lastError: 'x',
          rejectedItems: ['a'],
          fetchRetry: { failures: 2, notBefore: 'T' },
          conditions: [{ type: 'Ready', status: 'Maybe', reason: 'r', lastTransitionTime: 'T' }, 'junk'],
        },
      },
      context,
    );
    expect(peer).toMatchObject({
      generation: 3,
      trustDomain: 'b.local',
      metadataEndpoint: 'https://b/',
      tls: { ca: 'PEM', insecureSkipVerify: true },
      status: {
        observedGeneration: 2,
        importedServices: 4,
        lastError: 'x',
        rejectedItems: ['a'],
        fetchRetry: { failures: 2, notBefore: 'T', failedEndpoint: '' },
      },
    });
    expect(peer?.status.conditions).toBeUndefined();
  });

  test('a public document of the wrong shape is dropped and named', () => {
    const peer = readFederation(raw('b', 'b.local', { public: { clusterUUID: 'x' } }), context);
    expect(peer?.status.metadataCache).toBeUndefined();
    expect(peer?.rejected[0]).toContain('metadataCache.public: public document');
  });

  test('null lists and missing keys in the private document are empty lists', () => {
    for (const priv of [{ ingressGateways: null }, {}]) {
      expect(readFederation(raw('b', 'b.local', { private: priv }), context)?.status.metadataCache).toEqual({
        private: { ingressGateways: [], publicServices: [] },
      });
    }
  });

  test('a private document that is not an object is dropped', () => {
    const peer = readFederation(raw('b', 'b.local', { private: { publicServices: 'all' } }), context);
    expect(peer?.status.metadataCache).toBeUndefined();
    expect(peer?.rejected).toHaveLength(1);
  });

  test('bad items are dropped one by one, as when fetched: shape, scope, routability, duplicates', () => {
    const peer = readFederation(
      raw('b', 'b.local', {
        public: { ...pub('u1'), extra: 'x' },
        private: {
          ingressGateways: [
            { address: '192.0.2.1', port: 15443, evil: true },
            { address: '192.0.2.2', port: 70000 },
            { address: 'a b', port: 1 },
            { address: '127.0.0.1', port: 15443 },
            null,
          ],
          publicServices: [
            { hostname: 'ok.ns.svc.b.local', ports: [{ name: 'http', port: 80, protocol: 'HTTP', x: 1 }] },
            { hostname: 'bad.ns.svc.b.local', ports: [{ name: 'http', port: 0 }] },
            { hostname: 'UPPER.ns.svc.b.local', ports: [] },
            { hostname: 'nullports.ns.svc.b.local', ports: null },
            { hostname: 'other.ns.svc.c.local', ports: [{ name: 'http', port: 80 }] },
            { hostname: 'kube-dns.kube-system.svc.cluster-a.local', ports: [{ name: 'dns', port: 53 }] },
            { hostname: 'ok.ns.svc.b.local', ports: [{ name: 'web', port: 81 }] },
            { ports: [] },
          ],
        },
      }),
      context,
    );
    expect(peer?.status.metadataCache).toEqual({
      public: pub('u1'),
      private: {
        ingressGateways: [{ address: '192.0.2.1', port: 15443 }],
        publicServices: [
          { hostname: 'ok.ns.svc.b.local', ports: [{ name: 'http', port: 80, protocol: 'HTTP' }] },
        ],
      },
    });
    // Stricter than the merge's former shape-only reading: no ports, out-of-scope
    // hostnames, loopback gateways and duplicates are refused like at fetch time.
    expect(peer?.rejected).toHaveLength(11);
    expect(peer?.rejected.join('\n')).toMatch(/nullports\.ns\.svc\.b\.local: no ports/);
    expect(peer?.rejected.join('\n')).toMatch(/address 127\.0\.0\.1 is loopback/);
    expect(peer?.rejected.join('\n')).toMatch(/other\.ns\.svc\.c\.local: hostname outside/);
    expect(peer?.rejected.join('\n')).toMatch(/ok\.ns\.svc\.b\.local: duplicate hostname/);
  });
});
