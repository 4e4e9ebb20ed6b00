import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { parse } from 'yaml';
import { moduleCrds } from '../../lib/crds/module-crds';
import { MODULE_ROOT } from '../support/module';
import { MULTICLUSTER_STATUS_SCHEMA, prunedStatusPaths } from '../support/crd-schema';
import { testPublicDocument } from '../support/peer-identity';
import { nextStatuses } from '../../lib/federation/status/next';
import { MULTICLUSTER_KIND, readMulticluster } from '../../lib/multicluster/kind';
import { recordApiProbe } from '../../lib/multicluster/status';

interface CrdVersion {
  name: string;
  schema: { openAPIV3Schema: { example?: unknown } };
  additionalPrinterColumns: { name: string; jsonPath: string }[];
  subresources?: { status?: object };
}
const crd = parse(readFileSync(join(MODULE_ROOT, 'crds', 'istiomulticluster.yaml'), 'utf8')) as {
  metadata: { name: string };
  spec: { group: string; scope: string; names: { kind: string; plural: string }; versions: CrdVersion[] };
};
const version = crd.spec.versions[0]!;

const ajv = new Ajv({ strict: false, allErrors: true, useDefaults: true });
addFormats(ajv);
ajv.addFormat('int64', true);
const validate = ajv.compile(version.schema.openAPIV3Schema);
const errors = (object: unknown) =>
  validate(object) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);

const multicluster = (spec: Record<string, unknown>, status?: Record<string, unknown>) => ({
  apiVersion: 'deckhouse.io/v1alpha1',
  kind: 'IstioMulticluster',
  metadata: { name: 'cluster-b' },
  spec,
  ...(status ? { status } : {}),
});

describe('IstioMulticluster CRD', () => {
  it('is the cluster-scoped deckhouse.io/v1alpha1 kind with a status subresource, installed by the module', () => {
    expect(crd.metadata.name).toBe('istiomulticlusters.deckhouse.io');
    expect(crd.spec).toMatchObject({
      group: 'deckhouse.io',
      scope: 'Cluster',
      names: { kind: 'IstioMulticluster', plural: 'istiomulticlusters' },
    });
    expect(version.name).toBe('v1alpha1');
    expect(version.subresources?.status).toEqual({});
    expect(moduleCrds().map((c) => c.metadata.name)).toContain('istiomulticlusters.deckhouse.io');
  });

  it('has printer columns that answer "is it working?"', () => {
    expect(version.additionalPrinterColumns.map((c) => c.name)).toEqual([
      'Ready',
      'Reason',
      'Joined',
      'API',
      'Network',
      'API Host',
      'Last Fetch',
      'Age',
    ]);
  });

  it('its example is valid', () => {
    expect(errors(version.schema.openAPIV3Schema.example)).toEqual([]);
  });

  it('enableIngressGateway defaults to true, insecureSkipVerify to false', () => {
    const object = multicluster({ metadataEndpoint: 'https://x/metadata/', metadata: {} });
    expect(errors(object)).toEqual([]);
    expect(object.spec).toEqual({
      metadataEndpoint: 'https://x/metadata/',
      enableIngressGateway: true,
      metadata: { insecureSkipVerify: false },
    });
  });

  it.each([
    // What the reference's pattern ^(https|file)://[0-9a-zA-Z._/-]+$ accepts ...
    ['the reference example', 'https://istio.k8s.example.com/metadata/'],
    ['the metadata host', 'https://istio-metadata.b.example.com/metadata'],
    ['a reference-style file URL', 'file://var/run/metadata'],
    ['an absolute file URL', 'file:///var/run/metadata/'],
    // ... and what IstioFederation accepts on top.
    ['a port', 'https://127.0.0.1:8443/metadata/'],
  ])('accepts %s', (_case, metadataEndpoint) => {
    expect(errors(multicluster({ metadataEndpoint }))).toEqual([]);
  });

  it.each([
    ['http', { metadataEndpoint: 'http://x/metadata/' }, /metadataEndpoint must match/],
    ['no scheme', { metadataEndpoint: 'x/metadata/' }, /metadataEndpoint must match/],
    ['an empty host', { metadataEndpoint: 'https:///metadata/' }, /metadataEndpoint must match/],
    ['a query', { metadataEndpoint: 'https://x/metadata/?a=b' }, /metadataEndpoint must match/],
    ['spaces', { metadataEndpoint: 'https://x/meta data/' }, /metadataEndpoint must match/],
    ['no endpoint', {}, /must have required property 'metadataEndpoint'/],
    [
      'a non-boolean enableIngressGateway',
      { metadataEndpoint: 'https://x/', enableIngressGateway: 'yes' },
      /must be boolean/,
    ],
  ])('rejects %s', (_case, spec, message) => {
    expect(errors(multicluster(spec)).join('\n')).toMatch(message);
  });

  it('accepts the status the hooks write, keeping newer keys of cached documents', () => {
    const status = {
      observedGeneration: 3,
      lastError: '',
      metadataCache: {
        public: { clusterUUID: 'u', authnKeyPub: 'k', rootCA: 'c', futureField: 1 },
        publicLastFetchTimestamp: '2026-11-30T06:00:00Z',
        private: {
          apiHost: 'istio-api-proxy.b.example.com',
          networkName: 'network-cluster-local-123',
          ingressGateways: [{ address: '203.0.113.5', port: 15443 }],
          clusterID: 'cluster-local-123',
          ambientGateways: [{ address: '203.0.113.6', port: 15008 }],
        },
        privateLastFetchTimestamp: '2026-11-30T06:00:00Z',
      },
      conditions: ['MetadataFetched', 'TrustEstablished', 'RemoteAPIReachable', 'Ready'].map((type) => ({
        type,
        status: 'True',
        reason: 'Succeeded',
        message: '',
        lastTransitionTime: '2026-11-30T06:00:00Z',
        observedGeneration: 3,
      })),
    };
    expect(errors(multicluster({ metadataEndpoint: 'https://x/' }, status))).toEqual([]);
    // A Deckhouse-written status (null gateways, lastProbeTime) is accepted too.
    const deckhouse = {
      metadataCache: { private: { ingressGateways: null, apiHost: 'h', networkName: 'n' } },
      conditions: [
        {
          type: 'RemoteAPIServerReady',
          status: 'True',
          reason: 'RemoteAPIReachable',
          message: '',
          lastTransitionTime: '2026-11-30T06:00:00Z',
          lastProbeTime: '2026-11-30T06:01:00Z',
        },
      ],
    };
    expect(errors(multicluster({ metadataEndpoint: 'https://x/' }, deckhouse))).toEqual([]);
  });

  it('accepts, without pruning anything, the status our fetch hook writes (failing and healthy)', () => {
    const now = new Date('2026-11-30T06:00:00Z');
    const peer = readMulticluster(
      { name: 'cluster-b', generation: 2, spec: { metadataEndpoint: 'https://x/metadata/' } },
      { ownTrustDomain: 'cluster.local' },
    )!;
    const document = {
      ingressGateways: [{ address: '203.0.113.5', port: 15443 }],
      apiHost: 'istio-api-proxy.b.example.com:8443',
      networkName: 'network-cluster-local-42',
    };
    const outcomes = [
      {
        public: { ok: true as const, document: testPublicDocument('uuid-b'), etag: '"p"' },
        private: { ok: true as const, document, etag: '"q"', rejected: ['ingressGateways[1]: x'] },
      },
      {
        public: {
          ok: false as const,
          failure: {
            reason: 'Timeout' as const,
            message: 'slow',
            endpoint: 'https://x/metadata/public/public.json',
          },
        },
      },
    ];
    for (const outcome of outcomes) {
      const { statuses } = nextStatuses(
        MULTICLUSTER_KIND,
        [{ peer, action: 'fetch', why: 'new' }],
        new Map([['cluster-b', { outcome, durationMs: 1 }]]),
        { local: { trustDomain: 'cluster.local', clusterUUID: 'uuid-a', now } },
      );
      const status = recordApiProbe(
        statuses[0]!.next,
        { status: 'False', reason: 'RemoteAPITokenRejected', message: 'HTTP 401' },
        { now, generation: 2 },
      );
      expect(
        errors(multicluster({ metadataEndpoint: 'https://x/' }, status as Record<string, unknown>)),
      ).toEqual([]);
      expect(prunedStatusPaths(status, MULTICLUSTER_STATUS_SCHEMA)).toEqual([]);
      expect(Object.keys(status).length).toBeGreaterThan(2);
    }
  });

  it('rejects a condition of the wrong shape', () => {
    const status = { conditions: [{ type: 'Ready', status: 'Maybe', reason: 'has spaces', message: '' }] };
    const found = errors(multicluster({ metadataEndpoint: 'https://x/' }, status)).join('\n');
    expect(found).toMatch(/status must be equal to one of the allowed values/);
    expect(found).toMatch(/reason must match/);
    expect(found).toMatch(/lastTransitionTime/);
  });
});
