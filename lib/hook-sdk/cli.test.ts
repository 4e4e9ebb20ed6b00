import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Ajv from 'ajv';
import { batchHookConfigSchema } from '../../tests/protocol/batch-hook-config-schema';
import { runBatchCli, type BatchApp } from './cli';
import { defineHook, kubernetesBinding } from './hook';

const counter = defineHook({
  name: 'test/counter',
  beforeHelm: 5,
  schedule: [{ name: 'tick', crontab: '*/10 * * * * *', queue: 'ticks' }],
  kubernetes: {
    configMaps: kubernetesBinding({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      jqFilter: '.metadata.name',
      parse: (r) => String(r),
    }),
  },
  settings: { executionMinIntervalSeconds: 2, executionBurst: 1 },
  run({ snapshots, values, kube, metrics, log }) {
    values.set('istio.internal.names', snapshots.configMaps);
    kube.mergePatch(
      { apiVersion: 'v1', kind: 'ConfigMap', namespace: 'ns', name: 'x' },
      { data: { a: 'b' } },
    );
    metrics.set('test_count', snapshots.configMaps.length, { kind: 'cm' }, 'test');
    log.info('counted', { count: snapshots.configMaps.length });
  },
});
const failing = defineHook({
  name: 'test/failing',
  afterHelm: 1,
  run() {
    throw new Error('boom');
  },
});
const app: BatchApp = { valuesKey: 'istio', hooks: [counter, failing] };

async function cli(argv: string[], env: Record<string, string> = {}) {
  let stdout = '';
  let stderr = '';
  const code = await runBatchCli(app, argv, {
    env,
    stdout: (t) => (stdout += t),
    stderr: (t) => (stderr += t),
  });
  return { code, stdout, stderr };
}

function operatorFiles(
  contexts: unknown,
  values: unknown = { global: {}, istio: {} },
): Record<string, string> {
  const dir = mkdtempSync(join(tmpdir(), 'cli-test-'));
  const env: Record<string, string> = {};
  const inputs = { BINDING_CONTEXT_PATH: contexts, VALUES_PATH: values, CONFIG_VALUES_PATH: { istio: {} } };
  for (const [name, content] of Object.entries(inputs)) {
    env[name] = join(dir, name);
    writeFileSync(env[name], typeof content === 'string' ? content : JSON.stringify(content));
  }
  for (const name of ['VALUES_JSON_PATCH_PATH', 'KUBERNETES_PATCH_PATH', 'METRICS_PATH']) {
    env[name] = join(dir, name);
    writeFileSync(env[name], '');
  }
  return env;
}

const jsonLines = (path: string) =>
  readFileSync(path, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as unknown);

describe('batch CLI', () => {
  it('lists hooks in the form addon-operator probes for', async () => {
    const { code, stdout } = await cli(['hook', 'list']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^Found 2 items:\n0 - test\/counter\n1 - test\/failing\n$/);
  });

  it('prints a v1 config that satisfies the protocol', async () => {
    const { code, stdout } = await cli(['hook', 'config']);
    expect(code).toBe(0);
    const config = JSON.parse(stdout) as { hooks: Record<string, unknown>[] };
    const validate = new Ajv({ strict: false }).compile(batchHookConfigSchema);
    expect(validate.errors ?? validate(config)).toBe(true);
    expect(config.hooks[0]).toMatchObject({
      beforeHelm: 5,
      settings: { executionMinInterval: 2_000_000_000, executionBurst: 1 },
      schedule: [{ name: 'tick', crontab: '*/10 * * * * *', queue: 'ticks' }],
      kubernetes: [{ name: 'configMaps', jqFilter: '.metadata.name', keepFullObjectsInMemory: false }],
    });
    // Empty arrays are invalid in the protocol: a hook without bindings has no keys for them.
    expect(config.hooks[1]).toEqual({
      configVersion: 'v1',
      metadata: { name: 'test/failing', path: 'hooks/test' },
      afterHelm: 1,
    });
  });

  it('runs a hook from the operator files and writes all three outputs', async () => {
    const env = operatorFiles([
      {
        binding: 'configMaps',
        type: 'Group',
        groupName: 'main',
        snapshots: { configMaps: [{ filterResult: 'a' }] },
      },
    ]);
    const { code, stdout, stderr } = await cli(['hook', 'run', '0'], env);
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(jsonLines(env.VALUES_JSON_PATCH_PATH!)).toEqual([
      { op: 'add', path: '/istio/internal', value: { names: ['a'] } },
    ]);
    expect(jsonLines(env.KUBERNETES_PATCH_PATH!)).toEqual([
      {
        operation: 'MergePatch',
        apiVersion: 'v1',
        kind: 'ConfigMap',
        namespace: 'ns',
        name: 'x',
        mergePatch: { data: { a: 'b' } },
      },
    ]);
    expect(jsonLines(env.METRICS_PATH!)).toEqual([
      { name: 'test_count', action: 'set', value: 1, labels: { kind: 'cm' }, group: 'test' },
    ]);
    expect(JSON.parse(stdout)).toMatchObject({
      level: 'info',
      msg: 'counted',
      hook: 'test/counter',
      count: 1,
    });
  });

  it.each([
    [['hook', 'nope'], 2, /unknown command/],
    [['hook', 'run', '7'], 1, /no hook with index "7"/],
    [['hook', 'run', '-1'], 1, /no hook with index/],
    [['hook', 'run', 'x'], 1, /no hook with index "x"/],
    [['hook', 'run', '0'], 1, /BINDING_CONTEXT_PATH is not set/],
  ])('fails clearly for %j', async (argv, exitCode, message) => {
    const { code, stderr } = await cli(argv);
    expect(code).toBe(exitCode);
    expect(stderr).toMatch(message);
  });

  it('fails clearly on malformed or unreadable input files', async () => {
    const env = operatorFiles('{not json');
    expect(await cli(['hook', 'run', '0'], env)).toMatchObject({
      code: 1,
      stderr: expect.stringMatching(/BINDING_CONTEXT_PATH .* is not valid JSON/),
    });
    const missing = { ...operatorFiles([]), VALUES_PATH: '/nonexistent/values.json' };
    expect(await cli(['hook', 'run', '0'], missing)).toMatchObject({
      code: 1,
      stderr: expect.stringMatching(/cannot read VALUES_PATH/),
    });
    const notObject = operatorFiles([], [1, 2]);
    expect(await cli(['hook', 'run', '0'], notObject)).toMatchObject({
      code: 1,
      stderr: expect.stringMatching(/VALUES_PATH must hold a JSON object/),
    });
  });

  it('reports a hook error on stderr with a non-zero exit and writes no outputs', async () => {
    const env = operatorFiles([{ binding: 'afterHelm', snapshots: {} }]);
    const { code, stderr } = await cli(['hook', 'run', '1'], env);
    expect(code).toBe(1);
    expect(stderr).toBe('hook failed: boom\n');
    expect(readFileSync(env.VALUES_JSON_PATCH_PATH!, 'utf8')).toBe('');
  });
});
