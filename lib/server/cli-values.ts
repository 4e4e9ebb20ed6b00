import { InvalidArgumentError } from 'commander';

/** Option values our server executables (metadata exporter, api-proxy) share. */

export interface ListenAddress {
  /** Undefined: every interface. */
  host: string | undefined;
  port: number;
}

/** `host:port`, `:port` or `[ipv6]:port`. */
export function parseListenAddress(value: string): ListenAddress {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(value);
  const port = match ? Number(match[3]) : NaN;
  if (!match || port > 65535) throw new InvalidArgumentError('expected host:port, :port or [ipv6]:port');
  const host = match[1] ?? match[2];
  return { host: host === '' ? undefined : host, port };
}

export function positiveSeconds(value: string): number {
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed <= 0)
    throw new InvalidArgumentError('expected a positive number of seconds');
  return parsed;
}

export const milliseconds = (seconds: number): number => Math.round(seconds * 1000);

export function positiveInteger(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed <= 0) throw new InvalidArgumentError('expected a positive integer');
  return parsed;
}
