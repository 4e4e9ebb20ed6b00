import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Ajv from 'ajv';
import { authnKeypairProblem, generateAuthnKeypair } from '../../lib/federation/identity/authn-keys';
import { bindingContextsFor, runCompiledHook } from '../../lib/hook-sdk/testing';
import authnKeypair from '../../hooks/federation/authn-keypair';
import { app } from '../../hooks/index';
import { batchHookConfigSchema } from '../protocol/batch-hook-config-schema';
import { clusterAHarness, hookBinary, secret } from '../support/module';

interface ConfigDocument {
  hooks: { metadata: { name: string } }[];
}

const run = (binary: string, args: string[], env: Record<string, string> = {}) =>
  execFileSync(binary, args, { env, encoding: 'utf8' });

describe('the compiled hook executable', () => {
  it('answers `hook list` with an empty environment, as addon-operator probes it', () => {
    expect(run(hookBinary(), ['hook', 'list'])).toMatch(new RegExp(`^Found ${app.hooks.length} items:\n`));
  });

  it('prints a `hook config` that satisfies the protocol and matches the registry', () => {
    const config = JSON.parse(run(hookBinary(), ['hook', 'config'])) as ConfigDocument;
    const validate = new Ajv({ strict: false, allErrors: true }).compile(batchHookConfigSchema);
    expect(validate(config) ? [] : validate.errors).toEqual([]);
    expect(config.hooks.map((h) => h.metadata.name)).toEqual(app.hooks.map((h) => h.name));
  });

  it('works copied alone into an empty directory (no node_modules, no Node.js on PATH)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lonely-hook-'));
    try {
      const lonely = join(dir, 'istio-federation');
      copyFileSync(hookBinary(), lonely);
      execFileSync('chmod', ['+x', lonely]);
      expect(execFileSync(lonely, ['hook', 'list'], { env: {}, cwd: dir, encoding: 'utf8' })).toMatch(
        /^Found \d+ items/,
      );
      const index = app.hooks.indexOf(authnKeypair);
      const harness = clusterAHarness();
      const { values, configValues } = harness.initialValues({
        configValues: { federation: { enabled: true } },
      });
      const result = runCompiledHook(lonely, index, {
        contexts: bindingContextsFor(authnKeypair, [], 'beforeHelm'),
        values,
        configValues,
        env: { PATH: '/nonexistent' },
      });
      expect(result.stderr).toBe('');
      expect(result.exitCode).toBe(0);
      const after = harness.applyAndValidate(values, result.valuesPatch).moduleValues as {
        internal: { remoteAuthnKeypair: { pub: string; priv: string } };
      };
      expect(authnKeypairProblem(after.internal.remoteAuthnKeypair)).toBeUndefined();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('runs the key-pair hook: reuses the Secret keys and logs JSON lines', () => {
    const pair = generateAuthnKeypair();
    const cluster = [
      secret('d8-istio', 'd8-remote-authn-keypair', { 'pub.pem': pair.pub, 'priv.pem': pair.priv }),
    ];
    const harness = clusterAHarness();
    const { values, configValues } = harness.initialValues({
      configValues: { federation: { enabled: true } },
    });
    const result = runCompiledHook(hookBinary(), app.hooks.indexOf(authnKeypair), {
      contexts: bindingContextsFor(authnKeypair, cluster, 'beforeHelm'),
      values,
      configValues,
    });
    expect(result.exitCode).toBe(0);
    expect(result.valuesPatch).toEqual([
      { op: 'add', path: '/istio/internal/remoteAuthnKeypair', value: pair },
    ]);
    expect(result.kubeOperations).toEqual([]);
  });

  it('exits non-zero with the reason on stderr for malformed operator input', () => {
    const result = runCompiledHook(hookBinary(), 0, {
      contexts: { not: 'an array' } as never,
      values: { global: {}, istio: {} },
      configValues: { istio: {} },
    });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toBe('invalid hook input: binding context must be a JSON array\n');
    expect(result.valuesPatch).toEqual([]);
  });
});
