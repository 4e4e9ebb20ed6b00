// Shared fixtures for tests that run hooks as addon-operator would.
import { join } from 'node:path';
import { HookHarness, type JsonObject } from '../../lib/hook-sdk/testing';
import type { KubeObject } from '../../lib/hook-sdk';

export const MODULE_ROOT = join(__dirname, '..', '..');

export const CLUSTER_A_GLOBAL: JsonObject = {
  discovery: { clusterDomain: 'cluster-a.local', clusterUUID: '2a7c8b0e-5d0a-4a8e-9f51-7f3c1e2d4b6a' },
  modules: { publicDomainTemplate: '%s.cluster-a.example.com', https: { mode: 'CertManager' } },
};

export function clusterAHarness(): HookHarness {
  return new HookHarness({ moduleRoot: MODULE_ROOT, valuesKey: 'istio', global: CLUSTER_A_GLOBAL });
}

export function secret(namespace: string, name: string, data: Record<string, string>): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name, namespace },
    type: 'Opaque',
    data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
  };
}

export function hookBinary(): string {
  const path = process.env.HOOK_BINARY;
  if (!path) throw new Error('HOOK_BINARY is not set (tests/global-setup.ts)');
  return path;
}
