// Builds (or finds in the cache) the real upstream tools the tests drive, once per jest run.
// Environment set here is inherited by the test workers.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const root = join(__dirname, '..');

function upstreamTool(envName: string, script: string): void {
  if (process.env[envName]) return;
  // A first build takes minutes (progress on stderr); a stalled download must not hang CI.
  const output = execFileSync('bash', [join(root, 'tools', 'upstream', script)], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    timeout: 30 * 60 * 1000,
  });
  const path = output.trim().split('\n').pop() ?? '';
  if (!existsSync(path)) throw new Error(`${script} did not produce a binary (got ${JSON.stringify(path)})`);
  process.env[envName] = path;
}

export default function globalSetup(): void {
  upstreamTool('GOJQ_BIN', 'gojq.sh');
  upstreamTool('HELM_BIN', 'helm.sh');
  upstreamTool('PROMTOOL_BIN', 'promtool.sh');
  process.env.HOOK_BINARY ??= join(root, 'dist', 'module', 'hooks', 'batch', 'istio-federation');
}
