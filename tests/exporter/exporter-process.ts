// Runs the compiled exporter executable and talks to it over real loopback HTTP(S).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

export const EXPORTER_BINARY =
  process.env.EXPORTER_BINARY ?? join(__dirname, '..', '..', 'dist', 'bin', 'metadata-exporter');

export type LogRecord = Record<string, unknown> & { level: string; msg: string };

const START_DEADLINE_MS = 15_000;
const LOG_DEADLINE_MS = 10_000;

interface Waiter {
  predicate: (record: LogRecord) => boolean;
  resolve: (record: LogRecord) => void;
}

export class RunningExporter {
  readonly logs: LogRecord[] = [];
  /** Everything the process wrote, for asserting that secrets never reach the logs. */
  rawOutput = '';
  port = 0;
  private waiters: Waiter[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(readonly proc: ChildProcess) {
    this.exited = new Promise((resolve) => proc.once('exit', (code, signal) => resolve({ code, signal })));
    proc.stderr!.on('data', (chunk: Buffer) => (this.rawOutput += chunk.toString()));
    createInterface({ input: proc.stdout! }).on('line', (line) => {
      this.rawOutput += line + '\n';
      let record: LogRecord;
      try {
        record = JSON.parse(line) as LogRecord;
      } catch {
        record = { level: 'unstructured', msg: line };
      }
      this.logs.push(record);
      this.waiters = this.waiters.filter((waiter) => {
        if (!waiter.predicate(record)) return true;
        waiter.resolve(record);
        return false;
      });
    });
  }

  /** Resolves with the first log record (already seen or future) that matches. */
  waitForLog(
    predicate: (record: LogRecord) => boolean,
    deadlineMs = LOG_DEADLINE_MS,
    fromIndex = 0,
  ): Promise<LogRecord> {
    const seen = this.logs.slice(fromIndex).find(predicate);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(
          new Error(`no matching log line within ${deadlineMs} ms; output:\n${this.rawOutput.slice(-4000)}`),
        );
      }, deadlineMs);
      const waiter: Waiter = {
        predicate,
        resolve: (record) => {
          clearTimeout(timer);
          resolve(record);
        },
      };
      this.waiters.push(waiter);
      void this.exited.then(() => {
        if (!this.waiters.includes(waiter)) return;
        clearTimeout(timer);
        reject(new Error(`exporter exited; output:\n${this.rawOutput.slice(-4000)}`));
      });
    });
  }

  async stop(): Promise<void> {
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill('SIGKILL');
    await this.exited;
  }
}

export interface SpawnOptions {
  binary?: string;
  uid?: number;
  gid?: number;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

/** Starts the executable on 127.0.0.1 (port 0 unless given) and waits for its "listening" line. */
export async function startExporter(
  documentsDir: string,
  extraArgs: string[] = [],
  { binary = EXPORTER_BINARY, ...spawnOptions }: SpawnOptions = {},
): Promise<RunningExporter> {
  return startExporterWithArgs(['--documents-dir', documentsDir, ...extraArgs], { binary, ...spawnOptions });
}

/** As startExporter, with the document source given in `sourceArgs` (e.g. --documents-secret). */
export async function startExporterWithArgs(
  sourceArgs: string[],
  { binary = EXPORTER_BINARY, ...spawnOptions }: SpawnOptions = {},
): Promise<RunningExporter> {
  if (!existsSync(binary)) throw new Error(`${binary} is missing: run \`npm run build\` first`);
  const args = [...sourceArgs, '--listen', '127.0.0.1:0'];
  const exporter = new RunningExporter(
    spawn(binary, args, { ...spawnOptions, stdio: ['ignore', 'pipe', 'pipe'] }),
  );
  const listening = await exporter.waitForLog((r) => r.msg === 'listening', START_DEADLINE_MS);
  expect(exporter.logs[0]).toBe(listening);
  exporter.port = listening.port as number;
  return exporter;
}

export interface Response {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export interface RequestOptions {
  method?: string;
  headers?: Record<string, string>;
  /** Set to talk HTTPS, trusting this CA. */
  ca?: string;
}

/** One request; the path is sent verbatim (no normalisation of `..`, `//` or escapes). */
export function request(port: number, path: string, options: RequestOptions = {}): Promise<Response> {
  return new Promise((resolve, reject) => {
    const common = {
      host: '127.0.0.1',
      port,
      path,
      method: options.method ?? 'GET',
      headers: options.headers ?? {},
      agent: false as const,
      timeout: 10_000,
    };
    const onResponse = (res: http.IncomingMessage): void => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on('error', reject);
    };
    const req = options.ca
      ? https.request({ ...common, ca: options.ca }, onResponse)
      : http.request(common, onResponse);
    req.on('timeout', () => req.destroy(new Error('client timeout')));
    req.on('error', reject);
    req.end();
  });
}
