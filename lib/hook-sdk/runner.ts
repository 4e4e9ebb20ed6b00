import { currentSnapshotItems, triggersOf, typedSnapshots } from './binding-context';
import type { Bindings, HookDefinition } from './hook';
import { KubeOperations } from './kube';
import { Logger, type LogSink } from './logger';
import { MetricsCollector } from './metrics';
import type { BindingContext, KubeOperation, MetricOperation, ValuesPatchOperation } from './types';
import { PatchableValues, ReadonlyValues } from './values';

export interface RunInput {
  contexts: readonly BindingContext[];
  /** `{global: {...}, <valuesKey>: {...}}` as in VALUES_PATH. */
  values: Record<string, unknown>;
  configValues: Record<string, unknown>;
  /** The module's values key (camelCase module name); hooks may write only below it. */
  valuesKey: string;
  logSink: LogSink;
  now?: Date;
}

export interface RunOutput {
  valuesPatch: ValuesPatchOperation[];
  kubeOperations: KubeOperation[];
  metrics: MetricOperation[];
}

/** Runs one hook on parsed input and returns what it asked for. Throws on internal faults. */
export async function runHook<B extends Bindings>(
  hook: HookDefinition<B>,
  input: RunInput,
): Promise<RunOutput> {
  const values = new PatchableValues(input.values, input.valuesKey);
  const kube = new KubeOperations();
  const metrics = new MetricsCollector();
  await hook.run({
    snapshots: typedSnapshots(hook, currentSnapshotItems(input.contexts)),
    triggers: triggersOf(input.contexts),
    values,
    configValues: new ReadonlyValues(input.configValues),
    kube,
    metrics,
    log: new Logger(input.logSink, { hook: hook.name }),
    now: input.now ?? new Date(),
  });
  return { valuesPatch: values.patch(), kubeOperations: kube.list(), metrics: metrics.list() };
}
