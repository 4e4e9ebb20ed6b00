import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { moduleValidators } from '../../lib/hook-sdk/testing';
import { MODULE_ROOT } from '../support/module';

const validators = moduleValidators(MODULE_ROOT);
const examples = (
  parse(readFileSync(join(MODULE_ROOT, 'openapi', 'values.yaml'), 'utf8')) as { 'x-examples': unknown[] }
)['x-examples'];

describe('module OpenAPI schemas', () => {
  it.each(examples.map((e, i) => [i, e]))('values x-example #%d is valid', (_i, example) => {
    expect(validators.values.errors(validators.values.withDefaults(example))).toEqual([]);
  });

  it('fills defaults the way addon-operator does', () => {
    expect(validators.values.withDefaults({})).toMatchObject({
      federation: { enabled: false },
      alliance: { ingressGateway: { inlet: 'LoadBalancer' } },
      internal: {
        federation: {
          localRootCA: '',
          publicServices: [],
          ingressGateways: [],
          trustedPeers: [],
          serviceEntries: [],
        },
      },
    });
  });

  it.each([
    [
      'a nodePort below 1024',
      { alliance: { ingressGateway: { nodePort: { port: 80 } } } },
      /nodePort\/port must be >= 1024/,
    ],
    [
      'an unknown inlet',
      { alliance: { ingressGateway: { inlet: 'Foo' } } },
      /inlet must be equal to one of the allowed values/,
    ],
    [
      'an unknown key (objects are closed)',
      { federation: { enabled: true, typo: 1 } },
      /must NOT have additional properties/,
    ],
    [
      'an advertise port of 0',
      { alliance: { ingressGateway: { advertise: [{ address: 'gw', port: 0 }] } } },
      /port must be >= 1/,
    ],
    [
      'an advertise entry without address',
      { alliance: { ingressGateway: { advertise: [{ port: 443 }] } } },
      /required property 'address'/,
    ],
    [
      'a non-string annotation',
      { alliance: { ingressGateway: { serviceAnnotations: { a: 1 } } } },
      /must be string/,
    ],
  ])('config values reject %s', (_case, config, message) => {
    expect(validators.configValues.errors(config).join('\n')).toMatch(message);
  });

  it('multicluster values: defaults, and items the remote Secret or meshNetworks could not carry', () => {
    expect(validators.values.withDefaults({})).toMatchObject({
      internal: {
        multiclusters: [],
        multiclustersNeedIngressGateway: false,
        multicluster: { trustedPeers: [] },
      },
    });
    const item = {
      name: 'cluster-b',
      clusterUUID: 'u',
      apiHost: 'istio-api-proxy.b.example.com',
      apiJWT: 'aGVhZA.Ym9keQ.c2ln',
      networkName: 'network-b',
      ingressGateways: [{ address: '192.0.2.1', port: 15443 }],
      enableIngressGateway: true,
      rootCA: 'pem',
    };
    const errors = (patch: Record<string, unknown>) =>
      validators.values.errors({ internal: { multiclusters: [{ ...item, ...patch }] } }).join('\n');
    expect(errors({})).toBe('');
    expect(errors({ apiHost: 'host:8443', insecureSkipVerify: true })).toBe('');
    expect(errors({ name: 'cluster.b' })).toMatch(/multiclusters\/0\/name must match/);
    expect(errors({ name: 'x'.repeat(64) })).toMatch(/name must NOT have more than 63 characters/);
    expect(errors({ apiHost: 'https://host/' })).toMatch(/apiHost must match/);
    expect(errors({ apiJWT: 'a.b' })).toMatch(/apiJWT must match/);
    expect(errors({ networkName: 'network b' })).toMatch(/networkName must match/);
    expect(errors({ ingressGateways: [{ address: 'a b', port: 0 }] })).toMatch(/address must match/);
    expect(errors({ rootCA: undefined })).toMatch(/required property 'rootCA'/);
    expect(errors({ extra: 1 })).toMatch(/must NOT have additional properties/);
  });

  it('internal values reject what the templates could not render', () => {
    const bad = {
      internal: {
        federation: {
          publicServices: [
            { hostname: 'a.b.svc.cluster-a.local', ports: [], typo: 1 },
            {
              hostname: 'c.d.svc.cluster-a.local',
              ports: [{ name: 'grpc_api', port: 80, protocol: 'GRPC' }],
            },
          ],
          serviceEntries: [
            {
              hostname: 'Not_A_Host.svc.b.local',
              resolution: 'NONE',
              ports: [],
              endpoints: [{ address: 'a', ports: { http: 70000 } }],
            },
          ],
        },
      },
    };
    const found = validators.values.errors(bad).join('\n');
    expect(found).toMatch(/serviceEntries\/0\/hostname must match/);
    expect(found).toMatch(/resolution must be equal to one of the allowed values/);
    expect(found).toMatch(/ports must NOT have fewer than 1 items/);
    expect(found).toMatch(/must be <= 65535/);
    // Port names and protocols Istio would refuse in a ServiceEntry never reach the templates.
    expect(found).toMatch(/publicServices\/1\/ports\/0\/name must match/);
    expect(found).toMatch(/publicServices\/1\/ports\/0\/protocol must be equal to one of the allowed values/);
    // Objects reached through $ref are closed too, as addon-operator closes the inlined schema.
    expect(found).toMatch(
      /publicServices\/0 must NOT have additional properties {"additionalProperty":"typo"}/,
    );
  });
});
