import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import { decodeJwt } from 'jose';
import {
  PRIVATE_FEDERATION_SCOPE,
  PRIVATE_MULTICLUSTER_SCOPE,
  TokenRejected,
  verifyPeerToken,
} from '../../lib/federation/identity/jwt';
import type { Logger } from '../../lib/hook-sdk/logger';
import { answerClientErrors, closeServer, guardConnections } from '../../lib/server/guard';
import type { PrivateDocumentKind } from './document-set';
import { LogThrottle } from './log-throttle';
import type { ExporterMetrics } from './metrics';
import type { Body, RenderedDocuments } from './rendered-documents';
import { ALLOW_HEADER, bearerToken, resolveRoute, type RouteName } from './routes';

export interface ServerLimits {
  /** Time a connection gets to deliver a complete request head. */
  headerTimeoutMs: number;
  /** Time from a complete request head to the end of its response. */
  requestTimeoutMs: number;
  /** Time an idle keep-alive connection gets to deliver the next complete request head. */
  keepAliveTimeoutMs: number;
  maxHeaderBytes: number;
  maxConnections: number;
}

export const DEFAULT_LIMITS: ServerLimits = {
  headerTimeoutMs: 5_000,
  requestTimeoutMs: 10_000,
  keepAliveTimeoutMs: 5_000,
  maxHeaderBytes: 16 * 1024,
  maxConnections: 1024,
};

export interface ExporterServerOptions {
  documents: () => RenderedDocuments | undefined;
  /** The private documents served; the others are 404 like unknown paths. */
  privateDocuments: readonly PrivateDocumentKind[];
  metrics: ExporterMetrics;
  logger: Logger;
  limits: ServerLimits;
  tls?: { cert: string; key: string };
  now?: () => Date;
}

export type ExporterServer = http.Server | https.Server;

/** Route label for requests that match no route, to keep the metric's label set fixed. */
type RouteLabel = RouteName | 'unknown';

const JSON_TYPE = 'application/json';
/**
 * Peers set nbf to their own "now" in whole seconds; the reference ignores nbf altogether.
 * Without leeway a peer whose clock runs a fraction of a second ahead is refused at random.
 * This leeway applies to exp too; a peer whose clock runs further ahead is accepted up to
 * its token's lifetime (maxNotBeforeSkewSeconds below), which never extends exp.
 */
const CLOCK_SKEW_TOLERANCE_SECONDS = 5;
/**
 * Peers sign tokens for 60 s. A much longer lifetime means a token minted to be replayed
 * (or a peer clock far off): refused even when validly signed.
 */
export const MAX_TOKEN_LIFETIME_SECONDS = 300;
/**
 * What a client learns about any refused token. Distinct reasons would tell an
 * unauthenticated client which subjects are peers ("unknown subject" versus a signature
 * or algorithm failure); the detailed reason goes to logs and the auth-failure metric.
 */
export const REFUSED_TOKEN_BODY_REASON = 'invalid token';
/** The JWT scope of each private document (one relationship each). */
export const PRIVATE_SCOPES: Readonly<Record<PrivateDocumentKind, string>> = {
  federation: PRIVATE_FEDERATION_SCOPE,
  multicluster: PRIVATE_MULTICLUSTER_SCOPE,
};
/** Refused requests are all counted in metrics; only this many per second are logged. */
const REFUSAL_LOG_LINES_PER_SECOND = 20;

/** Seconds until `exp`, when it is further away than a peer's token ever lives. */
export function excessiveTokenLifetime(exp: unknown, now: Date): number | undefined {
  if (typeof exp !== 'number') return undefined;
  const remaining = exp - Math.floor(now.getTime() / 1000);
  return remaining > MAX_TOKEN_LIFETIME_SECONDS ? remaining : undefined;
}

function errorBody(message: string): Buffer {
  return Buffer.from(JSON.stringify({ error: message }));
}

interface Reply {
  code: number;
  body?: Buffer;
  type?: string;
  headers?: Record<string, string>;
}

export interface ExporterHttpServer {
  server: ExporterServer;
  shutdown(timeoutMs: number): Promise<'clean' | 'forced'>;
}

export function createExporterServer(options: ExporterServerOptions): ExporterHttpServer {
  const { metrics, logger, limits } = options;
  const now = options.now ?? (() => new Date());
  let draining = false;
  const refusalLogs = new LogThrottle(REFUSAL_LOG_LINES_PER_SECOND, 1000);

  const send = (req: IncomingMessage, res: ServerResponse, route: RouteLabel, reply: Reply): void => {
    metrics.countRequest(route, reply.code);
    const body = reply.body ?? Buffer.alloc(0);
    const headers: Record<string, string | number> =
      reply.code === 304
        ? { ...reply.headers }
        : {
            'Content-Type': reply.type ?? JSON_TYPE,
            'Content-Length': body.length,
            'X-Content-Type-Options': 'nosniff',
            ...reply.headers,
          };
    // A request with a body we never read must not be followed by another on this connection.
    const hasBody =
      req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
    if (draining || hasBody) headers.Connection = 'close';
    res.writeHead(reply.code, headers);
    res.end(req.method === 'HEAD' ? undefined : body);
  };

  const document = (req: IncomingMessage, body: Body, cacheControl: string): Reply => {
    const headers = { ETag: body.etag, 'Cache-Control': cacheControl };
    if (req.headers['if-none-match'] === body.etag) return { code: 304, headers };
    return { code: 200, body: body.bytes, headers };
  };

  /**
   * A private document for a peer of ITS relationship: the token's subject is looked up in
   * that document's allow-list only, so a federation peer's validly signed
   * private-multicluster token is an unknown subject here (and vice versa).
   */
  const privateDocument = async (
    req: IncomingMessage,
    docs: RenderedDocuments,
    kind: PrivateDocumentKind,
  ): Promise<Reply> => {
    const peers = docs.set.peers[kind];
    // Not reachable: the sources require the files of every served document.
    if (!peers) return { code: 503, body: errorBody('documents not loaded') };
    const refuse = (reason: string, clientReason = REFUSED_TOKEN_BODY_REASON): Reply => {
      metrics.authFailures.inc({ reason });
      const admitted = refusalLogs.admit();
      if (admitted) {
        logger.info('private document refused', {
          document: kind,
          reason,
          remoteAddress: req.socket.remoteAddress,
          ...(admitted.suppressed > 0 ? { suppressedSinceLast: admitted.suppressed } : {}),
        });
      }
      return {
        code: 401,
        body: errorBody(clientReason),
        headers: { 'WWW-Authenticate': 'Bearer error="invalid_token"', 'Cache-Control': 'no-store' },
      };
    };
    const bearer = bearerToken(req.headers.authorization);
    // The header's own problems reveal nothing about peers: their reason is returned as is.
    if (!bearer.ok) return refuse(bearer.reason, bearer.reason);
    const at = now();
    let subject: string;
    try {
      ({ subject } = await verifyPeerToken(bearer.token, {
        ownClusterUUID: docs.set.public.clusterUUID,
        scope: PRIVATE_SCOPES[kind],
        peerPublicKey: (clusterUUID) => peers.get(clusterUUID)?.authnKeyPub,
        now: at,
        clockToleranceSeconds: CLOCK_SKEW_TOLERANCE_SECONDS,
        // A Deckhouse peer whose clock runs ahead works with the reference (no nbf check):
        // accept nbf ahead by up to the token's lifetime, which is capped below anyway.
        maxNotBeforeSkewSeconds: MAX_TOKEN_LIFETIME_SECONDS,
      }));
    } catch (error) {
      if (error instanceof TokenRejected) return refuse(error.reason);
      throw error;
    }
    // Checked on the verified token, so exp is the peer's own claim.
    if (excessiveTokenLifetime(decodeJwt(bearer.token).exp, at) !== undefined) {
      return refuse('token lifetime too long');
    }
    const body =
      kind === 'federation' ? docs.federationFor(peers.get(subject)?.trustDomain) : docs.multicluster;
    if (!body) return { code: 503, body: errorBody('documents not loaded') };
    return document(req, body, 'no-store');
  };

  const route = async (req: IncomingMessage, name: RouteName): Promise<Reply> => {
    if (name === 'metrics') {
      return {
        code: 200,
        body: Buffer.from(await metrics.registry.metrics()),
        type: metrics.registry.contentType,
      };
    }
    // Liveness: the process answers. Unlike /healthz it stays 200 without valid documents,
    // since a restart cannot fix the documents.
    if (name === 'livez') return { code: 200, body: Buffer.from('{"status":"ok"}') };
    const docs = options.documents();
    if (name === 'healthz') {
      return docs
        ? { code: 200, body: Buffer.from('{"status":"ok"}') }
        : { code: 503, body: Buffer.from('{"status":"no valid document set loaded"}') };
    }
    if (!docs) return { code: 503, body: errorBody('documents not loaded') };
    switch (name) {
      case 'public':
        return document(req, docs.public, 'no-cache');
      case 'spiffeBundle':
        return document(req, docs.spiffeBundle, 'no-cache');
      case 'federation':
      case 'multicluster':
        return privateDocument(req, docs, name);
    }
  };

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const decision = resolveRoute(req.method, req.url, options.privateDocuments);
    if (decision.kind === 'notFound') {
      send(req, res, 'unknown', { code: 404, body: errorBody('not found') });
      return;
    }
    if (decision.kind === 'methodNotAllowed') {
      send(req, res, decision.route, {
        code: 405,
        body: errorBody('method not allowed'),
        headers: { Allow: ALLOW_HEADER },
      });
      return;
    }
    route(req, decision.route).then(
      (reply) => send(req, res, decision.route, reply),
      (error: unknown) => {
        logger.error('request failed', {
          route: decision.route,
          error: error instanceof Error ? error.message : 'unknown error',
        });
        if (!res.headersSent)
          send(req, res, decision.route, { code: 500, body: errorBody('internal error') });
        else res.destroy();
      },
    );
  };

  const serverOptions = { maxHeaderSize: limits.maxHeaderBytes };
  const server: ExporterServer = options.tls
    ? https.createServer({ ...serverOptions, ...options.tls, handshakeTimeout: limits.headerTimeoutMs })
    : http.createServer(serverOptions);
  // The guard sees each request before the handler, which may finish the response at once.
  guardConnections(server, limits, options.tls !== undefined);
  server.on('request', handle);

  answerClientErrors(server, (code) => metrics.countRequest('unknown', code));

  const shutdown = (timeoutMs: number): Promise<'clean' | 'forced'> => {
    draining = true;
    return closeServer(server, timeoutMs);
  };
  return { server, shutdown };
}
