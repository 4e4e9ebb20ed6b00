import { Command, Option } from 'commander';
import {
  milliseconds as ms,
  parseListenAddress,
  positiveInteger,
  positiveSeconds,
  type ListenAddress,
} from '../../lib/server/cli-values';
import { DEFAULT_LIMITS, type ProxyLimits } from './server';

export interface ProxyConfig {
  listen: ListenAddress;
  clusterUUID: string;
  peersFile: string;
  kubeconfig?: string;
  tokenFile?: string;
  inClusterPrefix?: string;
  tls: { certFile: string; keyFile: string } | 'self-signed' | undefined;
  reloadIntervalMs: number;
  shutdownTimeoutMs: number;
  limits: ProxyLimits;
}

interface RawOptions {
  listen: ListenAddress;
  clusterUuid?: string;
  peersFile: string;
  kubeconfig?: string;
  tokenFile?: string;
  inClusterPrefix?: string;
  tlsCert?: string;
  tlsKey?: string;
  tlsSelfSigned?: boolean;
  reloadInterval: number;
  shutdownTimeout: number;
  headerTimeout: number;
  keepAliveTimeout: number;
  maxRequestDuration: number;
  upstreamHeaderTimeout: number;
  maxHeaderSize: number;
  maxConnections: number;
}

/** Parses the command line; commander prints usage and exits on errors. */
export function parseCommandLine(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): ProxyConfig {
  const program = new Command('api-proxy')
    .description("Read-only access to this cluster's Kubernetes API for the istiods of multicluster peers.")
    .addOption(
      new Option('--listen <address>', 'host:port to listen on')
        .argParser(parseListenAddress)
        .default(parseListenAddress(':4443'), ':4443'),
    )
    .option(
      '--cluster-uuid <uuid>',
      "this cluster's UUID: the only accepted token audience (env CLUSTER_UUID)",
    )
    .requiredOption(
      '--peers-file <file>',
      'JSON map clusterUUID -> public document of the multicluster peers',
    )
    .option('--kubeconfig <file>', 'reach the apiserver as this kubeconfig says (default: in-cluster)')
    .option('--token-file <file>', "the proxy's own bearer token for the apiserver, re-read when it changes")
    .addOption(
      new Option(
        '--in-cluster-prefix <dir>',
        'directory prefixed to /var/run/secrets/kubernetes.io/serviceaccount (tests of the in-cluster path)',
      ).hideHelp(),
    )
    .option('--tls-cert <file>', 'serve HTTPS with this certificate chain (PEM)')
    .option('--tls-key <file>', 'private key of --tls-cert (PEM)')
    .option('--tls-self-signed', 'serve HTTPS with a certificate generated at start')
    .option('--reload-interval <seconds>', 'how often the peers file is checked', positiveSeconds, 5)
    .option('--shutdown-timeout <seconds>', 'bound for in-flight requests on SIGTERM', positiveSeconds, 10)
    .option(
      '--header-timeout <seconds>',
      'time to receive a complete request head',
      positiveSeconds,
      DEFAULT_LIMITS.headerTimeoutMs / 1000,
    )
    .option(
      '--keep-alive-timeout <seconds>',
      'idle keep-alive time until the next request head',
      positiveSeconds,
      DEFAULT_LIMITS.keepAliveTimeoutMs / 1000,
    )
    .option(
      '--max-request-duration <seconds>',
      'longest request, watches included',
      positiveSeconds,
      DEFAULT_LIMITS.maxRequestMs / 1000,
    )
    .option(
      '--upstream-header-timeout <seconds>',
      'time the apiserver gets to answer with headers',
      positiveSeconds,
      DEFAULT_LIMITS.upstreamHeaderTimeoutMs / 1000,
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
  const o = program.opts<RawOptions>();
  const clusterUUID = o.clusterUuid ?? env.CLUSTER_UUID ?? '';
  if (!clusterUUID) program.error('--cluster-uuid (or CLUSTER_UUID) is required');
  if ((o.tlsCert === undefined) !== (o.tlsKey === undefined))
    program.error('--tls-cert and --tls-key go together');
  if (o.tlsCert && o.tlsSelfSigned) program.error('--tls-self-signed excludes --tls-cert');
  return {
    listen: o.listen,
    clusterUUID,
    peersFile: o.peersFile,
    ...(o.kubeconfig ? { kubeconfig: o.kubeconfig } : {}),
    ...(o.tokenFile ? { tokenFile: o.tokenFile } : {}),
    ...(o.inClusterPrefix ? { inClusterPrefix: o.inClusterPrefix } : {}),
    tls:
      o.tlsCert && o.tlsKey
        ? { certFile: o.tlsCert, keyFile: o.tlsKey }
        : o.tlsSelfSigned
          ? 'self-signed'
          : undefined,
    reloadIntervalMs: ms(o.reloadInterval),
    shutdownTimeoutMs: ms(o.shutdownTimeout),
    limits: {
      headerTimeoutMs: ms(o.headerTimeout),
      keepAliveTimeoutMs: ms(o.keepAliveTimeout),
      maxRequestMs: ms(o.maxRequestDuration),
      upstreamHeaderTimeoutMs: ms(o.upstreamHeaderTimeout),
      maxHeaderBytes: o.maxHeaderSize,
      maxConnections: o.maxConnections,
    },
  };
}
