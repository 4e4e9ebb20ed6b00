import http, { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type https from 'node:https';
import type { Socket } from 'node:net';

/**
 * The connection hardening both of our HTTP servers (metadata exporter, api-proxy) need.
 * Bun's node:http ignores headersTimeout/requestTimeout/keepAliveTimeout (the exporter's
 * README shows the slowloris tests that fail without this), so every phase of a connection
 * is bounded by our own timer: waiting for a request head (first or keep-alive), then serving
 * it. Node's own knobs are set too, for runtimes that honour them.
 */

export type GuardedServer = http.Server | https.Server;

export interface ConnectionLimits {
  /** Time a connection gets to deliver a complete request head. */
  headerTimeoutMs: number;
  /** Time from a complete request head to the end of its response (watches included). */
  requestTimeoutMs: number;
  /** Time an idle keep-alive connection gets to deliver the next complete request head. */
  keepAliveTimeoutMs: number;
  maxConnections: number;
}

/**
 * Arms one timer per connection phase. Register it before the request handler: the handler
 * may finish a response at once. `nodeRequestTimeoutMs` is Node's own whole-request timeout
 * (0: off, for a server whose requests may legitimately stream for long).
 */
export function guardConnections(
  server: GuardedServer,
  limits: ConnectionLimits,
  secure: boolean,
  nodeRequestTimeoutMs = limits.requestTimeoutMs,
): void {
  const timers = new WeakMap<Socket, NodeJS.Timeout>();
  const inFlight = new WeakMap<Socket, number>();
  const arm = (socket: Socket, ms: number): void => {
    clearTimeout(timers.get(socket));
    timers.set(
      socket,
      setTimeout(() => socket.destroy(), ms),
    );
  };
  server.on(secure ? 'secureConnection' : 'connection', (socket: Socket) => {
    arm(socket, limits.headerTimeoutMs);
    socket.once('close', () => {
      clearTimeout(timers.get(socket));
      timers.delete(socket);
    });
  });
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const socket = req.socket;
    inFlight.set(socket, (inFlight.get(socket) ?? 0) + 1);
    arm(socket, limits.requestTimeoutMs);
    // 'close' also fires for a response cut short, which 'finish' would miss.
    res.once('close', () => {
      const remaining = (inFlight.get(socket) ?? 1) - 1;
      inFlight.set(socket, remaining);
      if (remaining === 0 && !socket.destroyed) arm(socket, limits.keepAliveTimeoutMs);
    });
  });
  server.headersTimeout = limits.headerTimeoutMs;
  server.requestTimeout = nodeRequestTimeoutMs;
  server.keepAliveTimeout = limits.keepAliveTimeoutMs;
  server.maxConnections = limits.maxConnections;
}

/** The status for a request the HTTP parser refused (oversized head, timeout, garbage). */
export function clientErrorCode(error: NodeJS.ErrnoException): number {
  if (error.code === 'HPE_HEADER_OVERFLOW') return 431;
  if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT') return 408;
  return 400;
}

/** Answers what the parser refused with a bare status and closes; `counted` sees each code. */
export function answerClientErrors(server: GuardedServer, counted: (code: number) => void): void {
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => {
    if (error.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const code = clientErrorCode(error);
    counted(code);
    socket.end(`HTTP/1.1 ${code} ${STATUS_CODES[code]}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  });
}

/**
 * Stops accepting connections, lets in-flight requests finish (their responses should ask the
 * client to close: the caller's `draining` flag), closes idle keep-alive connections and cuts
 * whatever is still open after `timeoutMs`. Resolves once the server is closed.
 */
export function closeServer(
  server: GuardedServer,
  timeoutMs: number,
  onClosed: () => void = () => {},
): Promise<'clean' | 'forced'> {
  return new Promise((resolve) => {
    const force = setTimeout(() => {
      server.closeAllConnections();
      resolve('forced');
    }, timeoutMs);
    server.close(() => {
      clearTimeout(force);
      onClosed();
      resolve('clean');
    });
    server.closeIdleConnections();
  });
}
