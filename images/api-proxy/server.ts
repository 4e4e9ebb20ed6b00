import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import type { Logger } from '../../lib/hook-sdk/logger';
import { answerClientErrors, closeServer, guardConnections } from '../../lib/server/guard';
import { bearerToken } from '../metadata-exporter/routes';
import { LogThrottle } from '../metadata-exporter/log-throttle';
import { CLOCK_SKEW_TOLERANCE_SECONDS, TokenRejected, verifyApiToken, type VerifiedApiToken } from './auth';
import { createEmptySecrets } from './empty-secrets';
import { InFlightRequests } from './in-flight';
import type { ProxyMetrics } from './metrics';
import {
  ALLOW_HEADER,
  classifyTarget,
  forwardedRequestHeaders,
  forwardedResponseHeaders,
  isAllowedMethod,
} from './policy';
import { statusBody } from './status';
import type { Upstream } from './upstream';

export interface ProxyLimits {
  /** Time a connection gets to deliver a complete request head. */
  headerTimeoutMs: number;
  /** Time an idle keep-alive connection gets to deliver the next request head. */
  keepAliveTimeoutMs: number;
  /** Longest a request may last, watches included (client-go restarts watches every 5-10 min). */
  maxRequestMs: number;
  /** Time the apiserver gets to send response headers. */
  upstreamHeaderTimeoutMs: number;
  maxHeaderBytes: number;
  maxConnections: number;
}

export const DEFAULT_LIMITS: ProxyLimits = {
  headerTimeoutMs: 10_000,
  keepAliveTimeoutMs: 90_000,
  maxRequestMs: 60 * 60_000,
  upstreamHeaderTimeoutMs: 30_000,
  maxHeaderBytes: 16 * 1024,
  maxConnections: 512,
};

export interface PeerKeys {
  readonly loaded: boolean;
  publicKey(clusterUUID: string): string | undefined;
}

export interface ProxyServerOptions {
  ownClusterUUID: string;
  peers: PeerKeys;
  upstream: Upstream;
  metrics: ProxyMetrics;
  logger: Logger;
  limits: ProxyLimits;
  tls?: { cert: string; key: string };
}

export type ProxyServer = http.Server | https.Server;

const JSON_TYPE = 'application/json';
/** What a client learns about any refused token (details go to logs and metrics only). */
export const REFUSED_TOKEN_BODY_REASON = 'invalid token';
const REFUSAL_LOG_LINES_PER_SECOND = 20;
const READY_CACHE_MS = 5_000;

const INTERNAL_ROUTES = new Set(['/healthz', '/livez', '/ready', '/metrics']);

/** How many times a header occurs in the raw request (Node/Bun fold or drop duplicates). */
function headerCount(req: IncomingMessage, name: string): number {
  let count = 0;
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    if (req.rawHeaders[i]!.toLowerCase() === name) count++;
  }
  return count;
}

export interface ProxyHttpServer {
  server: ProxyServer;
  shutdown(timeoutMs: number): Promise<'clean' | 'forced'>;
  /** After a successful load of the peers file: ends the requests of peers no longer accepted. */
  peersReloaded(): void;
}

export function createProxyServer(options: ProxyServerOptions): ProxyHttpServer {
  const { metrics, logger, limits, upstream } = options;
  const refusalLogs = new LogThrottle(REFUSAL_LOG_LINES_PER_SECOND, 1000);
  const agent = new https.Agent({
    keepAlive: true,
    maxFreeSockets: 16,
    ...(upstream.caPem ? { ca: upstream.caPem } : {}),
  });
  let draining = false;
  let readiness: { at: number; ok: boolean; reason: string } | undefined;

  const reply = (
    req: IncomingMessage,
    res: ServerResponse,
    verb: string,
    code: number,
    body: Buffer,
    extra: Record<string, string> = {},
  ): void => {
    metrics.countRequest(verb, code);
    const headers: Record<string, string | number> = {
      'Content-Type': JSON_TYPE,
      'Content-Length': body.length,
      'X-Content-Type-Options': 'nosniff',
      'Cache-Control': 'no-store',
      ...extra,
    };
    const hasBody =
      req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
    if (draining || hasBody) headers.Connection = 'close';
    res.writeHead(code, headers);
    res.end(req.method === 'HEAD' ? undefined : body);
  };

  const refuse = (
    req: IncomingMessage,
    res: ServerResponse,
    code: number,
    message: string,
    extra: Record<string, string> = {},
  ): void => reply(req, res, 'refused', code, statusBody(code, message), extra);

  const inFlight = new InFlightRequests({
    publicKey: (uuid) => options.peers.publicKey(uuid),
    expiryLeewaySeconds: CLOCK_SKEW_TOLERANCE_SECONDS,
    onEnded: (peer, reason, requests) => {
      metrics.revokedRequests.inc({ reason }, requests);
      logger.info('in-flight requests ended', { peer, reason, requests });
    },
  });

  const emptySecrets = createEmptySecrets({
    metrics,
    logger,
    reply,
    inFlight,
    maxRequestMs: limits.maxRequestMs,
    draining: () => draining,
  });

  const logRefusal = (msg: string, fields: Record<string, unknown>): void => {
    const admitted = refusalLogs.admit();
    if (admitted) {
      logger.info(msg, {
        ...fields,
        ...(admitted.suppressed > 0 ? { suppressedSinceLast: admitted.suppressed } : {}),
      });
    }
  };

  /** Upstream GET with the proxy's own token (readiness only). */
  const probeUpstream = (): Promise<{ ok: boolean; reason: string }> =>
    new Promise((resolve) => {
      let token: string;
      try {
        token = upstream.token.current();
      } catch (error) {
        resolve({ ok: false, reason: `token: ${(error as Error).message}` });
        return;
      }
      const probe = https.request(
        new URL('/version', upstream.server),
        { agent, headers: { authorization: `Bearer ${token}`, accept: JSON_TYPE }, timeout: 5_000 },
        (res) => {
          res.resume();
          res.on('end', () =>
            resolve({ ok: res.statusCode === 200, reason: `apiserver answered ${res.statusCode}` }),
          );
        },
      );
      probe.on('timeout', () => probe.destroy(new Error('timeout')));
      probe.on('error', (error) => resolve({ ok: false, reason: `apiserver: ${error.message}` }));
      probe.end();
    });

  const internal = async (req: IncomingMessage, res: ServerResponse, path: string): Promise<void> => {
    if (path === '/livez') return reply(req, res, 'internal', 200, Buffer.from('{"status":"ok"}'));
    if (path === '/metrics') {
      const text = Buffer.from(await metrics.registry.metrics());
      return reply(req, res, 'internal', 200, text, { 'Content-Type': metrics.registry.contentType });
    }
    if (!options.peers.loaded) {
      return reply(req, res, 'internal', 503, Buffer.from('{"status":"no valid peers file loaded"}'));
    }
    if (path === '/healthz') return reply(req, res, 'internal', 200, Buffer.from('{"status":"ok"}'));
    // /ready: the apiserver answers our own token (cached briefly: probes must not hammer it).
    if (!readiness || Date.now() - readiness.at > READY_CACHE_MS) {
      readiness = { at: Date.now(), ...(await probeUpstream()) };
    }
    const body = Buffer.from(JSON.stringify({ status: readiness.ok ? 'ok' : readiness.reason }));
    return reply(req, res, 'internal', readiness.ok ? 200 : 503, body);
  };

  const forward = (
    req: IncomingMessage,
    res: ServerResponse,
    verb: string,
    verified: VerifiedApiToken,
  ): void => {
    const peer = verified.clusterUUID;
    let token: string;
    try {
      token = upstream.token.current();
    } catch (error) {
      logger.error('service-account token unreadable', { error: (error as Error).message });
      refuse(req, res, 503, 'the proxy has no credential for the apiserver');
      return;
    }
    metrics.tokenReloads.set(upstream.token.reloads);
    const started = Date.now();
    const target = new URL(upstream.server.href);
    const outgoing = https.request({
      protocol: target.protocol,
      hostname: target.hostname,
      port: target.port,
      path: req.url,
      method: req.method,
      agent,
      headers: forwardedRequestHeaders(req.headers, token),
    });
    const headerTimer = setTimeout(
      () => outgoing.destroy(new Error('no response headers from the apiserver in time')),
      limits.upstreamHeaderTimeoutMs,
    );
    const isWatch = verb === 'watch';
    let finished = false;
    const finish = (outcome: string, code: number): void => {
      if (finished) return;
      finished = true;
      clearTimeout(headerTimer);
      untrack();
      if (isWatch) metrics.activeWatches.dec();
      logger.info('request', {
        peer,
        verb,
        method: req.method,
        path: (req.url ?? '').split('?', 1)[0],
        code,
        outcome,
        durationMs: Date.now() - started,
      });
    };
    if (isWatch) metrics.activeWatches.inc();
    // Revoked while in flight: cut (a clean end could split an event); before the response
    // head, the 401 a new request would get.
    const untrack = inFlight.track(verified, (reason) => {
      const code = res.headersSent ? res.statusCode : 401;
      finish(`revoked: ${reason}`, code);
      outgoing.destroy();
      if (res.headersSent) res.destroy();
      else
        refuse(req, res, 401, REFUSED_TOKEN_BODY_REASON, {
          'WWW-Authenticate': 'Bearer error="invalid_token"',
        });
    });
    outgoing.on('response', (upstreamRes) => {
      if (finished) return void upstreamRes.resume();
      clearTimeout(headerTimer);
      const code = upstreamRes.statusCode ?? 502;
      metrics.countRequest(verb, code);
      res.writeHead(code, forwardedResponseHeaders(upstreamRes.headers));
      // Watches: the client must see the headers before the first event arrives.
      res.flushHeaders();
      upstreamRes.on('data', (chunk: Buffer) => {
        if (!res.write(chunk)) {
          upstreamRes.pause();
          res.once('drain', () => upstreamRes.resume());
        }
      });
      upstreamRes.on('end', () => {
        res.end();
        finish('complete', code);
      });
      upstreamRes.on('error', () => {
        if (finished) return;
        metrics.upstreamErrors.inc();
        res.destroy();
        finish('upstream broke', code);
      });
    });
    outgoing.on('error', (error) => {
      if (finished) return;
      metrics.upstreamErrors.inc();
      if (!res.headersSent) {
        logger.warn('apiserver unreachable', { error: error.message });
        refuse(req, res, 502, 'the apiserver is unreachable');
      } else res.destroy();
      finish(`upstream error: ${error.message}`, 502);
    });
    // The client went away (or the connection guard cut it): stop reading from the apiserver.
    res.on('close', () => {
      if (!finished) {
        outgoing.destroy();
        finish('client closed', res.statusCode);
      }
    });
    outgoing.end();
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = req.url ?? '';
    const path = url.split('?', 1)[0]!;
    if (INTERNAL_ROUTES.has(path) && req.method === 'GET') return internal(req, res, path);
    if (!isAllowedMethod(req.method)) {
      return refuse(req, res, 405, `method ${req.method ?? ''} is not allowed: the proxy is read-only`, {
        Allow: ALLOW_HEADER,
      });
    }
    if (req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0) {
      return refuse(req, res, 400, 'request bodies are not accepted');
    }
    const authFailure = (reason: string, clientReason = REFUSED_TOKEN_BODY_REASON): void => {
      metrics.authFailures.inc({ reason });
      logRefusal('token refused', { reason, remoteAddress: req.socket.remoteAddress });
      refuse(req, res, 401, clientReason, { 'WWW-Authenticate': 'Bearer error="invalid_token"' });
    };
    if (headerCount(req, 'authorization') > 1)
      return authFailure('several authorization headers', 'malformed authorization header');
    const bearer = bearerToken(req.headers.authorization);
    if (!bearer.ok) return authFailure(bearer.reason, bearer.reason);
    let verified: VerifiedApiToken;
    try {
      verified = await verifyApiToken(bearer.token, {
        ownClusterUUID: options.ownClusterUUID,
        peerPublicKey: (uuid) => options.peers.publicKey(uuid),
      });
    } catch (error) {
      if (error instanceof TokenRejected) return authFailure(error.reason);
      throw error;
    }
    // The peers may have been reloaded while the signature was checked.
    const revoked = inFlight.verdict(verified);
    if (revoked) return authFailure(`${revoked} during verification`);
    const peer = verified.clusterUUID;
    const decision = classifyTarget(url);
    if (decision.kind === 'emptySecrets') return emptySecrets.serve(req, res, decision, verified);
    if (decision.kind !== 'forward') {
      const code = decision.kind === 'forbidden' ? 403 : 404;
      metrics.policyRefusals.inc({ code: String(code) });
      logRefusal('request refused by policy', { peer, method: req.method, path, code });
      return refuse(
        req,
        res,
        code,
        decision.kind === 'forbidden' ? decision.reason : 'not served by the api-proxy',
      );
    }
    forward(req, res, decision.verb, verified);
  };

  const serverOptions = { maxHeaderSize: limits.maxHeaderBytes };
  const server: ProxyServer = options.tls
    ? https.createServer({ ...serverOptions, ...options.tls, handshakeTimeout: limits.headerTimeoutMs })
    : http.createServer(serverOptions);
  // Node's own whole-request timeout stays off: watches stream for up to maxRequestMs.
  guardConnections(
    server,
    { ...limits, requestTimeoutMs: limits.maxRequestMs },
    options.tls !== undefined,
    0,
  );
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    handle(req, res).catch((error: unknown) => {
      logger.error('request failed', { error: error instanceof Error ? error.message : 'unknown error' });
      if (!res.headersSent) refuse(req, res, 503, 'internal error');
      else res.destroy();
    });
  });
  // exec/attach/port-forward need an upgraded connection: never.
  server.on('upgrade', (_req: IncomingMessage, socket: Socket) => {
    metrics.countRequest('refused', 403);
    socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
  });
  answerClientErrors(server, (code) => metrics.countRequest('refused', code));

  const shutdown = (timeoutMs: number): Promise<'clean' | 'forced'> => {
    draining = true;
    emptySecrets.endWatches();
    return closeServer(server, timeoutMs, () => agent.destroy());
  };
  const peersReloaded = (): void => void inFlight.revokeUnaccepted();
  return { server, shutdown, peersReloaded };
}
