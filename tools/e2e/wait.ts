import { createServer } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';

/** A port the kernel considers free on 127.0.0.1 right now (callers retry on a bind race). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0, exclusive: true }, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port ? resolve(port) : reject(new Error('no port assigned'))));
    });
  });
}

/** Whether a process log says its listening port was taken meanwhile (freePort is check-then-use). */
export function lostBindRace(log: string): boolean {
  return /address already in use|EADDRINUSE/i.test(log);
}

export class WaitTimeout extends Error {}

export interface PollOptions {
  /** What is awaited, for the failure message. */
  what: string;
  timeoutMs: number;
  intervalMs?: number;
  /** Extra text for the failure message (object status, log tails), computed only on failure. */
  describe?: () => Promise<string> | string;
  /** Checked on every round: a reason to give up early (e.g. a process died). */
  abortIf?: () => string | undefined;
}

/**
 * Polls `probe` until it returns a value other than undefined: a bounded loop of API or
 * HTTP reads, never a blind sleep. Errors thrown by the probe count as "not yet" and the
 * last one is reported on timeout.
 */
export async function pollUntil<T>(probe: () => Promise<T | undefined>, options: PollOptions): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  const interval = options.intervalMs ?? 500;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
      lastError = undefined;
    } catch (error) {
      lastError = error;
    }
    const abort = options.abortIf?.();
    if (abort) throw new WaitTimeout(`${options.what}: gave up: ${abort}${await details(options)}`);
    if (Date.now() >= deadline) {
      const last = lastError instanceof Error ? `\nlast error: ${lastError.message}` : '';
      throw new WaitTimeout(
        `${options.what}: not reached within ${Math.round(options.timeoutMs / 1000)} s${last}${await details(options)}`,
      );
    }
    await delay(Math.min(interval, Math.max(0, deadline - Date.now())));
  }
}

async function details(options: PollOptions): Promise<string> {
  if (!options.describe) return '';
  try {
    return `\n${await options.describe()}`;
  } catch (error) {
    return `\n(could not describe: ${error instanceof Error ? error.message : String(error)})`;
  }
}
