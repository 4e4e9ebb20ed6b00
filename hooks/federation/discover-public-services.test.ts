import type { KubeObject } from '../../lib/hook-sdk';
import { applyJqFilter, bindingContextsFor, runCompiledHook } from '../../lib/hook-sdk/testing';
import {
  ALLOWED_TRUST_DOMAINS_ANNOTATION,
  PUBLIC_SERVICE_JQ_FILTER,
  POD_JQ_FILTER,
  PUBLIC_SERVICE_LABEL,
} from '../../lib/federation/discovery/public-services';
import { SIDECAR_LABEL } from '../../lib/federation/discovery/pod-identities';
import { app } from '../index';
import { clusterAHarness, hookBinary } from '../../tests/support/module';
import hook from './discover-public-services';

const harness = clusterAHarness();

function service(
  namespace: string,
  name: string,
  ports: Record<string, unknown>[],
  opts: {
    public?: boolean | string;
    annotations?: Record<string, string>;
    selector?: Record<string, string> | null;
  } = {},
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
    spec: {
      type: 'ClusterIP',
      clusterIP: '10.96.0.10',
      ...(opts.selector === null ? {} : { selector: opts.selector ?? { app: name } }),
      ports,
    },
  };
}

let podCount = 0;
function pod(
  namespace: string,
  app: string,
  opts: { injected?: boolean; serviceAccount?: string } = {},
): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: `${app}-${podCount++}`,
      namespace,
      resourceVersion: '1',
      labels: {
        app,
        'pod-template-hash': 'abc',
        ...(opts.injected === false ? {} : { [SIDECAR_LABEL]: 'istio' }),
      },
    },
    spec: {
      ...(opts.serviceAccount ? { serviceAccountName: opts.serviceAccount } : {}),
      containers: [{ name: 'app' }],
    },
    status: { phase: 'Running', podIP: '10.0.0.1' },
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
  // Issue 11: only services with sidecar-injected pods are reachable through the gateway.
  service('abc', 'plain', [{ name: 'http', port: 80 }]),
  service('abc', 'scaling', [{ name: 'http', port: 80 }]),
  service('abc', 'manual', [{ name: 'http', port: 80 }], { selector: null }),
  pod('xyz', 'bar', { serviceAccount: 'bar' }),
  pod('xyz', 'bar', { serviceAccount: 'bar' }),
  pod('abc', 'db', { serviceAccount: 'db-migrate' }),
  pod('abc', 'db', { serviceAccount: 'db' }),
  pod('abc', 'db', { serviceAccount: 'not-injected', injected: false }),
  pod('abc', 'web'),
  pod('abc', 'plain', { injected: false }),
  // Same labels in another namespace: not selected by abc/scaling.
  pod('other', 'scaling'),
];

const expected = [
  {
    hostname: 'bar.xyz.svc.cluster-a.local',
    ports: [
      { name: 'http', port: 8080, protocol: 'HTTP' },
      { name: 'grpc-api', port: 9090, protocol: 'HTTP2' },
    ],
    identities: ['spiffe://cluster-a.local/ns/xyz/sa/bar'],
  },
  {
    hostname: 'db.abc.svc.cluster-a.local',
    ports: [{ name: 'tcp-5432', port: 5432, protocol: 'TCP' }],
    allowedTrustDomains: ['cluster-b.local', 'cluster-c.local'],
    identities: ['spiffe://cluster-a.local/ns/abc/sa/db', 'spiffe://cluster-a.local/ns/abc/sa/db-migrate'],
  },
  {
    hostname: 'web.abc.svc.cluster-a.local',
    ports: [{ name: 'web', port: 80, protocol: 'HTTP' }],
    identities: ['spiffe://cluster-a.local/ns/abc/sa/default'],
  },
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
      ['warn', 'abc/manual'],
      ['warn', 'abc/plain'],
      ['warn', 'abc/scaling'],
    ]);
    expect(result.logs[2]!.msg).toMatch(/public-service=.*"true".*ignored/);
    expect(result.logs[4]!.msg).toMatch(
      /none of the 1 pod\(s\) it selects is sidecar-injected.*not exported/,
    );
    expect(result.logs[5]!.msg).toMatch(/selects no pod.*not exported/);
    expect(result.logs[3]!.msg).toMatch(/no selector.*not exported/);
    const ignored = (value: number, reason: string) => ({
      action: 'set',
      name: 'd8_istio_federation_ignored_public_services',
      value,
      labels: { reason },
      group: 'federation_public_services',
    });
    expect(result.metrics).toEqual([
      { action: 'expire', group: 'federation_public_services' },
      ignored(1, 'LabelValueNotEmpty'),
      ignored(2, 'NotInMesh'),
      ignored(1, 'NoPods'),
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
    (b.spec.ports as Record<string, unknown>[])[0]!.targetPort = 8081;
    b.status = { loadBalancer: {} };
    const [ra, rb] = applyJqFilter(PUBLIC_SERVICE_JQ_FILTER, [a, b]);
    expect(rb).toEqual(ra);
    const c = structuredClone(a);
    c.metadata.annotations = { [ALLOWED_TRUST_DOMAINS_ANNOTATION]: 'x.local' };
    expect(applyJqFilter(PUBLIC_SERVICE_JQ_FILTER, [c])[0]).not.toEqual(ra);
    // The selector decides which pods count.
    const d = structuredClone(a) as KubeObject & { spec: Record<string, unknown> };
    d.spec.selector = { app: 'other' };
    expect(applyJqFilter(PUBLIC_SERVICE_JQ_FILTER, [d])[0]).not.toEqual(ra);
  });

  it('the Pod jqFilter keeps namespace, labels and service account only (status and IPs do not re-run the hook)', () => {
    const a = pod('xyz', 'bar', { serviceAccount: 'bar' });
    const b = structuredClone(a) as KubeObject & {
      status: Record<string, unknown>;
      spec: Record<string, unknown>;
    };
    b.metadata.name = 'bar-other';
    b.metadata.resourceVersion = '7';
    b.status = { phase: 'Pending', podIP: '10.0.0.9' };
    b.spec.nodeName = 'node-2';
    const [ra, rb] = applyJqFilter(POD_JQ_FILTER, [a, b]);
    expect(ra).toEqual({
      namespace: 'xyz',
      labels: a.metadata.labels,
      serviceAccount: 'bar',
      finished: false,
    });
    expect(rb).toEqual(ra);
    const done = structuredClone(a) as KubeObject & { status: Record<string, unknown> };
    done.status = { phase: 'Succeeded' };
    expect(applyJqFilter(POD_JQ_FILTER, [done])[0]).toMatchObject({ finished: true });
  });

  it('a finished pod (a completed Job) does not keep a Service in the mesh', async () => {
    const bar = cluster[0]!;
    const completed = pod('xyz', 'bar', { serviceAccount: 'bar' }) as KubeObject & {
      status: Record<string, unknown>;
    };
    completed.status = { phase: 'Succeeded' };
    const result = await harness.run(hook, { cluster: [bar, completed] });
    expect(
      (result.moduleValues.internal as { federation: { publicServices: unknown } }).federation.publicServices,
    ).toEqual([]);
    expect(result.logs.map((l) => l.msg)).toEqual([expect.stringMatching(/selects no pod/)]);
  });

  it('a Service whose pods all leave the mesh (or go) stops being exported; it comes back with an injected pod', async () => {
    const bar = cluster[0]!;
    const notInjected = await harness.run(hook, { cluster: [bar, pod('xyz', 'bar', { injected: false })] });
    expect(
      (notInjected.moduleValues.internal as { federation: { publicServices: unknown } }).federation
        .publicServices,
    ).toEqual([]);
    const none = await harness.run(hook, { cluster: [bar] });
    expect(
      (none.moduleValues.internal as { federation: { publicServices: unknown } }).federation.publicServices,
    ).toEqual([]);
    const back = await harness.run(hook, { cluster: [bar, pod('xyz', 'bar', { serviceAccount: 'bar' })] });
    expect(
      (back.moduleValues.internal as { federation: { publicServices: unknown } }).federation.publicServices,
    ).toEqual([expected[0]]);
  });

  it('pods running as more than 64 service accounts: exported without identities (unpinned), with a warning', async () => {
    const bar = cluster[0]!;
    const pods = Array.from({ length: 65 }, (_, i) => pod('xyz', 'bar', { serviceAccount: `sa-${i}` }));
    const result = await harness.run(hook, { cluster: [bar, ...pods] });
    const services = (
      result.moduleValues.internal as { federation: { publicServices: Record<string, unknown>[] } }
    ).federation.publicServices;
    expect(services.map((s) => [s.hostname, s.identities])).toEqual([
      ['bar.xyz.svc.cluster-a.local', undefined],
    ]);
    expect(result.logs.map((l) => l.msg)).toEqual([
      expect.stringMatching(/65 service accounts, over 64.*unpinned/),
    ]);
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
