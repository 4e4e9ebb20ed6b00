import type { Bindings, HookDefinition } from './hook';
import type { BatchHookConfigJson, HookConfigJson, KubernetesConfigJson } from './types';

const NANOSECONDS_PER_SECOND = 1_000_000_000;

/** The `hook config` document: every hook in registry order (its index is its id). */
export function batchHookConfig(hooks: readonly HookDefinition[]): BatchHookConfigJson {
  return { version: 'v1', hooks: hooks.map(hookConfig) };
}

export function hookConfig(hook: HookDefinition): HookConfigJson {
  const config: HookConfigJson = {
    configVersion: 'v1',
    metadata: { name: hook.name, path: `hooks/${hook.name.split('/').slice(0, -1).join('/')}` },
  };
  for (const order of [
    'onStartup',
    'beforeHelm',
    'afterHelm',
    'beforeDeleteHelm',
    'afterDeleteHelm',
  ] as const) {
    if (hook[order] !== undefined) config[order] = hook[order];
  }
  // Empty arrays are invalid in the protocol: leave the key out instead.
  if (hook.schedule?.length) config.schedule = hook.schedule.map((s) => ({ ...s }));
  const kubernetes = kubernetesConfigs(hook.kubernetes ?? {});
  if (kubernetes.length) config.kubernetes = kubernetes;
  if (hook.settings) {
    const { executionMinIntervalSeconds, executionBurst } = hook.settings;
    config.settings = {
      ...(executionMinIntervalSeconds !== undefined
        ? { executionMinInterval: Math.round(executionMinIntervalSeconds * NANOSECONDS_PER_SECOND) }
        : {}),
      ...(executionBurst !== undefined ? { executionBurst } : {}),
    };
  }
  return config;
}

function kubernetesConfigs(bindings: Bindings): KubernetesConfigJson[] {
  return Object.entries(bindings).map(([name, binding]) => {
    const { parse: _parse, ...rest } = binding;
    // Batch hooks default keepFullObjectsInMemory to false: we rely on jqFilter results only.
    return { name, ...rest, keepFullObjectsInMemory: false };
  });
}
