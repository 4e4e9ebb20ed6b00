// The `check` command of the compiled hook executable, without a cluster: usage, argument
// errors and an unreachable API server (the e2e test runs it against real clusters).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hookBinary } from '../support/module';
import { closedPort } from '../support/closed-port';

const run = (args: string[], env: Record<string, string> = {}) => {
  const p = spawnSync(hookBinary(), args, { env, encoding: 'utf8', timeout: 30_000 });
  return { code: p.status, stdout: p.stdout, stderr: p.stderr };
};

describe('istio-federation check (compiled)', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'check-binary-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('--help describes the command and its token subcommand; exit 0', () => {
    const r = run(['check', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Usage: istio-federation check [options] [command]');
    expect(r.stdout).toContain('--connect-to <HOST:PORT:HOST2:PORT2>');
    expect(r.stdout).toMatch(/token \[options\]/);
  });

  test('usage errors exit 2 with the reason', () => {
    expect(run(['check', '--connect-to', 'nonsense'])).toMatchObject({ code: 2 });
    expect(run(['check', '--connect-to', 'nonsense']).stderr).toContain('expected HOST:PORT:HOST2:PORT2');
    expect(run(['check', 'token'])).toMatchObject({ code: 2 });
    const missing = run(['check', '--kubeconfig', join(dir, 'absent')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('absent');
  });

  test('an unreachable API server: one FAIL line with a hint, exit 1', async () => {
    const port = await closedPort();
    const kubeconfig = join(dir, 'kubeconfig');
    writeFileSync(
      kubeconfig,
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [
          { name: 'c', cluster: { server: `https://127.0.0.1:${port}`, 'insecure-skip-tls-verify': true } },
        ],
        users: [{ name: 'u', user: { token: 'x' } }],
        contexts: [{ name: 'ctx', context: { cluster: 'c', user: 'u' } }],
        'current-context': 'ctx',
      }),
    );
    const r = run(['check'], { KUBECONFIG: kubeconfig });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`[FAIL] API server https://127.0.0.1:${port} reachable`);
    expect(r.stdout).toContain('hint: check --kubeconfig / --context');
    expect(r.stdout).toContain('0 passed, 1 failed');
  });

  test('the hook commands are unchanged beside it', () => {
    expect(run(['hook', 'list']).stdout).toMatch(/^Found \d+ items:/);
  });
});
