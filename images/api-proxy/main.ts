// The multicluster api-proxy: read-only access to this cluster's kube-apiserver for the
// istiods of multicluster peers (JWT `scope: api`), with the proxy's own service account.
import { readFileSync } from 'node:fs';
import { Logger } from '../../lib/hook-sdk/logger';
import { serveUntilSignalled } from '../../lib/server/lifecycle';
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
  const { server, shutdown, peersReloaded } = createProxyServer({
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
    peersReloaded();
    for (const rejected of result.rejected) {
      logger.warn('peer entry rejected', {
        clusterUUID: rejected.clusterUUID.slice(0, 128),
        error: rejected.reason,
      });
    }
  };

  let poll: NodeJS.Timeout | undefined;
  serveUntilSignalled({
    server,
    listen: config.listen,
    logger,
    shutdown,
    shutdownTimeoutMs: config.shutdownTimeoutMs,
    tls: tls !== undefined,
    listeningFields: { apiserver: upstream.server.origin, clusterUUID: config.clusterUUID },
    onListening: () => {
      reload(true);
      poll = setInterval(() => reload(false), config.reloadIntervalMs);
    },
    onReload: () => reload(true),
    onStop: () => clearInterval(poll),
  });
}

try {
  run(parseCommandLine(process.argv.slice(2)));
} catch (error) {
  logger.error('failed to start', { error: errorMessage(error) });
  process.exit(1);
}
