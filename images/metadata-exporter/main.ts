// The metadata exporter: serves this cluster's federation documents to federated clusters.
// Reads its documents from a directory (a mounted Secret) or by watching the Secret through
// the Kubernetes API, and its TLS files; writes nothing but JSON log lines to stdout.
import { readFileSync } from 'node:fs';
import { Logger } from '../../lib/hook-sdk/logger';
import { serveUntilSignalled } from '../../lib/server/lifecycle';
import { parseCommandLine, type ExporterConfig } from './cli';
import { documentKeys } from './document-set';
import { DocumentDirectory, DocumentStore } from './document-store';
import { ExporterMetrics } from './metrics';
import { SecretDocuments } from './secret-documents';
import { createExporterServer } from './server';

const logger = new Logger((line) => process.stdout.write(line + '\n'), { component: 'metadata-exporter' });

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function run(config: ExporterConfig): void {
  const metrics = new ExporterMetrics();
  const store = new DocumentStore(logger, metrics);
  const keys = documentKeys(config.privateDocuments);
  const directory =
    config.documentsDir !== undefined ? new DocumentDirectory(config.documentsDir, keys, store) : undefined;
  let stopWatch: (() => Promise<void>) | undefined;
  const tls = config.tls && {
    cert: readFileSync(config.tls.certFile, 'utf8'),
    key: readFileSync(config.tls.keyFile, 'utf8'),
  };
  const { server, shutdown } = createExporterServer({
    documents: () => store.current,
    privateDocuments: config.privateDocuments,
    metrics,
    logger,
    limits: config.limits,
    ...(tls ? { tls } : {}),
  });

  let poll: NodeJS.Timeout | undefined;
  const reload = (force: boolean): void => {
    try {
      directory?.reload(force);
    } catch (error) {
      logger.error('document reload failed', { error: errorMessage(error) });
    }
  };

  const lifecycle = serveUntilSignalled({
    server,
    listen: config.listen,
    logger,
    shutdown,
    shutdownTimeoutMs: config.shutdownTimeoutMs,
    tls: tls !== undefined,
    listeningFields: {
      privateDocuments: config.privateDocuments,
      ...(config.documentsDir !== undefined ? { documentsDir: config.documentsDir } : {}),
      ...(config.documentsSecret
        ? { documentsSecret: `${config.documentsSecret.namespace}/${config.documentsSecret.name}` }
        : {}),
    },
    onListening: () => {
      if (directory) {
        reload(true);
        poll = setInterval(() => reload(false), config.reloadIntervalMs);
      } else if (config.documentsSecret) {
        const ref = config.documentsSecret;
        // Loaded only in this mode: the directory mode never evaluates the Kubernetes client.
        void import('./secret-watch')
          .then(({ SecretWatcher, loadKubeConfig }) => {
            const watcher = new SecretWatcher(
              loadKubeConfig(config.kubeconfig),
              ref,
              new SecretDocuments(ref, keys, store),
              logger,
              { metrics, watchTimeoutSeconds: config.watchTimeoutSeconds },
            );
            stopWatch = () => watcher.stop();
            if (!lifecycle.stopping()) watcher.start();
          })
          .catch((error: unknown) => {
            logger.error('failed to start the Secret watch', { error: errorMessage(error) });
            process.exit(1);
          });
      }
    },
    onReload: () => {
      if (!directory) return; // the watch delivers changes as they happen
      logger.info('reload requested', { signal: 'SIGHUP' });
      reload(true);
    },
    onStop: () => {
      clearInterval(poll);
      return stopWatch?.();
    },
  });
}

try {
  run(parseCommandLine(process.argv.slice(2)));
} catch (error) {
  logger.error('failed to start', { error: errorMessage(error) });
  process.exit(1);
}
