import type { AddressInfo } from 'node:net';
import type { Logger } from '../hook-sdk/logger';
import { errorText } from '../util/errors';
import type { GuardedServer } from './guard';

/**
 * How our server executables (metadata exporter, api-proxy) live: listen and say so in the
 * first log line (tests and operators read the bound port from it), reload on SIGHUP, stop
 * gracefully on SIGTERM/SIGINT, exit 1 on a server error.
 */
export interface ServeOptions {
  server: GuardedServer;
  listen: { host?: string | undefined; port: number };
  logger: Logger;
  /** The server's graceful close (guard.ts closeServer behind a draining flag). */
  shutdown(timeoutMs: number): Promise<'clean' | 'forced'>;
  shutdownTimeoutMs: number;
  /** Fields of the `listening` line besides the bound address, port and TLS. */
  listeningFields: Record<string, unknown>;
  tls: boolean;
  onListening(): void;
  onReload(): void;
  /** Stops what feeds the server (polls, watches); awaited with the shutdown. */
  onStop(): Promise<unknown> | void;
}

/** Starts serving; `stopping()` tells work started later (a watch) not to begin. */
export function serveUntilSignalled(options: ServeOptions): { stopping(): boolean } {
  const { server, logger } = options;
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info('shutting down', { signal, timeoutMs: options.shutdownTimeoutMs });
    void Promise.all([options.shutdown(options.shutdownTimeoutMs), options.onStop()]).then(([outcome]) => {
      logger.info('stopped', { outcome });
      process.exit(0);
    });
  };
  server.on('error', (error) => {
    logger.error('server error', { error: errorText(error) });
    process.exit(1);
  });
  server.listen({ host: options.listen.host, port: options.listen.port }, () => {
    const address = server.address() as AddressInfo;
    logger.info('listening', {
      address: address.address,
      port: address.port,
      tls: options.tls,
      ...options.listeningFields,
    });
    options.onListening();
  });
  process.on('SIGHUP', () => options.onReload());
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  return { stopping: () => stopping };
}
