/**
 * The empty Secrets view: the proxy's own answers to reads of core v1 Secrets. A vanilla
 * istiod starts a cluster-wide Secret informer on every remote cluster (its credentials
 * controller) and reports the cluster `synced` only once every informer has synced; with a
 * 403 it never does. This view lets it sync on an empty list, a quiet watch and, for a
 * streaming list, the end-of-initial-events bookmark, without the proxy ever asking the
 * apiserver about a Secret (its service account has no right to, and keeps none).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../../lib/hook-sdk/logger';
import type { VerifiedApiToken } from './auth';
import type { InFlightRequests } from './in-flight';
import type { ProxyMetrics } from './metrics';
import { answerEmptySecrets, type EmptySecretsAnswer } from './policy';
import { statusBody } from './status';

/** The `verb` label of these answers in the request metric and the request log. */
export const EMPTY_SECRETS_VERB = 'empty-secrets';
export const INITIAL_EVENTS_END_ANNOTATION = 'k8s.io/initial-events-end';

export function secretListBody(resourceVersion: string): Buffer {
  return Buffer.from(
    JSON.stringify({ kind: 'SecretList', apiVersion: 'v1', metadata: { resourceVersion }, items: [] }),
  );
}

/** The watch event that ends a streaming list's initial events, as the apiserver frames it. */
export function initialEventsEndBookmark(resourceVersion: string): string {
  const object = {
    kind: 'Secret',
    apiVersion: 'v1',
    metadata: { resourceVersion, annotations: { [INITIAL_EVENTS_END_ANNOTATION]: 'true' } },
  };
  return JSON.stringify({ type: 'BOOKMARK', object }) + '\n';
}

export type Reply = (
  req: IncomingMessage,
  res: ServerResponse,
  verb: string,
  code: number,
  body: Buffer,
) => void;

export interface EmptySecretsOptions {
  metrics: ProxyMetrics;
  logger: Logger;
  /** The server's answer for a complete body (headers, metric, `Connection: close` while draining). */
  reply: Reply;
  /** Open empty watches end like proxied requests when their peer is revoked. */
  inFlight: InFlightRequests;
  maxRequestMs: number;
  draining(): boolean;
}

export interface EmptySecrets {
  serve(
    req: IncomingMessage,
    res: ServerResponse,
    decision: { verb: 'get' | 'list' | 'watch'; name?: string; query: string },
    token: VerifiedApiToken,
  ): void;
  /** Ends every open empty watch (shutdown: nothing can be lost on them). */
  endWatches(): void;
}

export function createEmptySecrets(options: EmptySecretsOptions): EmptySecrets {
  const { metrics, logger, reply } = options;
  const openWatches = new Set<(outcome: string) => void>();

  const serve: EmptySecrets['serve'] = (req, res, decision, token) => {
    const peer = token.clusterUUID;
    const started = Date.now();
    const log = (code: number, outcome: string): void =>
      logger.info('request', {
        peer,
        verb: EMPTY_SECRETS_VERB,
        request: decision.verb,
        method: req.method,
        path: (req.url ?? '').split('?', 1)[0],
        code,
        outcome,
        durationMs: Date.now() - started,
      });
    const answer: EmptySecretsAnswer = answerEmptySecrets(decision);
    if (answer.kind !== 'watch') {
      const [code, body, outcome] =
        answer.kind === 'list'
          ? [200, secretListBody(answer.resourceVersion), 'empty list']
          : answer.kind === 'notFound'
            ? [
                404,
                statusBody(404, `secrets "${answer.name}" not found`, { name: answer.name, kind: 'secrets' }),
                'not found',
              ]
            : [answer.code, statusBody(answer.code, answer.message), 'invalid list options'];
      reply(req, res, EMPTY_SECRETS_VERB, code, body);
      log(code, outcome);
      return;
    }

    metrics.countRequest(EMPTY_SECRETS_VERB, 200);
    metrics.activeWatches.inc();
    res.writeHead(200, {
      'Content-Type': 'application/json',
      'Cache-Control': 'no-store',
      'X-Content-Type-Options': 'nosniff',
      ...(options.draining() ? { Connection: 'close' } : {}),
    });
    res.flushHeaders();
    if (answer.initialEventsEnd) res.write(initialEventsEndBookmark(answer.resourceVersion));
    let timer: NodeJS.Timeout | undefined;
    let open = true;
    let untrack = (): void => undefined;
    const close = (outcome: string): void => {
      if (!open) return;
      open = false;
      clearTimeout(timer);
      untrack();
      openWatches.delete(end);
      metrics.activeWatches.dec();
      log(200, outcome);
    };
    // An ended watch, as the apiserver ends one: the chunked body is terminated cleanly.
    const end = (outcome: string): void => {
      close(outcome);
      res.end();
    };
    // Longer watches are cut by the connection guard at --max-request-duration, like proxied ones.
    if (answer.timeoutMs !== undefined && answer.timeoutMs < options.maxRequestMs)
      timer = setTimeout(() => end('timeoutSeconds reached'), answer.timeoutMs);
    res.on('close', () => close('client closed'));
    if (options.draining()) end('shutting down');
    else {
      openWatches.add(end);
      // Nothing was sent on it, so a clean end is a whole (empty) stream.
      untrack = options.inFlight.track(token, (reason) => end(`revoked: ${reason}`));
    }
  };

  const endWatches = (): void => {
    for (const end of [...openWatches]) end('shutting down');
  };
  return { serve, endWatches };
}
