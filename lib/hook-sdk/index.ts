export { defineHook, kubernetesBinding } from './hook';
export type { Bindings, HookDefinition, HookInput, KubernetesBinding, Snapshots, Trigger } from './hook';
export { runBatchCli } from './cli';
export type { BatchApp } from './cli';
export { runHook } from './runner';
export type { KubeObject } from './types';
