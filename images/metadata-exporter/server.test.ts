// In-process checks of the server's request lifecycle (under Node): graceful shutdown with
// a request held in flight, the forced cut-off, and internal errors without stack traces.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Gauge } from 'prom-client';
import { Logger } from '../../lib/hook-sdk/logger';
import { ExporterMetrics } from './metrics';
import type { RenderedDocuments } from './rendered-documents';
import {
  createExporterServer,
  DEFAULT_LIMITS,
  excessiveTokenLifetime,
  type ExporterHttpServer,
} from './server';

interface Started {
  exporter: ExporterHttpServer;
  port: number;
  logLines: string[];
  /** Opens a gate that holds every /metrics request in flight until released. */
  release: () => void;
  requestArrived: Promise<void>;
}

async function start(documents: () => RenderedDocuments | undefined = () => undefined): Promise<Started> {
  const logLines: string[] = [];
  const metrics = new ExporterMetrics({ processMetrics: false });
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  new Gauge({
    name: 'test_gate',
    help: 'holds /metrics until the test releases it',
    registers: [metrics.registry],
    async collect() {
      await gate;
    },
  });
  const exporter = createExporterServer({
    documents,
    privateDocuments: ['federation'],
    metrics,
    logger: new Logger((line) => logLines.push(line)),
    limits: DEFAULT_LIMITS,
  });
  const requestArrived = new Promise<void>((resolve) => exporter.server.once('request', () => resolve()));
  await new Promise<void>((resolve) => exporter.server.listen(0, '127.0.0.1', resolve));
  return {
    exporter,
    port: (exporter.server.address() as AddressInfo).port,
    logLines,
    release,
    requestArrived,
  };
}

function get(
  port: number,
  path: string,
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path, agent: new http.Agent({ keepAlive: true }) }, (res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      })
      .on('error', reject);
  });
}

test('shutdown lets an in-flight request finish and asks its client to close', async () => {
  const { exporter, port, release, requestArrived } = await start();
  const response = get(port, '/metrics');
  await requestArrived;
  const shutdown = exporter.shutdown(10_000);
  release();
  const res = await response;
  expect(res.status).toBe(200);
  expect(res.body).toContain('test_gate');
  expect(res.headers.connection).toBe('close');
  expect(await shutdown).toBe('clean');
  expect(exporter.server.listening).toBe(false);
});

test('shutdown cuts a request that outlives the bound', async () => {
  const { exporter, port, release, requestArrived } = await start();
  const response = get(port, '/metrics');
  await requestArrived;
  expect(await exporter.shutdown(50)).toBe('forced');
  await expect(response).rejects.toThrow();
  release();
});

test('an internal error is a 500 with a short body; the log has the message, no stack', async () => {
  const { exporter, port, logLines, release } = await start(() => {
    throw new Error('boom in documents');
  });
  release();
  const res = await get(port, '/metadata/public/public.json');
  expect(res.status).toBe(500);
  expect(JSON.parse(res.body)).toStrictEqual({ error: 'internal error' });
  const record = JSON.parse(logLines.find((l) => l.includes('request failed'))!) as Record<string, unknown>;
  expect(record).toMatchObject({ level: 'error', route: 'public', error: 'boom in documents' });
  expect(logLines.join('\n')).not.toMatch(/\n\s+at /);
  await exporter.shutdown(1000);
});

describe('excessiveTokenLifetime', () => {
  const at = new Date('2026-01-01T00:00:00Z');
  const nowSeconds = at.getTime() / 1000;
  test.each([
    [nowSeconds + 60, undefined],
    [nowSeconds + 300, undefined],
    [nowSeconds - 10, undefined],
    [nowSeconds + 301, 301],
    [nowSeconds + 86400, 86400],
    ['soon', undefined],
  ])('exp %s -> %s', (exp, expected) => {
    expect(excessiveTokenLifetime(exp, at)).toBe(expected);
  });
});
