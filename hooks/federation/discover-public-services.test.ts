import type { KubeObject } from '../../lib/hook-sdk';
import { applyJqFilter, bindingContextsFor, runCompiledHook } from '../../lib/hook-sdk/testing';
import {
  ALLOWED_TRUST_DOMAINS_ANNOTATION,
  PUBLIC_SERVICE_JQ_FILTER,
  PUBLIC_SERVICE_LABEL,
} from '../../lib/federation/discovery/public-services';
import { app } from '../index';
import { clusterAHarness, hookBinary } from '../../tests/support/module';
import hook from './discover-public-services';

const harness = clusterAHarness();

function service(
  namespace: string,
  name: string,
  ports: Record<string, unknown>[],
  opts: { public?: boolean | string; annotations?: Record<string, string> } = {},
): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name,
      namespace,
      resourceVersion: '1',
      labels:
        opts.public === false
          ? { app: name }
          : { app: name, [PUBLIC_SERVICE_LABEL]: typeof opts.public === 'string' ? opts.public : '' },
      ...(opts.annotations ? { annotations: opts.annotations } : {}),
    },
    spec: { type: 'ClusterIP', clusterIP: '10.96.0.10', selector: { app: name }, ports },
  };
}

const cluster = [
  service('xyz', 'bar', [
    { name: 'http', port: 8080, targetPort: 8080, protocol: 'TCP' },
    { name: 'grpc-api', port: 9090, targetPort: 9090, protocol: 'TCP' },
  ]),
  service('abc', 'db', [{ port: 5432, targetPort: 5432, protocol: 'TCP' }], {
    annotations: { [ALLOWED_TRUST_DOMAINS_ANNOTATION]: 'cluster-c.local, cluster-b.local, not valid' },
  }),
  service('abc', 'web', [{ name: 'web', port: 80, appProtocol: 'http' }]),
  service('abc', 'private', [{ name: 'http', port: 80 }], { public: false }),
  // The reference selects the label with an empty value only: ignored, reported.
  service('abc', 'labelled-true', [{ name: 'http', port: 80 }], { public: 'true' }),
];

const expected = [
  {
    hostname: 'bar.xyz.svc.cluster-a.local',
    ports: [
      { name: 'http', port: 8080, protocol: 'HTTP' },
      { name: 'grpc-api', port: 9090, protocol: 'HTTP2' },
    ],
  },
  {
    hostname: 'db.abc.svc.cluster-a.local',
    ports: [{ name: 'tcp-5432', port: 5432, protocol: 'TCP' }],
    allowedTrustDomains: ['cluster-b.local', 'cluster-c.local'],
  },
  { hostname: 'web.abc.svc.cluster-a.local', ports: [{ name: 'web', port: 80, protocol: 'HTTP' }] },
];

describe('public-service discovery hook', () => {
  it('exports labelled Services only, with hostnames, protocols, generated names and allowed trust domains', async () => {
    const result = await harness.run(hook, { cluster, trigger: 'publicServices' });
    const internal = result.moduleValues.internal as { federation: { publicServices: unknown } };
    expect(internal.federation.publicServices).toEqual(expected);
    expect(result.logs.map((l) => [l.level, l.service])).toEqual([
      ['warn', 'abc/db'],
      ['warn', 'abc/db'],
      ['warn', 'abc/labelled-true'],
    ]);
    expect(result.logs[2]!.msg).toMatch(/public-service=.*"true".*ignored/);
    expect(result.metrics).toEqual([
      { action: 'expire', group: 'federation_public_services' },
      {
        action: 'set',
        name: 'd8_istio_federation_ignored_public_services',
        value: 1,
        labels: { reason: 'LabelValueNotEmpty' },
        group: 'federation_public_services',
      },
    ]);
  });

  it('selects the label with any value (to report the ignored ones), like the reference it exports only empty', () => {
    const binding = hook.kubernetes!.publicServices;
    expect(binding.labelSelector).toEqual({
      matchExpressions: [{ key: PUBLIC_SERVICE_LABEL, operator: 'Exists' }],
    });
  });

  it('writes no patch when nothing changed, and empties the list when the last Service goes', async () => {
    const unchanged = await harness.run(hook, {
      cluster,
      values: { internal: { federation: { publicServices: expected } } },
    });
    expect(unchanged.valuesPatch).toEqual([]);
    const gone = await harness.run(hook, {
      values: { internal: { federation: { publicServices: expected } } },
    });
    expect(
      (gone.moduleValues.internal as { federation: { publicServices: unknown } }).federation.publicServices,
    ).toEqual([]);
  });

  it('the jqFilter ignores unrelated changes (so they do not re-run the hook)', () => {
    const a = cluster[0]!;
    const b = structuredClone(a) as KubeObject & { spec: Record<string, unknown>; status: unknown };
    b.metadata.resourceVersion = '2';
    b.metadata.labels = { ...(b.metadata.labels as object), team: 'x' };
    b.spec.clusterIP = '10.96.0.11';
    b.spec.selector = { app: 'other' };
    (b.spec.ports as Record<string, unknown>[])[0]!.targetPort = 8081;
    b.status = { loadBalancer: {} };
    const [ra, rb] = applyJqFilter(PUBLIC_SERVICE_JQ_FILTER, [a, b]);
    expect(rb).toEqual(ra);
    const c = structuredClone(a);
    c.metadata.annotations = { [ALLOWED_TRUST_DOMAINS_ANNOTATION]: 'x.local' };
    expect(applyJqFilter(PUBLIC_SERVICE_JQ_FILTER, [c])[0]).not.toEqual(ra);
  });

  it('runs in the compiled binary with the same result', () => {
    const { values, configValues } = harness.initialValues({});
    const result = runCompiledHook(hookBinary(), app.hooks.indexOf(hook), {
      contexts: bindingContextsFor(hook, cluster, 'publicServices'),
      values,
      configValues,
    });
    expect(result.stderr).toBe('');
    expect(result.exitCode).toBe(0);
    const after = harness.applyAndValidate(values, result.valuesPatch).moduleValues as {
      internal: { federation: { publicServices: unknown } };
    };
    expect(after.internal.federation.publicServices).toEqual(expected);
  });
});
