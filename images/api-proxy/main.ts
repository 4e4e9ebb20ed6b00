// The multicluster api-proxy: read-only access to this cluster's kube-apiserver for the
// istiods of multicluster peers (JWT `scope: api`), with the proxy's own service account.
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { Logger } from '../../lib/hook-sdk/logger';
import { parseCommandLine, type ProxyConfig } from './cli';
import { ProxyMetrics } from './metrics';
import { PeerStore } from './peers';
import { selfSignedServingCertificate } from './self-signed';
import { createProxyServer } from './server';
import { loadUpstream } from './upstream';

const logger = new Logger((line) => process.stdout.write(line + '\n'), { component: 'api-proxy' });

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

const SERVING_NAMES = ['api-proxy', 'api-proxy.d8-istio', 'api-proxy.d8-istio.svc', 'localhost', '127.0.0.1'];

function run(config: ProxyConfig): void {
  const metrics = new ProxyMetrics();
  const upstream = loadUpstream(config);
  const peers = new PeerStore(config.peersFile);
  const tls =
    config.tls === 'self-signed'
      ? selfSignedServingCertificate(SERVING_NAMES)
      : config.tls && {
          cert: readFileSync(config.tls.certFile, 'utf8'),
          key: readFileSync(config.tls.keyFile, 'utf8'),
        };
  const { server, shutdown } = createProxyServer({
    ownClusterUUID: config.clusterUUID,
    peers,
    upstream,
    metrics,
    logger,
    limits: config.limits,
    ...(tls ? { tls } : {}),
  });

  const reload = (force: boolean): void => {
    const result = peers.reload(force);
    if (result.outcome === 'unchanged') return;
    if (result.outcome === 'failed') {
      metrics.peerReloads.inc({ result: 'failure' });
      logger.warn(
        peers.loaded
          ? 'peers file rejected, keeping the previous peers'
          : 'peers file rejected, no peers loaded',
        {
          error: result.error,
        },
      );
      return;
    }
    metrics.peerReloads.inc({ result: 'success' });
    metrics.peers.set(result.peers);
    logger.info('peers loaded', { peers: result.peers });
    for (const rejected of result.rejected) {
      logger.warn('peer entry rejected', {
        clusterUUID: rejected.clusterUUID.slice(0, 128),
        error: rejected.reason,
      });
    }
  };

  let poll: NodeJS.Timeout | undefined;
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    clearInterval(poll);
    logger.info('shutting down', { signal, timeoutMs: config.shutdownTimeoutMs });
    void shutdown(config.shutdownTimeoutMs).then((outcome) => {
      logger.info('stopped', { outcome });
      process.exit(0);
    });
  };

  server.on('error', (error) => {
    logger.error('server error', { error: errorMessage(error) });
    process.exit(1);
  });
  server.listen({ host: config.listen.host, port: config.listen.port }, () => {
    const address = server.address() as AddressInfo;
    // Tests and operators read the bound port from this first log line.
    logger.info('listening', {
      address: address.address,
      port: address.port,
      tls: tls !== undefined,
      apiserver: upstream.server.origin,
      clusterUUID: config.clusterUUID,
    });
    reload(true);
    poll = setInterval(() => reload(false), config.reloadIntervalMs);
  });
  process.on('SIGHUP', () => reload(true));
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

try {
  run(parseCommandLine(process.argv.slice(2)));
} catch (error) {
  logger.error('failed to start', { error: errorMessage(error) });
  process.exit(1);
}
