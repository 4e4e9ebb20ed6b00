// Connection-level hardening of the compiled exporter (Bun ignores Node's server timeouts,
// so these check the exporter's own bounds): slow clients, idle connections, oversized
// heads, connection caps and graceful shutdown.
import { chmodSync, copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXPORTER_BINARY, request, startExporter, type RunningExporter } from './exporter-process';
import { documentFiles, selfSignedRsa, testCluster, writeKubernetesSecretDir } from './fixtures';

const PUBLIC = '/metadata/public/public.json';
/** Client-side bound for "the server closes it": far above the configured 0.3 s. */
const CLIENT_PATIENCE_MS = 15_000;
/**
 * Below Bun's own ~10 s idle cut-off, so that only the exporter's bound (0.3 s here) can
 * close the connection in time; still more than 10x the configured bound.
 */
const BELOW_BUN_IDLE_CUTOFF_MS = 5_000;

let dir: string;
const exporters: RunningExporter[] = [];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'exporter-hardening-'));
  const local = testCluster('cluster-local.test');
  writeKubernetesSecretDir(dir, documentFiles(local, { ingressGateways: [], publicServices: [] }, []));
});

afterAll(async () => {
  await Promise.all(exporters.map((e) => e.stop()));
  rmSync(dir, { recursive: true, force: true });
});

async function started(args: string[]): Promise<RunningExporter> {
  const exporter = await startExporter(dir, args);
  exporters.push(exporter);
  await exporter.waitForLog((r) => r.msg === 'documents loaded');
  return exporter;
}

const SHORT_TIMEOUTS = ['--header-timeout', '0.3', '--keep-alive-timeout', '0.3', '--request-timeout', '1'];

interface Observed {
  closedByServer: boolean;
  received: string;
  linesSent: number;
}

/**
 * Opens a connection, optionally sends `first`, then trickles one header line every
 * `trickleMs` (up to `maxLines`) until the server closes the connection or the client's own
 * patience runs out.
 */
function observeConnection(
  port: number,
  first: string,
  trickleMs?: number,
  patienceMs = CLIENT_PATIENCE_MS,
  tlsCa?: string,
): Promise<Observed> {
  const maxLines = trickleMs === undefined ? 0 : Math.floor(patienceMs / trickleMs);
  return new Promise((resolve) => {
    let received = '';
    let linesSent = 0;
    let trickle: NodeJS.Timeout | undefined;
    const onConnected = () => {
      if (first) socket.write(first);
      if (trickleMs !== undefined) {
        trickle = setInterval(() => {
          if (linesSent >= maxLines) return;
          socket.write(`X-Slow-${linesSent++}: a\r\n`);
        }, trickleMs);
      }
    };
    const socket: Socket = tlsCa
      ? tlsConnect({ host: '127.0.0.1', port, ca: tlsCa }, onConnected)
      : connect(port, '127.0.0.1', onConnected);
    const patience = setTimeout(() => finish(false), patienceMs);
    const finish = (closedByServer: boolean) => {
      clearInterval(trickle);
      clearTimeout(patience);
      socket.destroy();
      resolve({ closedByServer, received, linesSent });
    };
    socket.on('data', (chunk) => (received += chunk.toString()));
    socket.on('close', () => finish(true));
    socket.on('error', () => undefined);
  });
}

describe('with short timeouts', () => {
  let exporter: RunningExporter;
  beforeAll(async () => {
    exporter = await started([...SHORT_TIMEOUTS, '--max-header-size', '8192']);
  });

  test('slowloris: a request head trickled line by line is cut off', async () => {
    const observed = await observeConnection(
      exporter.port,
      `GET ${PUBLIC} HTTP/1.1\r\nHost: x\r\n`,
      50,
      BELOW_BUN_IDLE_CUTOFF_MS,
    );
    expect(observed.closedByServer).toBe(true);
    expect(observed.received).toBe('');
    // the client kept sending until the server hung up
    expect(observed.linesSent).toBeGreaterThan(0);
    expect(observed.linesSent).toBeLessThan(BELOW_BUN_IDLE_CUTOFF_MS / 50);
  });

  test('a connection that never sends anything is closed', async () => {
    const observed = await observeConnection(exporter.port, '', undefined, BELOW_BUN_IDLE_CUTOFF_MS);
    expect(observed).toMatchObject({ closedByServer: true, received: '' });
  });

  test('an idle keep-alive connection is closed after its response', async () => {
    const observed = await observeConnection(
      exporter.port,
      `GET ${PUBLIC} HTTP/1.1\r\nHost: x\r\n\r\n`,
      undefined,
      BELOW_BUN_IDLE_CUTOFF_MS,
    );
    expect(observed.closedByServer).toBe(true);
    expect(observed.received).toMatch(/^HTTP\/1\.1 200 /);
    expect(observed.received.toLowerCase()).not.toContain('connection: close');
  });

  test('a request head larger than --max-header-size gets 431', async () => {
    const big = await request(exporter.port, PUBLIC, { headers: { 'X-Big': 'a'.repeat(9000) } }).catch(
      (error: Error) => error,
    );
    expect(big).toMatchObject({ status: 431 });
    const fits = await request(exporter.port, PUBLIC, { headers: { 'X-Big': 'a'.repeat(6000) } });
    expect(fits.status).toBe(200);
  });

  test('many headers adding up past the limit get 431', async () => {
    const headers = Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`X-H-${i}`, 'b'.repeat(60)]));
    expect((await request(exporter.port, PUBLIC, { headers })).status).toBe(431);
  });
});

test('over TLS, a trickled request head is cut off too', async () => {
  const serving = selfSignedRsa('127.0.0.1', 'server');
  writeFileSync(join(dir, '..tls.crt'), serving.certPem);
  writeFileSync(join(dir, '..tls.key'), serving.keyPem);
  const exporter = await started([
    ...SHORT_TIMEOUTS,
    '--tls-cert',
    join(dir, '..tls.crt'),
    '--tls-key',
    join(dir, '..tls.key'),
  ]);
  expect((await request(exporter.port, PUBLIC, { ca: serving.certPem })).status).toBe(200);
  const observed = await observeConnection(
    exporter.port,
    `GET ${PUBLIC} HTTP/1.1\r\nHost: x\r\n`,
    50,
    BELOW_BUN_IDLE_CUTOFF_MS,
    serving.certPem,
  );
  expect(observed).toMatchObject({ closedByServer: true, received: '' });
  expect(observed.linesSent).toBeGreaterThan(0);
});

test('the default head limit is 16 KiB', async () => {
  const exporter = await started([]);
  expect((await request(exporter.port, PUBLIC, { headers: { 'X-Big': 'a'.repeat(15_000) } })).status).toBe(
    200,
  );
  expect((await request(exporter.port, PUBLIC, { headers: { 'X-Big': 'a'.repeat(17_000) } })).status).toBe(
    431,
  );
});

test('connections beyond --max-connections are refused, the server stays up', async () => {
  const exporter = await started(['--max-connections', '2']);
  const sockets: Socket[] = [];
  const outcomes = await Promise.all(
    Array.from(
      { length: 5 },
      () =>
        new Promise<'answered' | 'refused'>((resolve) => {
          const socket = connect(exporter.port, '127.0.0.1', () =>
            socket.write(`GET ${PUBLIC} HTTP/1.1\r\nHost: x\r\n\r\n`),
          );
          sockets.push(socket);
          socket.once('data', () => resolve('answered'));
          socket.once('close', () => resolve('refused'));
          socket.on('error', () => undefined);
        }),
    ),
  );
  expect(outcomes.filter((o) => o === 'answered').length).toBeLessThanOrEqual(2);
  expect(outcomes).toContain('refused');
  for (const socket of sockets) socket.destroy();
  // once the held connections are gone, new ones are served again
  const deadline = Date.now() + CLIENT_PATIENCE_MS;
  let status = 0;
  while (status !== 200 && Date.now() < deadline) {
    status = await request(exporter.port, PUBLIC).then(
      (r) => r.status,
      () => 0,
    );
  }
  expect(status).toBe(200);
});

/** A keep-alive connection that has had one response and now sits idle. */
async function idleKeepAliveConnection(
  port: number,
): Promise<{ received: () => string; closed: Promise<void> }> {
  const socket = connect(port, '127.0.0.1', () => socket.write(`GET ${PUBLIC} HTTP/1.1\r\nHost: x\r\n\r\n`));
  let data = '';
  socket.on('data', (chunk) => (data += chunk.toString()));
  socket.on('error', () => undefined);
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  await new Promise<void>((resolve) => socket.once('data', () => resolve()));
  return { received: () => data, closed };
}

test.each(['SIGTERM', 'SIGINT'] as const)(
  '%s: idle keep-alive connections are closed and the process exits 0',
  async (signal) => {
    const exporter = await started(['--keep-alive-timeout', '60']);
    const idle = await idleKeepAliveConnection(exporter.port);
    exporter.proc.kill(signal);
    expect(await exporter.exited).toEqual({ code: 0, signal: null });
    await idle.closed;
    expect(idle.received()).toMatch(/^HTTP\/1\.1 200 /);
    expect(exporter.logs.find((r) => r.msg === 'shutting down')).toMatchObject({ signal });
    expect(exporter.logs.at(-1)).toMatchObject({ msg: 'stopped', outcome: 'clean' });
    await expect(request(exporter.port, '/healthz')).rejects.toThrow();
  },
);

const runsAsRoot = process.getuid?.() === 0;
(runsAsRoot ? test : test.skip)('runs as an unprivileged user with nothing writable', async () => {
  // A copy outside the work tree, whose directories may not be open to other users.
  const home = mkdtempSync(join(tmpdir(), 'exporter-nobody-'));
  chmodSync(home, 0o755);
  chmodSync(dir, 0o755);
  const binary = join(home, 'metadata-exporter');
  copyFileSync(EXPORTER_BINARY, binary);
  chmodSync(binary, 0o755);
  const exporter = await startExporter(dir, [], {
    binary,
    uid: 65534,
    gid: 65534,
    cwd: '/',
    env: { PATH: '/usr/bin:/bin', TMPDIR: '/nonexistent' },
  });
  exporters.push(exporter);
  await exporter.waitForLog((r) => r.msg === 'documents loaded');
  expect((await request(exporter.port, PUBLIC)).status).toBe(200);
  expect(exporter.logs.filter((r) => r.level !== 'info')).toStrictEqual([]);
  await exporter.stop();
  rmSync(home, { recursive: true, force: true });
});
