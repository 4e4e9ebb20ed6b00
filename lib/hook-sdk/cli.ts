import { readFileSync, writeFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { InputError, parseBindingContexts } from './binding-context';
import { batchHookConfig } from './config';
import type { HookDefinition } from './hook';
import { runHook } from './runner';

export interface BatchApp {
  /** The module's values key, e.g. `istio`. */
  valuesKey: string;
  hooks: readonly HookDefinition[];
}

export interface CliIo {
  env: Record<string, string | undefined>;
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

function requiredEnv(env: CliIo['env'], name: string): string {
  const value = env[name];
  if (!value) throw new InputError(`environment variable ${name} is not set`);
  return value;
}

function readJsonFile(env: CliIo['env'], name: string): unknown {
  const path = requiredEnv(env, name);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new InputError(`cannot read ${name} (${path}): ${(error as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new InputError(`${name} (${path}) is not valid JSON: ${(error as Error).message}`);
  }
}

function readObjectFile(env: CliIo['env'], name: string): Record<string, unknown> {
  const value = readJsonFile(env, name);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InputError(`${name} must hold a JSON object`);
  }
  return value as Record<string, unknown>;
}

const jsonLines = (items: readonly unknown[]): string => items.map((i) => JSON.stringify(i) + '\n').join('');

async function runCommand(app: BatchApp, indexArg: string, io: CliIo): Promise<void> {
  const index = /^\d+$/.test(indexArg) ? Number(indexArg) : NaN;
  const hook = app.hooks[index];
  if (!hook)
    throw new InputError(`no hook with index ${JSON.stringify(indexArg)} (have 0..${app.hooks.length - 1})`);
  const output = await runHook(hook, {
    contexts: parseBindingContexts(readJsonFile(io.env, 'BINDING_CONTEXT_PATH')),
    values: readObjectFile(io.env, 'VALUES_PATH'),
    configValues: readObjectFile(io.env, 'CONFIG_VALUES_PATH'),
    valuesKey: app.valuesKey,
    logSink: (line) => io.stdout(line + '\n'),
  });
  writeFileSync(requiredEnv(io.env, 'VALUES_JSON_PATCH_PATH'), jsonLines(output.valuesPatch));
  writeFileSync(requiredEnv(io.env, 'KUBERNETES_PATCH_PATH'), jsonLines(output.kubeOperations));
  writeFileSync(requiredEnv(io.env, 'METRICS_PATH'), jsonLines(output.metrics));
}

/**
 * addon-operator's batch-hook commands: `hook list` (run with an empty environment),
 * `hook config`, `hook run <index>`. Returns the process exit code; any failure is an
 * internal fault, reported on stderr (which the operator shows as the hook's error).
 */
export async function runBatchCli(app: BatchApp, argv: readonly string[], io: CliIo): Promise<number> {
  const program = new Command('istio-federation')
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .showHelpAfterError(false);
  const hook = program.command('hook').alias('hooks').description('batch hooks of this module');
  hook
    .command('list')
    .description('list hooks')
    .action(() => {
      io.stdout(`Found ${app.hooks.length} items:\n`);
      app.hooks.forEach((h, i) => io.stdout(`${i} - ${h.name}\n`));
    });
  hook
    .command('config')
    .description('print the hooks configuration (batch v1)')
    .action(() => io.stdout(JSON.stringify(batchHookConfig(app.hooks)) + '\n'));
  hook
    .command('run')
    .argument('<index>', 'hook index as listed by `hook config`')
    .description('run one hook')
    .action((index: string) => runCommand(app, index, io));
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
    const prefix = error instanceof InputError ? 'invalid hook input' : 'hook failed';
    io.stderr(`${prefix}: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}
