import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Every process the harness starts runs in its own process group (detached) with its
 * output in a log file, and is registered here so that teardown, SIGINT/SIGTERM and
 * process exit stop the whole group: nothing is left behind even when a test fails.
 */

export interface StartOptions {
  name: string;
  command: string;
  args: readonly string[];
  logFile: string;
  env?: Record<string, string | undefined>;
  cwd?: string;
}

/** Children never go through a proxy: all their traffic is to 127.0.0.1. */
const NO_PROXY_ENV: Record<string, string | undefined> = {
  HTTP_PROXY: undefined,
  HTTPS_PROXY: undefined,
  http_proxy: undefined,
  https_proxy: undefined,
  ALL_PROXY: undefined,
  all_proxy: undefined,
  NO_PROXY: '127.0.0.1,localhost',
  no_proxy: '127.0.0.1,localhost',
};

function childEnv(extra: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const [key, value] of Object.entries({ ...NO_PROXY_ENV, ...extra })) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  return env;
}

export class ManagedProcess {
  private exitCode: number | null | undefined;
  private exitSignal: NodeJS.Signals | null = null;
  private readonly exited: Promise<void>;

  private constructor(
    readonly name: string,
    readonly logFile: string,
    private readonly child: ChildProcess,
  ) {
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.exitCode = code;
        this.exitSignal = signal;
        resolve();
      });
      child.once('error', () => {
        this.exitCode = this.exitCode ?? -1;
        resolve();
      });
    });
  }

  static start(options: StartOptions): ManagedProcess {
    const fd = openSync(options.logFile, 'a');
    try {
      const child = spawn(options.command, [...options.args], {
        cwd: options.cwd,
        env: childEnv(options.env ?? {}),
        detached: true,
        stdio: ['ignore', fd, fd],
      });
      const managed = new ManagedProcess(options.name, options.logFile, child);
      running.add(managed);
      installExitHandlers();
      recordGroups();
      return managed;
    } finally {
      closeSync(fd);
    }
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get alive(): boolean {
    return this.exitCode === undefined;
  }

  describeExit(): string {
    if (this.alive) return `${this.name} is running`;
    return `${this.name} exited (code ${String(this.exitCode)}, signal ${String(this.exitSignal)})`;
  }

  /** The last lines of the log (for failure messages). */
  logTail(lines = 40): string {
    try {
      const text = readFileSync(this.logFile, 'utf8');
      return text
        .split('\n')
        .slice(-lines - 1)
        .join('\n');
    } catch {
      return '(no log)';
    }
  }

  private signalGroup(signal: NodeJS.Signals): void {
    const pid = this.child.pid;
    if (pid === undefined) return;
    try {
      process.kill(-pid, signal);
    } catch {
      // The group is gone already.
    }
  }

  /** SIGTERM to the group, SIGKILL after `graceMs`; resolves once the leader has exited. */
  async stop(graceMs = 10_000): Promise<void> {
    if (this.alive) {
      this.signalGroup('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      const graceOver = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), graceMs);
      });
      const result = await Promise.race([this.exited.then(() => 'exited' as const), graceOver]);
      clearTimeout(timer);
      if (result === 'timeout') {
        this.signalGroup('SIGKILL');
        await this.exited;
      }
    }
    // Helpers the leader started may outlive it: the group gets a final SIGKILL.
    this.signalGroup('SIGKILL');
    running.delete(this);
    recordGroups();
  }

  /** Synchronous last resort (process exit): kill the group without waiting. */
  killNow(): void {
    this.signalGroup('SIGKILL');
    running.delete(this);
  }
}

const running = new Set<ManagedProcess>();
let handlersInstalled = false;

function installExitHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.once('exit', killAllNow);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      killAllNow();
      process.exit(signal === 'SIGINT' ? 130 : 143);
    });
  }
}

/** Directories to delete when the process is interrupted (normal teardown removes them itself). */
const directoriesToRemoveOnInterrupt = new Set<string>();

export function removeOnInterrupt(dir: string, enabled = true): void {
  if (enabled) directoriesToRemoveOnInterrupt.add(dir);
  else directoriesToRemoveOnInterrupt.delete(dir);
}

export function killAllNow(): void {
  for (const p of [...running]) p.killNow();
  for (const dir of directoriesToRemoveOnInterrupt) rmSync(dir, { recursive: true, force: true });
  directoriesToRemoveOnInterrupt.clear();
}

/** Stops every process still registered (newest first: dependants before what they depend on). */
export async function stopAll(): Promise<void> {
  for (const p of [...running].reverse()) await p.stop();
  stopReaper();
}

/**
 * Signal handlers cannot help when this process is killed hard (SIGKILL, or a test runner
 * that exits without 'exit' handlers reaching our sandbox). A detached watchdog shell
 * polls this process and, once it is gone, kills every process group still listed in its
 * file; it exits right after. stopAll() ends it when nothing is left to guard.
 */
let reaper: { file: string; pid: number | undefined } | undefined;

const REAPER_SCRIPT = `
while kill -0 "$2" 2>/dev/null; do sleep 1; done
if [ -f "$1" ]; then
  while read -r group; do [ -n "$group" ] && kill -KILL -- "-$group" 2>/dev/null; done < "$1"
  rm -f "$1"
fi`;

function recordGroups(): void {
  if (!reaper && running.size === 0) return;
  if (!reaper) {
    const file = join(tmpdir(), `istio-federation-e2e-groups-${process.pid}`);
    writeFileSync(file, '');
    const child = spawn('bash', ['-c', REAPER_SCRIPT, 'e2e-reaper', file, String(process.pid)], {
      detached: true,
      stdio: 'ignore',
    });
    child.unref();
    reaper = { file, pid: child.pid };
  }
  const groups = [...running].map((p) => p.pid).filter((pid): pid is number => pid !== undefined);
  writeFileSync(reaper.file, groups.map((g) => `${g}\n`).join(''));
}

function stopReaper(): void {
  if (!reaper) return;
  if (running.size) return;
  try {
    if (reaper.pid !== undefined) process.kill(-reaper.pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
  rmSync(reaper.file, { force: true });
  reaper = undefined;
}

export function runningProcesses(): readonly ManagedProcess[] {
  return [...running];
}
