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
