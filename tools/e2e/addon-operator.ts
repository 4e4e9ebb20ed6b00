import { mkdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { REFRESH_SECONDS_ENV } from '../../lib/federation/fetch/refresh';
import { httpGet } from './http';
import { resourcePath, type KubeApi, type KubeObject } from './kube-api';
import { ManagedProcess } from './processes';
import { MODULE_DIR } from './tools';
import { freePort, lostBindRace, pollUntil } from './wait';

/**
 * Plain addon-operator (no Deckhouse around it) running our module from dist/module:
 *  - the module is found as `110-istio` in MODULES_DIR (a symlink to dist/module);
 *  - its config source is a ConfigMap in ADDON_OPERATOR_NAMESPACE with keys `global`
 *    (global values: discovery.clusterDomain, clusterUUID, modules.publicDomainTemplate,
 *    modules.https.mode), `istioEnabled` and `istio` (the module's settings), all YAML
 *    strings; there are no global hooks, so the ConfigMap is the only source of globals;
 *  - Helm (embedded, helm3lib) stores releases as Secrets in that namespace and reads
 *    the kubeconfig from KUBECONFIG, addon-operator itself from KUBE_CONFIG.
 */

export const OPERATOR_NAMESPACE = 'd8-system';
export const OPERATOR_CONFIGMAP = 'addon-operator';

export interface GlobalValues {
  clusterDomain: string;
  clusterUUID: string;
  publicDomainTemplate: string;
  httpsMode: string;
}

export interface IstioSettings {
  federation: { enabled: boolean };
  /** `apiHost`: the api host this cluster publishes to multicluster peers (host[:port]). */
  multicluster?: { enabled: boolean; apiHost?: string };
  alliance?: { ingressGateway?: Record<string, unknown> };
}

/** The operator's ConfigMap. Values are JSON, which is valid YAML. */
export function operatorConfigMap(globals: GlobalValues, settings: IstioSettings): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: OPERATOR_CONFIGMAP, namespace: OPERATOR_NAMESPACE },
    data: {
      global: JSON.stringify({
        discovery: { clusterDomain: globals.clusterDomain, clusterUUID: globals.clusterUUID },
        modules: { publicDomainTemplate: globals.publicDomainTemplate, https: { mode: globals.httpsMode } },
      }),
      istioEnabled: 'true',
      istio: JSON.stringify(settings),
    },
  };
}

export async function writeOperatorConfig(
  api: KubeApi,
  globals: GlobalValues,
  settings: IstioSettings,
): Promise<void> {
  await api.apply(
    resourcePath('v1', 'configmaps', { namespace: OPERATOR_NAMESPACE, name: OPERATOR_CONFIGMAP }),
    operatorConfigMap(globals, settings),
  );
}

export class AddonOperator {
  private proc: ManagedProcess | undefined;
  metricsPort = 0;
  starts = 0;
  private readonly dirs: { modules: string; globalHooks: string; tmp: string; helm: string };

  constructor(
    private readonly name: string,
    private readonly binary: string,
    private readonly workDir: string,
    private readonly kubeconfigPath: string,
  ) {
    this.dirs = {
      modules: join(workDir, 'modules'),
      globalHooks: join(workDir, 'global-hooks'),
      tmp: join(workDir, 'operator-tmp'),
      helm: join(workDir, 'helm-home'),
    };
    for (const dir of Object.values(this.dirs)) mkdirSync(dir, { recursive: true });
    rmSync(join(this.dirs.modules, '110-istio'), { force: true });
    symlinkSync(MODULE_DIR, join(this.dirs.modules, '110-istio'));
  }

  get running(): boolean {
    return this.proc?.alive ?? false;
  }

  get logFile(): string {
    return join(this.workDir, 'addon-operator.log');
  }

  /** Starts and waits for its HTTP server; the first start retries with another port after a bind race. */
  async start(): Promise<void> {
    if (this.running) return;
    const portChosenHere = !this.metricsPort;
    for (let attempt = 1; ; attempt++) {
      if (!this.metricsPort) this.metricsPort = await freePort();
      try {
        return await this.startOnce();
      } catch (error) {
        await this.proc?.stop();
        if (!portChosenHere || attempt >= 3 || !lostBindRace(this.logTail(20))) throw error;
        this.metricsPort = 0;
      }
    }
  }

  private async startOnce(): Promise<void> {
    this.proc = ManagedProcess.start({
      name: `${this.name} addon-operator`,
      command: this.binary,
      // Flags, not env: v1.23.0 reads ADDON_OPERATOR_-prefixed variables for most settings
      // (e.g. ADDON_OPERATOR_MODULES_DIR), unlike its docs (MODULES_DIR); flags are unambiguous.
      args: [
        'start',
        `--kube-config=${this.kubeconfigPath}`,
        `--modules-dir=${this.dirs.modules}`,
        `--global-hooks-dir=${this.dirs.globalHooks}`,
        `--tmp-dir=${this.dirs.tmp}`,
        `--namespace=${OPERATOR_NAMESPACE}`,
        `--config-map=${OPERATOR_CONFIGMAP}`,
        '--prometheus-listen-address=127.0.0.1',
        `--prometheus-listen-port=${this.metricsPort}`,
        '--admission-server-enabled=false',
        `--debug-unix-socket=${join(this.workDir, 'operator-debug.socket')}`,
        '--log-type=json',
        '--log-level=info',
        '--helm-history-max=3',
      ],
      logFile: this.logFile,
      env: {
        // The embedded Helm reads its own kubeconfig variable.
        KUBECONFIG: this.kubeconfigPath,
        // The default refresh (what the convergence figures are about), whatever the caller's
        // environment says (inherited by the hook executable).
        [REFRESH_SECONDS_ENV]: undefined,
        // Helm's own cache/config/data: inside the run's directory, not the user's home.
        XDG_CACHE_HOME: join(this.dirs.helm, 'cache'),
        XDG_CONFIG_HOME: join(this.dirs.helm, 'config'),
        XDG_DATA_HOME: join(this.dirs.helm, 'data'),
      },
    });
    this.starts++;
    const proc = this.proc;
    await pollUntil(
      async () => {
        const res = await httpGet(`http://127.0.0.1:${this.metricsPort}/metrics`);
        return res.status === 200 ? true : undefined;
      },
      {
        what: `${this.name} addon-operator serving /metrics on 127.0.0.1:${this.metricsPort}`,
        timeoutMs: 60_000,
        abortIf: () => (proc.alive ? undefined : proc.describeExit()),
        describe: () => proc.logTail(30),
      },
    );
  }

  async stop(): Promise<void> {
    await this.proc?.stop(20_000);
  }

  describeExit(): string | undefined {
    return this.proc && !this.proc.alive ? this.proc.describeExit() : undefined;
  }

  /** Metrics that hooks report: served apart from the operator's own, on /metrics/hooks. */
  async hookMetrics(): Promise<string> {
    const res = await httpGet(`http://127.0.0.1:${this.metricsPort}/metrics/hooks`);
    if (res.status !== 200) throw new Error(`GET /metrics/hooks: HTTP ${res.status}`);
    return res.body;
  }

  logTail(lines = 40): string {
    return this.proc?.logTail(lines) ?? '(addon-operator not started)';
  }

  /** How many log lines (across restarts: the log is appended) carry this message. */
  countLogMessages(msg: string): number {
    try {
      const needle = `"msg":${JSON.stringify(msg)}`;
      return readFileSync(this.logFile, 'utf8')
        .split('\n')
        .filter((line) => line.includes(needle)).length;
    } catch {
      return 0;
    }
  }
}

export interface MetricSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Prometheus text format, just enough for assertions: `name{a="b",...} value`. */
export function parseMetrics(text: string): MetricSample[] {
  const samples: MetricSample[] = [];
  const line = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/;
  const label = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;
  for (const raw of text.split('\n')) {
    if (raw.startsWith('#')) continue;
    const m = line.exec(raw);
    if (!m?.[1] || m[3] === undefined) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(label))
      if (l[1]) labels[l[1]] = (l[2] ?? '').replace(/\\(.)/g, '$1');
    samples.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return samples;
}
