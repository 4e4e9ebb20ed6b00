import {
  buildPublicServices as buildWithPods,
  parseServiceSnapshot,
  type ServiceSnapshot,
} from './public-services';
import { meshIdentities, parsePodSnapshot, type PodSnapshot } from './pod-identities';
import { generatedPortName, parseAllowedTrustDomains } from './public-service-value';

const svc = (over: Partial<ServiceSnapshot> = {}): ServiceSnapshot => ({
  name: 'bar',
  namespace: 'xyz',
  ports: [{ name: 'http', port: 8080 }],
  selector: { app: over.name ?? 'bar' },
  ...over,
});

/** One sidecar-injected pod (service account = the Service's name) behind each Service. */
const injectedPods = (services: readonly (ServiceSnapshot | undefined)[]): PodSnapshot[] =>
  services.flatMap((s) =>
    s?.selector
      ? [
          {
            namespace: s.namespace,
            labels: { ...s.selector, 'security.istio.io/tlsMode': 'istio' },
            serviceAccount: s.name.toLowerCase().replace(/[^a-z0-9-]/g, '-'),
          },
        ]
      : [],
  );
/** The port, name and label rules with every Service in the mesh; identities are tested below. */
const buildPublicServices = (services: readonly (ServiceSnapshot | undefined)[], clusterDomain: string) => {
  const result = buildWithPods(services, clusterDomain, injectedPods(services));
  return { ...result, publicServices: result.publicServices.map(({ identities: _, ...rest }) => rest) };
};

describe('parseServiceSnapshot', () => {
  test.each([
    null,
    'x',
    [],
    {},
    { name: 'a' },
    { namespace: 'b' },
    { name: '', namespace: 'b' },
    { name: 1, namespace: 'b' },
  ])('unusable %p -> undefined', (raw) => expect(parseServiceSnapshot(raw)).toBeUndefined());

  test('tolerates null lists and odd port items', () => {
    expect(
      parseServiceSnapshot({ name: 'a', namespace: 'b', ports: null, allowedTrustDomains: null }),
    ).toEqual({
      name: 'a',
      namespace: 'b',
      ports: [],
    });
    expect(
      parseServiceSnapshot({
        name: 'a',
        namespace: 'b',
        ports: [null, 7, { name: null, port: 80, protocol: 'TCP', appProtocol: 'http' }],
        allowedTrustDomains: 'x.local',
      }),
    ).toEqual({
      name: 'a',
      namespace: 'b',
      ports: [{ name: undefined, port: 80, transport: 'TCP', appProtocol: 'http' }],
      allowedTrustDomains: 'x.local',
    });
  });
});

describe('parseAllowedTrustDomains', () => {
  test.each([
    ['a.local', ['a.local'], []],
    [' b.local , a.local,,a.local ', ['a.local', 'b.local'], []],
    ['a.local, bad domain, c/d', ['a.local'], ['bad domain', 'c/d']],
    ['', [], []],
    [' , ', [], []],
  ])('%p', (annotation, domains, invalid) => {
    expect(parseAllowedTrustDomains(annotation)).toEqual({ domains, invalid });
  });
});

describe('generatedPortName', () => {
  test('protocol-based and unique', () => {
    expect(generatedPortName('TCP', 5432, new Set())).toBe('tcp-5432');
    expect(generatedPortName('HTTP2', 9090, new Set(['http']))).toBe('http2-9090');
    expect(generatedPortName('TCP', 5432, new Set(['tcp-5432']))).toBe('tcp-5432-2');
    expect(generatedPortName('TCP', 5432, new Set(['tcp-5432', 'tcp-5432-2']))).toBe('tcp-5432-3');
  });
});

describe('buildPublicServices', () => {
  test('hostname from the cluster domain, ports with protocol, sorted by hostname', () => {
    const { publicServices, warnings } = buildPublicServices(
      [
        svc({
          name: 'zeta',
          ports: [
            { name: 'grpc-api', port: 9090 },
            { name: 'http', port: 8080 },
          ],
        }),
        svc({ name: 'alpha', namespace: 'ns', ports: [{ name: 'db', port: 5432, appProtocol: 'http' }] }),
        undefined,
      ],
      'cluster-b.local',
    );
    expect(warnings).toEqual([]);
    expect(publicServices).toEqual([
      { hostname: 'alpha.ns.svc.cluster-b.local', ports: [{ name: 'db', port: 5432, protocol: 'HTTP' }] },
      {
        hostname: 'zeta.xyz.svc.cluster-b.local',
        ports: [
          { name: 'http', port: 8080, protocol: 'HTTP' },
          { name: 'grpc-api', port: 9090, protocol: 'HTTP2' },
        ],
      },
    ]);
  });

  test('unnamed ports get stable names that do not collide, with a warning naming the Service', () => {
    const { publicServices, warnings } = buildPublicServices(
      [
        svc({
          ports: [{ port: 5432 }, { name: 'tcp-5432', port: 6000 }, { port: 8080, appProtocol: 'http' }],
        }),
      ],
      'c.local',
    );
    expect(publicServices[0]!.ports).toEqual([
      { name: 'tcp-5432-2', port: 5432, protocol: 'TCP' },
      { name: 'tcp-5432', port: 6000, protocol: 'TCP' },
      { name: 'http-8080', port: 8080, protocol: 'HTTP' },
    ]);
    expect(warnings.map((w) => w.service)).toEqual(['xyz/bar', 'xyz/bar']);
    expect(warnings[0]!.message).toContain('tcp-5432-2');
  });

  test('invalid ports are skipped; a Service without exportable ports is not exported', () => {
    const { publicServices, warnings } = buildPublicServices(
      [
        svc({
          name: 'mixed',
          ports: [
            { name: 'a', port: 0 },
            { name: 'b', port: 70000 },
            { name: 'c', port: '80' },
            { name: 'dns', port: 53, transport: 'UDP' },
            { name: 'ok', port: 80 },
            { name: 'again', port: 80 },
          ],
        }),
        svc({ name: 'empty', ports: [] }),
        svc({ name: 'udp', ports: [{ name: 'dns', port: 53, transport: 'UDP' }] }),
      ],
      'c.local',
    );
    expect(publicServices).toEqual([
      { hostname: 'mixed.xyz.svc.c.local', ports: [{ name: 'ok', port: 80, protocol: 'TCP' }] },
    ]);
    expect(warnings.filter((w) => w.service === 'xyz/mixed')).toHaveLength(5);
    expect(warnings.filter((w) => w.service === 'xyz/empty')).toHaveLength(1);
    expect(warnings.filter((w) => w.service === 'xyz/udp')).toHaveLength(2);
  });

  test.each(['-bad-', 'x'.repeat(63), 'grpc_api', 'http.v1'])(
    'a port name Istio would refuse (%p) is replaced by a generated one',
    (name) => {
      // A 63-character name is a valid Kubernetes port name but not a valid Istio one.
      const { publicServices } = buildPublicServices([svc({ ports: [{ name, port: 81 }] })], 'c.local');
      expect(publicServices[0]!.ports).toEqual([{ name: 'tcp-81', port: 81, protocol: 'TCP' }]);
    },
  );

  test('allowed trust domains: absent = all, invalid entries dropped, none valid = nobody', () => {
    const { publicServices, warnings } = buildPublicServices(
      [
        svc({ name: 'a' }),
        svc({ name: 'b', allowedTrustDomains: 'peer-2.local, peer-1.local' }),
        svc({ name: 'c', allowedTrustDomains: 'peer-1.local, not valid!' }),
        svc({ name: 'd', allowedTrustDomains: '' }),
      ],
      'c.local',
    );
    expect(publicServices.map((s) => s.allowedTrustDomains)).toEqual([
      undefined,
      ['peer-1.local', 'peer-2.local'],
      ['peer-1.local'],
      [],
    ]);
    expect(warnings.map((w) => w.service)).toEqual(['xyz/c', 'xyz/d']);
  });

  test('cluster domain case is normalised; an impossible hostname is refused', () => {
    expect(buildPublicServices([svc()], 'Cluster-B.Local').publicServices[0]!.hostname).toBe(
      'bar.xyz.svc.cluster-b.local',
    );
    const { publicServices, warnings } = buildPublicServices([svc({ name: 'x_y' })], 'c.local');
    expect(publicServices).toEqual([]);
    expect(warnings[0]!.message).toContain('not a valid DNS name');
  });
});

describe('the public-service label (issue 10 item 12): empty value only, as the reference selects it', () => {
  test('parseServiceSnapshot keeps the label value', () => {
    expect(parseServiceSnapshot({ name: 'a', namespace: 'b', ports: [], publicLabel: 'true' })).toMatchObject(
      {
        publicLabel: 'true',
      },
    );
    expect(parseServiceSnapshot({ name: 'a', namespace: 'b', ports: [], publicLabel: '' })).toMatchObject({
      publicLabel: '',
    });
  });

  test.each(['true', 'false', 'yes', ' ', '""', 'no'])(
    'a Service whose label is %p is not exported and is reported as ignored',
    (value) => {
      const { publicServices, warnings, ignored } = buildPublicServices(
        [svc({ publicLabel: '' }), svc({ name: 'other', publicLabel: value })],
        'c.local',
      );
      expect(publicServices.map((s) => s.hostname)).toEqual(['bar.xyz.svc.c.local']);
      expect(ignored).toEqual([{ service: 'xyz/other', reason: 'LabelValueNotEmpty' }]);
      expect(warnings).toEqual([
        { service: 'xyz/other', message: expect.stringMatching(/label .*public-service=.* ignored/) },
      ]);
    },
  );

  test('an ignored Service does not take the hostname of an exported one', () => {
    const { publicServices, ignored } = buildPublicServices(
      [svc({ publicLabel: 'true', ports: [{ name: 'tcp', port: 1 }] }), svc({ publicLabel: '' })],
      'c.local',
    );
    expect(publicServices).toEqual([
      { hostname: 'bar.xyz.svc.c.local', ports: [{ name: 'http', port: 8080, protocol: 'HTTP' }] },
    ]);
    expect(ignored).toHaveLength(1);
  });
});

describe('mesh membership and identities (issue 11)', () => {
  const pod = (labels: Record<string, string>, serviceAccount = 'bar', namespace = 'xyz'): PodSnapshot => ({
    namespace,
    labels,
    serviceAccount,
  });
  const injected = { app: 'bar', 'security.istio.io/tlsMode': 'istio' };

  test('identities of the injected selected pods only, sorted and deduplicated', () => {
    expect(
      meshIdentities(
        svc(),
        [
          pod(injected, 'web'),
          pod(injected, 'bar'),
          pod(injected, 'bar'),
          pod({ app: 'bar' }, 'plain'),
          pod({ app: 'other', 'security.istio.io/tlsMode': 'istio' }, 'other'),
        ],
        'Cluster-A.local',
      ),
    ).toEqual({
      ok: true,
      identities: ['spiffe://cluster-a.local/ns/xyz/sa/bar', 'spiffe://cluster-a.local/ns/xyz/sa/web'],
    });
  });

  test('every selector label must match; a tlsMode other than istio is not injected', () => {
    const s = svc({ selector: { app: 'bar', tier: 'api' } });
    expect(meshIdentities(s, [pod(injected)], 'c.local')).toMatchObject({ ok: false, reason: 'NoPods' });
    expect(
      meshIdentities(svc(), [pod({ app: 'bar', 'security.istio.io/tlsMode': 'disabled' })], 'c.local'),
    ).toMatchObject({ ok: false, reason: 'NotInMesh' });
  });

  test('no selector: NotInMesh; no pod: NoPods; both reported, not exported', () => {
    const { publicServices, ignored } = buildWithPods(
      [svc({ name: 'manual', selector: undefined }), svc({ name: 'scaling' }), svc({ name: 'plain' })],
      'c.local',
      [pod({ app: 'plain' })],
    );
    expect(publicServices).toEqual([]);
    expect(ignored).toEqual([
      { service: 'xyz/manual', reason: 'NotInMesh' },
      { service: 'xyz/scaling', reason: 'NoPods' },
      { service: 'xyz/plain', reason: 'NotInMesh' },
    ]);
  });

  test('parsePodSnapshot: the service account defaults to default; non-string labels dropped', () => {
    expect(parsePodSnapshot({ namespace: 'ns', labels: { a: 'b', n: 1 }, serviceAccount: null })).toEqual({
      namespace: 'ns',
      labels: { a: 'b' },
      serviceAccount: 'default',
    });
    expect(parsePodSnapshot({ labels: {} })).toBeUndefined();
  });
});
