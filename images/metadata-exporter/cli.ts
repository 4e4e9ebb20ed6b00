import { Command, InvalidArgumentError, Option } from 'commander';
import { DEFAULT_LIMITS, type ServerLimits } from './server';

export interface ListenAddress {
  /** Undefined: every interface. */
  host: string | undefined;
  port: number;
}

export interface ExporterConfig {
  documentsDir: string;
  listen: ListenAddress;
  tls?: { certFile: string; keyFile: string };
  reloadIntervalMs: number;
  shutdownTimeoutMs: number;
  limits: ServerLimits;
}

/** `host:port`, `:port` or `[ipv6]:port`. */
export function parseListenAddress(value: string): ListenAddress {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(value);
  const port = match ? Number(match[3]) : NaN;
  if (!match || port > 65535) throw new InvalidArgumentError('expected host:port, :port or [ipv6]:port');
  const host = match[1] ?? match[2];
  return { host: host === '' ? undefined : host, port };
}

function positiveSeconds(value: string): number {
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed <= 0)
    throw new InvalidArgumentError('expected a positive number of seconds');
  return parsed;
}

const milliseconds = (seconds: number): number => Math.round(seconds * 1000);

function positiveInteger(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed <= 0) throw new InvalidArgumentError('expected a positive integer');
  return parsed;
}

interface RawOptions {
  documentsDir: string;
  listen: ListenAddress;
  tlsCert?: string;
  tlsKey?: string;
  reloadInterval: number;
  shutdownTimeout: number;
  headerTimeout: number;
  requestTimeout: number;
  keepAliveTimeout: number;
  maxHeaderSize: number;
  maxConnections: number;
}

/** Parses the command line; commander prints usage and exits on errors. */
export function parseCommandLine(argv: readonly string[]): ExporterConfig {
  const program = new Command('metadata-exporter')
    .description("Serves this cluster's Istio federation metadata to federated clusters.")
    .requiredOption(
      '--documents-dir <dir>',
      'directory with public.json, federation.json, remote-public-metadata.json',
    )
    .addOption(
      new Option('--listen <address>', 'host:port to listen on')
        .argParser(parseListenAddress)
        .default(parseListenAddress(':8080'), ':8080'),
    )
    .option('--tls-cert <file>', 'serve HTTPS with this certificate chain (PEM)')
    .option('--tls-key <file>', 'private key of --tls-cert (PEM)')
    .option('--reload-interval <seconds>', 'how often the documents directory is checked', positiveSeconds, 5)
    .option('--shutdown-timeout <seconds>', 'bound for in-flight requests on SIGTERM', positiveSeconds, 10)
    .option(
      '--header-timeout <seconds>',
      'time to receive a complete request head',
      positiveSeconds,
      DEFAULT_LIMITS.headerTimeoutMs / 1000,
    )
    .option(
      '--request-timeout <seconds>',
      'time to answer a request',
      positiveSeconds,
      DEFAULT_LIMITS.requestTimeoutMs / 1000,
    )
    .option(
      '--keep-alive-timeout <seconds>',
      'idle keep-alive time until the next complete request head',
      positiveSeconds,
      DEFAULT_LIMITS.keepAliveTimeoutMs / 1000,
    )
    .option(
      '--max-header-size <bytes>',
      'largest accepted request head',
      positiveInteger,
      DEFAULT_LIMITS.maxHeaderBytes,
    )
    .option(
      '--max-connections <n>',
      'concurrent connections; more are refused',
      positiveInteger,
      DEFAULT_LIMITS.maxConnections,
    )
    .allowExcessArguments(false)
    .parse(argv as string[], { from: 'user' });
  const options = program.opts<RawOptions>();
  if ((options.tlsCert === undefined) !== (options.tlsKey === undefined)) {
    program.error('--tls-cert and --tls-key go together');
  }
  return {
    documentsDir: options.documentsDir,
    listen: options.listen,
    ...(options.tlsCert && options.tlsKey
      ? { tls: { certFile: options.tlsCert, keyFile: options.tlsKey } }
      : {}),
    reloadIntervalMs: milliseconds(options.reloadInterval),
    shutdownTimeoutMs: milliseconds(options.shutdownTimeout),
    limits: {
      headerTimeoutMs: milliseconds(options.headerTimeout),
      requestTimeoutMs: milliseconds(options.requestTimeout),
      keepAliveTimeoutMs: milliseconds(options.keepAliveTimeout),
      maxHeaderBytes: options.maxHeaderSize,
      maxConnections: options.maxConnections,
    },
  };
}
