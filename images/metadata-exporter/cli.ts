import { Command, InvalidArgumentError, Option } from 'commander';
import { PRIVATE_DOCUMENTS, type PrivateDocumentKind } from './document-set';
import { parseSecretRef, type SecretRef } from './secret-documents';
import {
  milliseconds,
  parseListenAddress,
  positiveInteger,
  positiveSeconds,
  type ListenAddress,
} from '../../lib/server/cli-values';
import { DEFAULT_LIMITS, type ServerLimits } from './server';

export { parseListenAddress, type ListenAddress } from '../../lib/server/cli-values';

export interface ExporterConfig {
  /** Exactly one of documentsDir (a mounted Secret, polled) and documentsSecret (watched). */
  documentsDir?: string;
  documentsSecret?: SecretRef;
  /** With documentsSecret: a kubeconfig file instead of the in-cluster service account. */
  kubeconfig?: string;
  /** With documentsSecret: each watch asks the API server to end it after this long; it is then resumed. */
  watchTimeoutSeconds?: number;
  /** The private documents served (each read with its allow-list); the others are 404. */
  privateDocuments: PrivateDocumentKind[];
  listen: ListenAddress;
  tls?: { certFile: string; keyFile: string };
  reloadIntervalMs: number;
  shutdownTimeoutMs: number;
  limits: ServerLimits;
}

function secretRef(value: string): SecretRef {
  const ref = parseSecretRef(value);
  if (!ref) throw new InvalidArgumentError('expected <namespace>/<name>');
  return ref;
}

/** `federation`, `multicluster` or both, comma-separated, each once. */
export function parsePrivateDocuments(value: string): PrivateDocumentKind[] {
  const items = value.split(',');
  const known = (item: string): item is PrivateDocumentKind =>
    (PRIVATE_DOCUMENTS as readonly string[]).includes(item);
  if (!items.every(known) || new Set(items).size !== items.length) {
    throw new InvalidArgumentError(`expected a comma-separated list of ${PRIVATE_DOCUMENTS.join(', ')}`);
  }
  return items;
}

interface RawOptions {
  privateDocuments: PrivateDocumentKind[];
  documentsDir?: string;
  documentsSecret?: SecretRef;
  kubeconfig?: string;
  watchTimeout?: number;
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
    .option(
      '--documents-dir <dir>',
      'directory with public.json and, per private document, its file and allow-list (see README)',
    )
    .option(
      '--documents-secret <namespace/name>',
      'watch this Secret (keys as the file names) through the Kubernetes API instead',
      secretRef,
    )
    .option(
      '--kubeconfig <file>',
      'with --documents-secret: API access from this file, not the service account',
    )
    .option(
      '--watch-timeout <seconds>',
      'with --documents-secret: the API server ends each watch after this long (it is resumed); default 300',
      positiveInteger,
    )
    .addOption(
      new Option(
        '--private-documents <list>',
        'private documents served, each with its own allow-list: federation, multicluster or both',
      )
        .argParser(parsePrivateDocuments)
        .default(['federation'], 'federation'),
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
  if ((options.documentsDir === undefined) === (options.documentsSecret === undefined)) {
    program.error('exactly one of --documents-dir and --documents-secret is required');
  }
  if (
    (options.kubeconfig !== undefined || options.watchTimeout !== undefined) &&
    options.documentsSecret === undefined
  ) {
    program.error('--kubeconfig and --watch-timeout go with --documents-secret');
  }
  if ((options.tlsCert === undefined) !== (options.tlsKey === undefined)) {
    program.error('--tls-cert and --tls-key go together');
  }
  return {
    ...(options.documentsDir !== undefined ? { documentsDir: options.documentsDir } : {}),
    ...(options.documentsSecret ? { documentsSecret: options.documentsSecret } : {}),
    ...(options.kubeconfig !== undefined ? { kubeconfig: options.kubeconfig } : {}),
    ...(options.watchTimeout !== undefined ? { watchTimeoutSeconds: options.watchTimeout } : {}),
    privateDocuments: options.privateDocuments,
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
