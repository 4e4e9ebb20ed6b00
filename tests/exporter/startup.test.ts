// Start-up failures of the compiled exporter: bad command lines and unreadable TLS files
// end the process with a non-zero code and a readable reason, before it listens.
import { spawnSync } from 'node:child_process';
import { EXPORTER_BINARY } from './exporter-process';

function run(args: string[]) {
  return spawnSync(EXPORTER_BINARY, args, { encoding: 'utf8', timeout: 15_000 });
}

test('a document source is required', () => {
  const result = run([]);
  expect(result.status).toBe(1);
  expect(result.stderr).toContain('exactly one of --documents-dir and --documents-secret is required');
  expect(result.stdout).not.toContain('listening');
});

test.each([
  [['--listen', '8080'], 'expected host:port'],
  [['--reload-interval', '0'], 'expected a positive number of seconds'],
  [['--max-connections', '1.5'], 'expected a positive integer'],
  [['--tls-cert', '/x'], '--tls-cert and --tls-key go together'],
])('%j is refused', (args, message) => {
  const result = run(['--documents-dir', '/nonexistent', ...args]);
  expect(result.status).toBe(1);
  expect(result.stderr).toContain(message);
});

test('an unreadable TLS file is a JSON "failed to start" line and exit 1', () => {
  const result = run([
    '--documents-dir',
    '/nonexistent',
    '--tls-cert',
    '/nonexistent/c',
    '--tls-key',
    '/nonexistent/k',
  ]);
  expect(result.status).toBe(1);
  const records = result.stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
  expect(records).toEqual([expect.objectContaining({ level: 'error', msg: 'failed to start' })]);
  expect(String(records[0]!.error)).toContain('ENOENT');
});
