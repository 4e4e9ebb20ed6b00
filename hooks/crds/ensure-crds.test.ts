import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { bindingContextsFor, runCompiledHook } from '../../lib/hook-sdk/testing';
import { crdsFromYaml, moduleCrds } from '../../lib/crds/module-crds';
import { app } from '../index';
import { clusterAHarness, hookBinary, MODULE_ROOT } from '../../tests/support/module';
import hook from './ensure-crds';

const harness = clusterAHarness();
const CRD_FILES = readdirSync(join(MODULE_ROOT, 'crds')).filter((f) => f.endsWith('.yaml'));
const crdsOnDisk = () =>
  CRD_FILES.map((file) => parse(readFileSync(join(MODULE_ROOT, 'crds', file), 'utf8')) as unknown);

test('the inlined CRDs are exactly the files in crds/', () => {
  expect(CRD_FILES.length).toBeGreaterThan(0);
  expect(moduleCrds()).toEqual(crdsOnDisk());
});

test('a file that is not a CRD is refused', () => {
  expect(() => crdsFromYaml('apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n')).toThrow(/not an/);
  expect(() => crdsFromYaml('kind: [')).toThrow();
  expect(crdsFromYaml('')).toEqual([]);
});

describe('ensure-CRDs hook', () => {
  it('creates or updates every module CRD at start', async () => {
    const result = await harness.run(hook, { trigger: 'onStartup' });
    expect(result.kubeOperations).toEqual(crdsOnDisk().map((object) => ({ operation: 'CreateOrUpdate', object })));
    expect(result.valuesPatch).toEqual([]);
  });

  it('runs at start only, before Helm, in the compiled binary (which holds the CRDs itself)', () => {
    expect(hook.onStartup).toBeDefined();
    expect(hook.kubernetes ?? {}).toEqual({});
    const { values, configValues } = harness.initialValues({});
    const result = runCompiledHook(hookBinary(), app.hooks.indexOf(hook), {
      contexts: bindingContextsFor(hook, [], 'onStartup'),
      values,
      configValues,
    });
    expect(result.exitCode).toBe(0);
    expect(result.kubeOperations).toEqual(crdsOnDisk().map((object) => ({ operation: 'CreateOrUpdate', object })));
  });
});
