import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applyPatch } from 'fast-json-patch';
import type { HookDefinition } from '../hook';
import { runHook } from '../runner';
import type {
  BindingContext,
  KubeObject,
  KubeOperation,
  MetricOperation,
  ValuesPatchOperation,
} from '../types';
import { applyJqFilter } from './gojq';
import { selectObjects } from './selectors';
import { moduleValidators, type SchemaValidator } from './values-schema';

export const HELM_PHASES = ['onStartup', 'beforeHelm', 'afterHelm', 'beforeDeleteHelm', 'afterDeleteHelm'];

export type JsonObject = Record<string, unknown>;

export interface HarnessRun {
  /** Objects that exist in the cluster; each binding sees those it selects, through its jqFilter. */
  cluster?: readonly KubeObject[];
  /** What triggers the run: a helm phase, a kubernetes binding name or a schedule name. Default: beforeHelm. */
  trigger?: string;
  /** Module values (the `istio` key) before the run; schema defaults are applied first. */
  values?: JsonObject;
  /** Module config values (the `istio` key). */
  configValues?: JsonObject;
  now?: Date;
}

export interface LogRecord {
  level: string;
  msg: string;
  [key: string]: unknown;
}

export interface HarnessResult {
  contexts: BindingContext[];
  valuesPatch: ValuesPatchOperation[];
  /** `{global, istio}` after applying the patch strictly; validated against openapi/values.yaml. */
  values: JsonObject;
  moduleValues: JsonObject;
  kubeOperations: KubeOperation[];
  metrics: MetricOperation[];
  logs: LogRecord[];
}

/** Binding contexts exactly as addon-operator builds them for a batch hook (group "main"). */
export function bindingContextsFor(
  hook: HookDefinition,
  cluster: readonly KubeObject[],
  trigger: string,
): BindingContext[] {
  const snapshots: BindingContext['snapshots'] = {};
  for (const [name, binding] of Object.entries(hook.kubernetes ?? {})) {
    const objects = selectObjects(binding, cluster);
    snapshots[name] = applyJqFilter(binding.jqFilter, objects).map((filterResult) => ({ filterResult }));
  }
  if (HELM_PHASES.includes(trigger)) return [{ binding: trigger, snapshots }];
  const known = [...Object.keys(hook.kubernetes ?? {}), ...(hook.schedule ?? []).map((s) => s.name)];
  if (!known.includes(trigger)) throw new Error(`hook ${hook.name} has no binding named ${trigger}`);
  return [{ binding: trigger, type: 'Group', groupName: 'main', snapshots }];
}

/** Applies a values patch the way addon-operator does: only add/remove, strictly. */
export function applyValuesPatchStrictly(
  values: JsonObject,
  patch: readonly ValuesPatchOperation[],
): JsonObject {
  for (const op of patch) {
    if (op.op !== 'add' && op.op !== 'remove')
      throw new Error(`values patch op ${(op as { op: string }).op} is rejected`);
  }
  return applyPatch(structuredClone(values), structuredClone(patch) as never, true, false)
    .newDocument as JsonObject;
}

export interface HarnessOptions {
  moduleRoot: string;
  valuesKey: string;
  global: JsonObject;
}

/**
 * Runs hooks as addon-operator would: objects through the hook's own jqFilter (gojq),
 * batch-shaped binding contexts, values patch applied strictly, result validated
 * against the module's values schema. A schema violation or a bad patch throws.
 */
export class HookHarness {
  private readonly validators: { configValues: SchemaValidator; values: SchemaValidator };

  constructor(private readonly options: HarnessOptions) {
    this.validators = moduleValidators(options.moduleRoot);
  }

  initialValues(run: Pick<HarnessRun, 'values' | 'configValues'>): {
    values: JsonObject;
    configValues: JsonObject;
  } {
    const { valuesKey, global } = this.options;
    const configValues = this.validators.configValues.withDefaults(run.configValues ?? {});
    const configErrors = this.validators.configValues.errors(configValues);
    if (configErrors.length) throw new Error(`config values rejected by schema: ${configErrors.join('; ')}`);
    const moduleValues = this.validators.values.withDefaults({ ...configValues, ...(run.values ?? {}) });
    return {
      values: { global, [valuesKey]: moduleValues },
      configValues: { global, [valuesKey]: configValues },
    };
  }

  async run(hook: HookDefinition, run: HarnessRun = {}): Promise<HarnessResult> {
    const contexts = bindingContextsFor(hook, run.cluster ?? [], run.trigger ?? 'beforeHelm');
    const { values, configValues } = this.initialValues(run);
    const logs: LogRecord[] = [];
    const output = await runHook(hook, {
      contexts,
      values,
      configValues,
      valuesKey: this.options.valuesKey,
      logSink: (line) => logs.push(JSON.parse(line) as LogRecord),
      ...(run.now ? { now: run.now } : {}),
    });
    return { contexts, ...output, logs, ...this.applyAndValidate(values, output.valuesPatch) };
  }

  applyAndValidate(
    values: JsonObject,
    patch: readonly ValuesPatchOperation[],
  ): { values: JsonObject; moduleValues: JsonObject } {
    const after = applyValuesPatchStrictly(values, patch);
    const moduleValues = after[this.options.valuesKey] as JsonObject;
    const errors = this.validators.values.errors(moduleValues);
    if (errors.length)
      throw new Error(`values after the hook are rejected by openapi/values.yaml: ${errors.join('; ')}`);
    return { values: after, moduleValues };
  }
}

export interface CompiledRunResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  valuesPatch: ValuesPatchOperation[];
  kubeOperations: KubeOperation[];
  metrics: MetricOperation[];
}

function readJsonStream(path: string): unknown[] {
  const text = readFileSync(path, 'utf8').trim();
  if (!text) return [];
  // A values patch may be one array or a stream; kube/metrics outputs are JSON lines.
  return text.split('\n').flatMap((line) => {
    const value: unknown = JSON.parse(line);
    return Array.isArray(value) ? value : [value];
  });
}

export interface OperatorInput {
  contexts: unknown;
  values: JsonObject;
  configValues: JsonObject;
}

/**
 * The files addon-operator prepares for one run, in `dir`: inputs written, outputs created
 * empty. Returns the environment that names them (BINDING_CONTEXT_PATH, VALUES_PATH, ...).
 */
export function writeOperatorFiles(dir: string, input: OperatorInput) {
  const files = {
    BINDING_CONTEXT_PATH: join(dir, 'binding-context.json'),
    VALUES_PATH: join(dir, 'values.json'),
    CONFIG_VALUES_PATH: join(dir, 'config-values.json'),
    VALUES_JSON_PATCH_PATH: join(dir, 'values-patch.json'),
    CONFIG_VALUES_JSON_PATCH_PATH: join(dir, 'config-values-patch.json'),
    KUBERNETES_PATCH_PATH: join(dir, 'kubernetes-patch.json'),
    METRICS_PATH: join(dir, 'metrics.json'),
  };
  writeFileSync(files.BINDING_CONTEXT_PATH, JSON.stringify(input.contexts));
  writeFileSync(files.VALUES_PATH, JSON.stringify(input.values));
  writeFileSync(files.CONFIG_VALUES_PATH, JSON.stringify(input.configValues));
  for (const output of [
    'VALUES_JSON_PATCH_PATH',
    'CONFIG_VALUES_JSON_PATCH_PATH',
    'KUBERNETES_PATCH_PATH',
    'METRICS_PATH',
  ] as const) {
    writeFileSync(files[output], '');
  }
  return files;
}

/** Runs `<binary> hook run <index>` with the operator's files and environment. */
export function runCompiledHook(
  binary: string,
  index: number,
  input: OperatorInput & { contexts: BindingContext[]; env?: Record<string, string> },
): CompiledRunResult {
  const dir = mkdtempSync(join(tmpdir(), 'hook-run-'));
  try {
    const files = writeOperatorFiles(dir, input);
    let exitCode = 0;
    let stdout = '';
    let stderr = '';
    try {
      stdout = execFileSync(binary, ['hook', 'run', String(index)], {
        env: { PATH: '/usr/bin:/bin', ...files, ...input.env },
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    } catch (error) {
      const e = error as { status: number; stdout: string; stderr: string };
      exitCode = e.status;
      stdout = e.stdout;
      stderr = e.stderr;
    }
    return {
      exitCode,
      stdout,
      stderr,
      valuesPatch: readJsonStream(files.VALUES_JSON_PATCH_PATH) as ValuesPatchOperation[],
      kubeOperations: readJsonStream(files.KUBERNETES_PATCH_PATH) as KubeOperation[],
      metrics: readJsonStream(files.METRICS_PATH) as MetricOperation[],
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
