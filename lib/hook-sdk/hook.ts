import type { KubeOperations } from './kube';
import type { Logger } from './logger';
import type { MetricsCollector } from './metrics';
import type { FieldSelector, LabelSelector, NameSelector } from './types';
import type { PatchableValues, ReadonlyValues } from './values';

/**
 * A kubernetes binding: what to watch, the jqFilter that reduces each object to what
 * the hook needs (the operator re-runs the hook only when a filter result changes),
 * and `parse`, which validates one filter result at the boundary and gives it a type.
 */
export interface KubernetesBinding<T> {
  apiVersion: string;
  kind: string;
  jqFilter: string;
  parse: (filterResult: unknown) => T;
  nameSelector?: NameSelector;
  namespace?: { nameSelector?: NameSelector; labelSelector?: LabelSelector };
  labelSelector?: LabelSelector;
  fieldSelector?: FieldSelector;
  executeHookOnEvent?: boolean;
  executeHookOnSynchronization?: boolean;
  waitForSynchronization?: boolean;
  allowFailure?: boolean;
  queue?: string;
}

export interface ScheduleBinding {
  name: string;
  crontab: string;
  queue?: string;
}

export type Bindings = Record<string, KubernetesBinding<unknown>>;

export type Snapshots<B extends Bindings> = {
  [K in keyof B]: B[K] extends KubernetesBinding<infer T> ? T[] : never;
};

/** What triggered a run: one entry per binding context, in order. */
export interface Trigger {
  binding: string;
  type?: string;
  watchEvent?: string;
}

export interface HookInput<B extends Bindings> {
  snapshots: Snapshots<B>;
  triggers: Trigger[];
  values: PatchableValues;
  configValues: ReadonlyValues;
  kube: KubeOperations;
  metrics: MetricsCollector;
  log: Logger;
  now: Date;
}

export interface HookDefinition<B extends Bindings = Bindings> {
  /** Unique name, e.g. `federation/authn-keypair`; also the metadata name. */
  name: string;
  onStartup?: number;
  beforeHelm?: number;
  afterHelm?: number;
  beforeDeleteHelm?: number;
  afterDeleteHelm?: number;
  schedule?: ScheduleBinding[];
  kubernetes?: B;
  settings?: { executionMinIntervalSeconds?: number; executionBurst?: number };
  run(input: HookInput<B>): void | Promise<void>;
}

/** Typed identity: infers the bindings so that `run` sees typed snapshots. */
export function defineHook<B extends Bindings>(hook: HookDefinition<B>): HookDefinition<B> {
  return hook;
}

export function kubernetesBinding<T>(binding: KubernetesBinding<T>): KubernetesBinding<T> {
  return binding;
}
