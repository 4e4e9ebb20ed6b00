import type { ConnectTo } from './run';

/** Argument parsers of `check` (kept apart from cli.ts, which loads @kubernetes/client-node). */

const TARGET = /^(\[[^\]]+\]|[^:[\]]+):(\d{1,5})$/;

function parseHostPort(text: string): { address: string; port: number } | undefined {
  const m = TARGET.exec(text);
  if (!m) return undefined;
  const port = Number(m[2]);
  if (port < 1 || port > 65535) return undefined;
  return { address: m[1]!.replace(/^\[|\]$/g, ''), port };
}

/** curl's `--connect-to HOST1:PORT1:HOST2:PORT2` (IPv6 in brackets). Exported for tests. */
export function parseConnectTo(value: string, previous: ConnectTo[] = []): ConnectTo[] {
  const m = /^((?:\[[^\]]+\]|[^:[\]]+):\d{1,5}):(.+)$/.exec(value);
  const from = m ? parseHostPort(m[1]!) : undefined;
  const to = m ? parseHostPort(m[2]!) : undefined;
  if (!from || !to) throw new Error(`--connect-to ${value}: expected HOST:PORT:HOST2:PORT2`);
  return [...previous, { from, to }];
}
