// Renders the module chart with real Helm the way addon-operator does: module values get
// the openapi defaults, are validated (rejected values never reach Helm), and are passed
// as {global, istio} to `helm template` with the module root as the chart.
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';
import { moduleValidators } from '../../lib/hook-sdk/testing';

export const MODULE_ROOT = join(__dirname, '..', '..');
export const RELEASE_NAME = 'istio';
export const RELEASE_NAMESPACE = 'd8-istio';

const execFileAsync = promisify(execFile);

export type JsonObject = { [key: string]: unknown };

export interface KubeObject extends JsonObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> } & JsonObject;
}

export interface ModuleValues {
  global: JsonObject;
  istio: JsonObject;
}

/** The module's values failed openapi validation: addon-operator would not run Helm. */
export class ValuesRejected extends Error {
  constructor(readonly problems: string[]) {
    super(`values rejected by openapi/values.yaml: ${problems.join('; ')}`);
    this.name = 'ValuesRejected';
  }
}

/** Helm itself refused to render (a template `fail`/`required`, or a template error). */
export class RenderFailed extends Error {
  constructor(readonly stderr: string) {
    super(`helm template failed: ${stderr.trim()}`);
    this.name = 'RenderFailed';
  }
}

/** HELM_BIN from the jest global setup, else the cached upstream build (built if missing). */
export function helmBinary(): string {
  if (process.env.HELM_BIN) return process.env.HELM_BIN;
  const output = execFileSync('bash', [join(MODULE_ROOT, 'tools', 'upstream', 'helm.sh')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const path = output.trim().split('\n').pop() ?? '';
  process.env.HELM_BIN = path;
  return path;
}

let validators: ReturnType<typeof moduleValidators> | undefined;

/** Applies the openapi defaults to the module's values and validates them, as addon-operator does. */
export function prepareValues(values: ModuleValues): ModuleValues {
  validators ??= moduleValidators(MODULE_ROOT);
  const istio = validators.values.withDefaults(values.istio);
  const problems = validators.values.errors(istio);
  if (problems.length > 0) throw new ValuesRejected(problems);
  return { global: values.global, istio };
}

/** Splits Helm's multi-document output into objects; empty documents are dropped. */
export function parseManifest(manifest: string): KubeObject[] {
  const objects: KubeObject[] = [];
  for (const document of parseAllDocuments(manifest)) {
    const [firstError] = document.errors;
    if (firstError) throw new Error(`rendered YAML does not parse: ${firstError.message}`);
    const value: unknown = document.toJS();
    if (value === null || value === undefined) continue;
    if (typeof value !== 'object' || Array.isArray(value))
      throw new Error('rendered document is not an object');
    const object = value as KubeObject;
    if (typeof object.kind !== 'string' || typeof object.apiVersion !== 'string' || !object.metadata?.name) {
      throw new Error(
        `rendered object lacks apiVersion/kind/metadata.name: ${JSON.stringify(value).slice(0, 200)}`,
      );
    }
    objects.push(object);
  }
  return objects;
}

/**
 * The optional APIs the chart renders objects for only where the cluster serves them
 * (`.Capabilities.APIVersions.Has`). addon-operator's Helm discovers them from the cluster;
 * `helm template` knows only the built-in ones, so tests name them like a cluster that has
 * prometheus-operator, cert-manager and Deckhouse's Grafana dashboards. Pass `[]` to render for a cluster without them.
 */
export const OPTIONAL_APIS = [
  'monitoring.coreos.com/v1/PrometheusRule',
  'monitoring.coreos.com/v1/PodMonitor',
  'cert-manager.io/v1/Certificate',
  'deckhouse.io/v1/GrafanaDashboardDefinition',
];

/** Runs `helm template` on already prepared values; returns Helm's stdout (the manifest). */
export async function helmTemplate(prepared: ModuleValues, apiVersions = OPTIONAL_APIS): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'istio-helm-'));
  try {
    const valuesFile = join(dir, 'values.json');
    writeFileSync(valuesFile, JSON.stringify(prepared));
    const { stdout } = await execFileAsync(
      helmBinary(),
      [
        'template',
        RELEASE_NAME,
        MODULE_ROOT,
        '--namespace',
        RELEASE_NAMESPACE,
        '-f',
        valuesFile,
        ...apiVersions.flatMap((api) => ['--api-versions', api]),
      ],
      { maxBuffer: 1024 * 1024 * 1024, env: { ...process.env, HELM_CACHE_HOME: dir, HELM_CONFIG_HOME: dir } },
    );
    return stdout;
  } catch (error) {
    const stderr = (error as { stderr?: unknown }).stderr;
    if (typeof stderr === 'string' && stderr.length > 0) throw new RenderFailed(stderr);
    throw error;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Validates, renders and parses: the whole addon-operator path from values to objects. */
export async function render(values: ModuleValues, apiVersions = OPTIONAL_APIS): Promise<KubeObject[]> {
  return parseManifest(await helmTemplate(prepareValues(values), apiVersions));
}

/** Runs `task` over `items` with at most `limit` in flight (helm is CPU-bound; CI has 2 cores). */
export async function mapConcurrently<T, R>(
  items: T[],
  limit: number,
  task: (item: T) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await task(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

export function objectKey(object: KubeObject): string {
  return `${object.kind}/${object.metadata.namespace ?? ''}/${object.metadata.name}`;
}

export function findObject(objects: KubeObject[], kind: string, name: string): KubeObject | undefined {
  return objects.find((o) => o.kind === kind && o.metadata.name === name);
}
