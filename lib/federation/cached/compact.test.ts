import fc from 'fast-check';
import { checkPrivateDocument, type CachedPrivateDocument } from '../wire/validate';
import { compactPrivateDocument, expandPrivateDocument } from './compact';

const scope = { peerTrustDomain: 'cluster-b.local', ownTrustDomain: 'cluster-a.local' };
const validated = (raw: unknown): CachedPrivateDocument => {
  const result = checkPrivateDocument(raw, scope);
  if (!result.ok) throw new Error(result.error);
  return result.value.document;
};

describe('the compact cached form (issue 10 item 6)', () => {
  it('reads back to the same validated document, whatever the key order after an API round trip', () => {
    const port = fc.record({
      name: fc.constantFrom('', 'http', 'grpc-api', 'tcp-db'),
      port: fc.integer({ min: 1, max: 65535 }),
    });
    const service = fc
      .record({
        hostname: fc
          .tuple(fc.constantFrom('a', 'b', '1', 'web'), fc.constantFrom('ns', 'x', '2'))
          .map(([s, n]) => `${s}.${n}.svc.cluster-b.local`),
        ports: fc.uniqueArray(port, { selector: (p) => p.port, minLength: 1, maxLength: 3 }),
        identities: fc.option(fc.array(fc.constantFrom('default', 'bar', 'web.v2'), { maxLength: 3 }), {
          nil: undefined,
        }),
      })
      .map(({ hostname, ports, identities }) => ({
        hostname,
        ports,
        ...(identities
          ? {
              identities: identities.map(
                (sa) => `spiffe://cluster-b.local/ns/${hostname.split('.')[1]}/sa/${sa}`,
              ),
            }
          : {}),
      }));
    fc.assert(
      fc.property(fc.array(service, { maxLength: 12 }), (services) => {
        const doc = validated({
          ingressGateways: [{ address: '192.0.2.1', port: 443 }],
          publicServices: services,
        });
        const stored = JSON.parse(JSON.stringify(compactPrivateDocument(doc, 'cluster-b.local'))) as unknown;
        expect(validated(expandPrivateDocument(stored, 'cluster-b.local'))).toEqual(doc);
        // The same document always gives the same stored form (no status rewrite).
        expect(
          compactPrivateDocument(
            validated(expandPrivateDocument(stored, 'cluster-b.local')),
            'cluster-b.local',
          ),
        ).toEqual(stored);
      }),
      { numRuns: 200 },
    );
  });

  it('keeps 10,000 services with shared port lists well under the 512 KiB status cap', () => {
    const doc = validated({
      ingressGateways: [{ address: '192.0.2.1', port: 443 }],
      publicServices: Array.from({ length: 10_000 }, (_, i) => ({
        hostname: `service-${i}.namespace-${i % 50}.svc.cluster-b.local`,
        ports: [
          { name: 'http', port: 8080 },
          { name: 'grpc-api', port: 9090 },
        ],
      })),
    });
    const compact = JSON.stringify(compactPrivateDocument(doc, 'cluster-b.local')).length;
    expect(compact).toBeLessThan(JSON.stringify(doc).length / 4);
    expect(compact).toBeLessThan(512 * 1024);
  });

  it('keeps 10,000 pinned services (one service account each) well under the status cap', () => {
    const doc = validated({
      ingressGateways: [{ address: '192.0.2.1', port: 443 }],
      publicServices: Array.from({ length: 10_000 }, (_, i) => ({
        hostname: `service-${i}.namespace-${i % 50}.svc.cluster-b.local`,
        ports: [
          { name: 'http', port: 8080 },
          { name: 'grpc-api', port: 9090 },
        ],
        identities: [`spiffe://cluster-b.local/ns/namespace-${i % 50}/sa/service-${i}`],
      })),
    });
    const stored = JSON.stringify(compactPrivateDocument(doc, 'cluster-b.local'));
    expect(stored.length).toBeLessThan(512 * 1024);
    expect(validated(expandPrivateDocument(JSON.parse(stored), 'cluster-b.local'))).toEqual(doc);
  });

  it('a tampered identity set in status refuses the service, never widens it', () => {
    const stored = {
      ingressGateways: [],
      portSets: [[{ name: 'http', port: 80, protocol: 'HTTP' }]],
      identitySets: [['a/../../x'], [7]],
      services: { ns: { a: [0, 0], b: [0, 1], c: [0, 9] } },
    };
    const result = checkPrivateDocument(expandPrivateDocument(stored, 'cluster-b.local'), scope);
    expect(result.ok && result.value.document.publicServices).toEqual([]);
  });

  it('a status in the former wire shape still reads', () => {
    const doc = {
      ingressGateways: [],
      publicServices: [{ hostname: 'a.ns.svc.cluster-b.local', ports: [{ name: 'http', port: 80 }] }],
    };
    expect(expandPrivateDocument(doc, 'cluster-b.local')).toBe(doc);
  });
});
