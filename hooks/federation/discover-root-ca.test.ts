import type { KubeObject } from '../../lib/hook-sdk';
import { bindingContextsFor, runCompiledHook } from '../../lib/hook-sdk/testing';
import { app } from '../index';
import { clusterAHarness, hookBinary } from '../../tests/support/module';
import hook, { chooseLocalRootCA, isPemCertificateBundle } from './discover-root-ca';

const harness = clusterAHarness();
const PEM = '-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUQ0E=\n-----END CERTIFICATE-----\n';
const PEM2 = '-----BEGIN CERTIFICATE-----\nMIIBtDCCAVqgAwIBAgIUQ0I=\n-----END CERTIFICATE-----\n';
const configMap = (data: Record<string, string>, namespace = 'd8-istio'): KubeObject => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name: 'istio-ca-root-cert', namespace },
  data,
});
const rootOf = (moduleValues: unknown) =>
  (moduleValues as { internal: { federation: { localRootCA: string } } }).internal.federation.localRootCA;

test.each([
  [PEM, true],
  [PEM + PEM2, true],
  [`\n${PEM}\n`, true],
  ['', false],
  ['garbage', false],
  [PEM + 'trailing garbage', false],
  ['-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n', false],
])('isPemCertificateBundle #%#', (text, ok) => {
  expect(isPemCertificateBundle(text)).toBe(ok);
});

test('chooseLocalRootCA keeps the last good value', () => {
  expect(chooseLocalRootCA(PEM2, PEM)).toEqual({ value: PEM2 });
  expect(chooseLocalRootCA(undefined, PEM)).toEqual({
    value: PEM,
    problem: expect.stringContaining('not found'),
  });
  expect(chooseLocalRootCA('junk', PEM)).toEqual({
    value: PEM,
    problem: expect.stringContaining('not a PEM'),
  });
  expect(chooseLocalRootCA(undefined, undefined)).toEqual({ value: '', problem: expect.any(String) });
});

describe('root CA discovery hook', () => {
  it('publishes root-cert.pem of d8-istio/istio-ca-root-cert (not the copies in other namespaces)', async () => {
    const result = await harness.run(hook, {
      cluster: [configMap({ 'root-cert.pem': PEM }), configMap({ 'root-cert.pem': PEM2 }, 'default')],
      trigger: 'rootCA',
    });
    expect(rootOf(result.moduleValues)).toBe(PEM);
    expect(result.logs).toEqual([]);
  });

  // Not gated by federation.enabled: the public document (and the mesh trust) needs it in both modes.
  it('with multicluster only, the root CA is discovered too', async () => {
    const result = await harness.run(hook, {
      cluster: [configMap({ 'root-cert.pem': PEM })],
      configValues: { multicluster: { enabled: true } },
      trigger: 'rootCA',
    });
    expect(rootOf(result.moduleValues)).toBe(PEM);
  });

  it('keeps the last value when the ConfigMap disappears or the key is missing, and warns', async () => {
    for (const cluster of [[], [configMap({ other: 'x' })], [configMap({ 'root-cert.pem': 'junk' })]]) {
      const result = await harness.run(hook, {
        cluster,
        values: { internal: { federation: { localRootCA: PEM } } },
      });
      expect(result.valuesPatch).toEqual([]);
      expect(result.logs).toEqual([expect.objectContaining({ level: 'warn' })]);
    }
  });

  it('runs in the compiled binary', () => {
    const { values, configValues } = harness.initialValues({});
    const result = runCompiledHook(hookBinary(), app.hooks.indexOf(hook), {
      contexts: bindingContextsFor(hook, [configMap({ 'root-cert.pem': PEM })], 'rootCA'),
      values,
      configValues,
    });
    expect(result.stderr).toBe('');
    expect(result.exitCode).toBe(0);
    expect(rootOf(harness.applyAndValidate(values, result.valuesPatch).moduleValues)).toBe(PEM);
  });
});
