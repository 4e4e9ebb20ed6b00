import fc from 'fast-check';
import type { ExportedService, FederationSource } from './document-set';
import { federationDocumentFor, isServiceVisibleTo } from './scoping';

const open: ExportedService = { hostname: 'open.ns.svc.c.test', ports: [{ name: 'http', port: 80 }] };
const restricted: ExportedService = {
  hostname: 'restricted.ns.svc.c.test',
  ports: [{ name: 'tcp', port: 5432 }],
  allowedTrustDomains: ['a.test', 'b.test'],
};
const source: FederationSource = {
  ingressGateways: [{ address: '192.0.2.1', port: 15443 }],
  publicServices: [open, restricted],
};

describe('isServiceVisibleTo', () => {
  test('a service without an allow-list is visible to every peer, even one without trust domain', () => {
    expect(isServiceVisibleTo(open, 'x.test')).toBe(true);
    expect(isServiceVisibleTo(open, undefined)).toBe(true);
  });

  test('a restricted service is visible only to listed trust domains', () => {
    expect(isServiceVisibleTo(restricted, 'a.test')).toBe(true);
    expect(isServiceVisibleTo(restricted, 'b.test')).toBe(true);
    expect(isServiceVisibleTo(restricted, 'c.test')).toBe(false);
    expect(isServiceVisibleTo(restricted, 'A.TEST')).toBe(false);
    expect(isServiceVisibleTo(restricted, undefined)).toBe(false);
  });

  test('an empty allow-list hides the service from everyone', () => {
    expect(isServiceVisibleTo({ ...open, allowedTrustDomains: [] }, 'a.test')).toBe(false);
  });
});

describe('federationDocumentFor: identities (issue 11)', () => {
  test('passes a service identities through (an optional key), and adds none where there are none', () => {
    const pinned: ExportedService = { ...open, identities: ['spiffe://c.test/ns/ns/sa/open'] };
    const doc = federationDocumentFor(
      { ingressGateways: [], publicServices: [pinned, restricted] },
      'a.test',
    );
    expect(doc.publicServices).toStrictEqual([
      {
        hostname: 'open.ns.svc.c.test',
        ports: [{ name: 'http', port: 80 }],
        identities: ['spiffe://c.test/ns/ns/sa/open'],
      },
      { hostname: 'restricted.ns.svc.c.test', ports: [{ name: 'tcp', port: 5432 }] },
    ]);
  });
});

describe('federationDocumentFor', () => {
  test('has exactly the reference shape, restrictions stripped', () => {
    expect(federationDocumentFor(source, 'a.test')).toStrictEqual({
      ingressGateways: [{ address: '192.0.2.1', port: 15443 }],
      publicServices: [
        { hostname: 'open.ns.svc.c.test', ports: [{ name: 'http', port: 80 }] },
        { hostname: 'restricted.ns.svc.c.test', ports: [{ name: 'tcp', port: 5432 }] },
      ],
    });
    expect(federationDocumentFor(source, 'c.test').publicServices).toStrictEqual([
      { hostname: 'open.ns.svc.c.test', ports: [{ name: 'http', port: 80 }] },
    ]);
  });

  test('property: a peer sees exactly the services that allow it, in source order', () => {
    const domain = fc.constantFrom('a.test', 'b.test', 'c.test');
    const service = fc.record(
      {
        hostname: fc.domain(),
        ports: fc.array(fc.record({ name: fc.string(), port: fc.integer({ min: 1, max: 65535 }) })),
        allowedTrustDomains: fc.uniqueArray(domain),
      },
      { requiredKeys: ['hostname', 'ports'] },
    );
    fc.assert(
      fc.property(fc.array(service), fc.option(domain, { nil: undefined }), (services, peer) => {
        const doc = federationDocumentFor({ ingressGateways: [], publicServices: services }, peer);
        const expected = services.filter(
          (s) => !s.allowedTrustDomains || (peer !== undefined && s.allowedTrustDomains.includes(peer)),
        );
        expect(doc.publicServices.map((s) => s.hostname)).toStrictEqual(expected.map((s) => s.hostname));
        expect(JSON.stringify(doc)).not.toContain('allowedTrustDomains');
      }),
    );
  });
});
