import { spawn } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

/**
 * The executables the end-to-end clusters run: upstream tools built (once, cached outside
 * the repository) by tools/upstream/*.sh, and our own build output in dist/.
 */

export const REPO_ROOT = resolve(__dirname, '..', '..');
export const MODULE_DIR = join(REPO_ROOT, 'dist', 'module');
export const HOOK_BINARY = join(MODULE_DIR, 'hooks', 'batch', 'istio-federation');
export const EXPORTER_BINARY = join(REPO_ROOT, 'dist', 'bin', 'metadata-exporter');
export const API_PROXY_BINARY = join(REPO_ROOT, 'dist', 'bin', 'api-proxy');

export interface UpstreamTools {
  etcd: string;
  kubeApiserver: string;
  addonOperator: string;
  /** pilot-discovery (tools/upstream/istiod.sh). */
  istiod: string;
  /** Our xDS test client (tools/xds-client, built by tools/upstream/xds-client.sh). */
  xdsClient: string;
}

const SCRIPTS: Record<keyof UpstreamTools, { script: string; env: string }> = {
  etcd: { script: 'etcd.sh', env: 'ETCD' },
  kubeApiserver: { script: 'kube-apiserver.sh', env: 'KUBE_APISERVER' },
  addonOperator: { script: 'addon-operator.sh', env: 'ADDON_OPERATOR' },
  istiod: { script: 'istiod.sh', env: 'ISTIOD' },
  xdsClient: { script: 'xds-client.sh', env: 'XDS_CLIENT' },
};

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Runs one tools/upstream script (its progress goes to our stderr); its last stdout line is the binary. */
function runUpstreamScript(script: string, log: (line: string) => void): Promise<string> {
  return new Promise((resolvePath, reject) => {
    const child = spawn('bash', [join(REPO_ROOT, 'tools', 'upstream', script)], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, PATH: `${process.env.PATH ?? ''}:/usr/local/go/bin` },
    });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.once('error', reject);
    child.once('exit', (code) => {
      const path = stdout.trim().split('\n').pop() ?? '';
      if (code === 0 && isExecutable(path)) {
        log(`${script}: ${path}`);
        resolvePath(path);
      } else
        reject(new Error(`tools/upstream/${script} failed (exit ${String(code)}); see its output above`));
    });
  });
}

/**
 * Finds (or builds, the first time: minutes, with progress) etcd, kube-apiserver,
 * addon-operator, istiod and the xDS client. Sequential on purpose: each Go build already
 * uses every core. Environment variables ETCD / KUBE_APISERVER / ADDON_OPERATOR / ISTIOD /
 * XDS_CLIENT override.
 */
let upstreamTools: Promise<UpstreamTools> | undefined;

export function ensureUpstreamTools(log: (line: string) => void): Promise<UpstreamTools> {
  upstreamTools ??= findOrBuildUpstreamTools(log);
  return upstreamTools;
}

async function findOrBuildUpstreamTools(log: (line: string) => void): Promise<UpstreamTools> {
  const result: Partial<UpstreamTools> = {};
  for (const key of Object.keys(SCRIPTS) as (keyof UpstreamTools)[]) {
    const { script, env } = SCRIPTS[key];
    const preset = process.env[env];
    result[key] = preset && isExecutable(preset) ? preset : await runUpstreamScript(script, log);
  }
  return result as UpstreamTools;
}

/** Our build output; `npm run build` (or the demo) produces it. */
export function missingBuildOutputs(): string[] {
  return [HOOK_BINARY, EXPORTER_BINARY, API_PROXY_BINARY, join(MODULE_DIR, 'module.yaml')].filter(
    (p) => !existsSync(p),
  );
}

/** Runs `bun tools/build.ts` (the `npm run build` script) with the Bun of this checkout. */
export function buildModule(log: (line: string) => void): Promise<void> {
  const bun = process.versions.bun ? process.execPath : join(REPO_ROOT, 'node_modules', '.bin', 'bun');
  log('building dist/ (bun tools/build.ts)');
  return new Promise((resolveBuild, reject) => {
    const child = spawn(bun, ['tools/build.ts'], { cwd: REPO_ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0 ? resolveBuild() : reject(new Error(`bun tools/build.ts failed (exit ${String(code)})`)),
    );
  });
}
