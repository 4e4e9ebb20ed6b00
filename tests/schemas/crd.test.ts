import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { parse } from 'yaml';
import { MODULE_ROOT } from '../support/module';

interface CrdVersion {
  name: string;
  schema: { openAPIV3Schema: object };
  additionalPrinterColumns: { name: string; jsonPath: string }[];
  subresources?: { status?: object };
}
const crd = parse(readFileSync(join(MODULE_ROOT, 'crds', 'istiofederation.yaml'), 'utf8')) as {
  spec: { group: string; scope: string; names: { kind: string }; versions: CrdVersion[] };
};
const version = crd.spec.versions[0]!;

const ajv = new Ajv({ strict: false, allErrors: true });
addFormats(ajv);
ajv.addFormat('int64', true);
const validate = ajv.compile(version.schema.openAPIV3Schema);
const errors = (object: unknown) =>
  validate(object) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);

const federation = (spec: Record<string, unknown>, status?: Record<string, unknown>) => ({
  apiVersion: 'deckhouse.io/v1alpha1',
  kind: 'IstioFederation',
  metadata: { name: 'cluster-b' },
  spec,
  ...(status ? { status } : {}),
});

describe('IstioFederation CRD', () => {
  it('is the cluster-scoped deckhouse.io/v1alpha1 kind with a status subresource', () => {
    expect(crd.spec).toMatchObject({
      group: 'deckhouse.io',
      scope: 'Cluster',
      names: { kind: 'IstioFederation' },
    });
    expect(version.name).toBe('v1alpha1');
    expect(version.subresources?.status).toEqual({});
  });

  it('has printer columns that answer "is it working?"', () => {
    expect(version.additionalPrinterColumns.map((c) => c.name)).toEqual([
      'Trust Domain',
      'Ready',
      'Reason',
      'Services',
      'Last Fetch',
      'Age',
    ]);
  });

  it.each([
    [
      'https endpoint',
      { trustDomain: 'cluster-b.local', metadataEndpoint: 'https://istio-metadata.b.example.com/metadata/' },
    ],
    [
      'https endpoint with port',
      { trustDomain: 'cluster-b.local', metadataEndpoint: 'https://127.0.0.1:8443/metadata' },
    ],
    ['file endpoint', { trustDomain: 'b_2.local', metadataEndpoint: 'file:///var/run/metadata/' }],
    [
      'CA and skip-verify',
      {
        trustDomain: 'cluster-b.local',
        metadataEndpoint: 'https://x/metadata/',
        metadata: { ca: 'PEM', insecureSkipVerify: true },
      },
    ],
  ])('accepts a valid spec: %s', (_case, spec) => {
    expect(errors(federation(spec))).toEqual([]);
  });

  it.each([
    [
      'a trust domain with spaces',
      { trustDomain: 'cluster b', metadataEndpoint: 'https://x/' },
      /trustDomain must match/,
    ],
    [
      'a trust domain with a slash',
      { trustDomain: 'a/b', metadataEndpoint: 'https://x/' },
      /trustDomain must match/,
    ],
    [
      'an http endpoint',
      { trustDomain: 'b.local', metadataEndpoint: 'http://x/metadata/' },
      /metadataEndpoint must match/,
    ],
    [
      'an endpoint without scheme',
      { trustDomain: 'b.local', metadataEndpoint: 'x/metadata/' },
      /metadataEndpoint must match/,
    ],
    ['a missing endpoint', { trustDomain: 'b.local' }, /must have required property 'metadataEndpoint'/],
    [
      'a missing trust domain',
      { metadataEndpoint: 'https://x/' },
      /must have required property 'trustDomain'/,
    ],
    [
      'a non-boolean insecureSkipVerify',
      { trustDomain: 'b.local', metadataEndpoint: 'https://x/', metadata: { insecureSkipVerify: 'yes' } },
      /must be boolean/,
    ],
  ])('rejects %s', (_case, spec, message) => {
    expect(errors(federation(spec)).join('\n')).toMatch(message);
  });

  it('accepts the status the hooks write, keeping unknown keys of cached documents', () => {
    const status = {
      observedGeneration: 2,
      importedServices: 1,
      lastError: '',
      rejectedItems: ['publicServices[3]: hostname outside .svc.cluster-b.local'],
      metadataCache: {
        public: { clusterUUID: 'u', authnKeyPub: 'k', rootCA: 'c', futureField: { x: 1 } },
        publicLastFetchTimestamp: '2026-11-21T06:00:00Z',
        private: {
          ingressGateways: null,
          publicServices: [
            { hostname: 'h', ports: [{ name: 'http', port: 80, protocol: 'HTTP', extra: 1 }] },
          ],
        },
        privateLastFetchTimestamp: '2026-11-21T06:00:00Z',
      },
      conditions: [
        {
          type: 'Ready',
          status: 'True',
          reason: 'Ready',
          message: '',
          lastTransitionTime: '2026-11-21T06:00:00Z',
          observedGeneration: 2,
        },
      ],
    };
    expect(errors(federation({ trustDomain: 'b.local', metadataEndpoint: 'https://x/' }, status))).toEqual(
      [],
    );
  });

  it('rejects a condition of the wrong shape', () => {
    const status = { conditions: [{ type: 'Ready', status: 'Maybe', reason: 'has spaces', message: '' }] };
    const found = errors(federation({ trustDomain: 'b.local', metadataEndpoint: 'https://x/' }, status)).join(
      '\n',
    );
    expect(found).toMatch(/lastTransitionTime/);
    expect(found).toMatch(/status must be equal to one of the allowed values/);
    expect(found).toMatch(/reason must match/);
  });
});
