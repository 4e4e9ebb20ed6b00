import { constants as fsConstants, type Stats } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import https from 'node:https';
import type { Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { MAX_DOCUMENT_BYTES } from '../wire/documents';
import { isPrepared, prepareTls, type PeerTls, type PreparedTls } from './tls';
import { errorText } from '../../util/errors';

/**
 * One bounded GET of a remote metadata document. Every request gets its own TLS
 * settings (the reference cached one client globally and so ignored per-federation CAs)
 * and its own connection (`agent: false`): nothing is shared between federations.
 * Implemented on node:https because it behaves the same under Node (tests) and Bun
 * (the compiled hook): socket events, destroy() on a timer, streaming size checks.
 */

export interface FetchLimits {
  /** TCP connect. */
  connectTimeoutMs: number;
  /** TLS handshake, after the TCP connection is up. */
  tlsHandshakeTimeoutMs: number;
  /** Whole request: connect, handshake, headers and body. */
  requestTimeoutMs: number;
  maxBytes: number;
}

export const DEFAULT_FETCH_LIMITS: FetchLimits = {
  connectTimeoutMs: 5_000,
  tlsHandshakeTimeoutMs: 5_000,
  requestTimeoutMs: 10_000,
  maxBytes: MAX_DOCUMENT_BYTES,
};

export type FetchFailureReason =
  'Unreachable' | 'TLSError' | 'HTTPError' | 'Timeout' | 'TooLarge' | 'Redirect' | 'InvalidDocument';

export type FetchResult =
  { ok: true; body: Buffer } | { ok: false; reason: FetchFailureReason; message: string };

export interface FetchRequest {
  url: string;
  tls?: PeerTls | PreparedTls;
  headers?: Record<string, string>;
  limits?: FetchLimits;
}

export async function fetchDocument(request: FetchRequest): Promise<FetchResult> {
  const limits = request.limits ?? DEFAULT_FETCH_LIMITS;
  let url: URL;
  try {
    url = new URL(request.url);
  } catch {
    return { ok: false, reason: 'InvalidDocument', message: `invalid URL ${request.url}` };
  }
  if (url.protocol === 'file:') return readLocalDocument(url, limits.maxBytes);
  if (url.protocol !== 'https:') {
    return { ok: false, reason: 'Unreachable', message: `unsupported URL scheme ${url.protocol}` };
  }
  const tls = isPrepared(request.tls) ? request.tls : prepareTls(request.tls);
  if (!tls.ok) return { ok: false, reason: 'TLSError', message: `GET ${url.href}: ${tls.message}` };
  return httpsGet(url, tls, request.headers ?? {}, limits);
}

/**
 * Only regular files (symlinks to them included: mounted ConfigMaps are symlinks). A FIFO
 * or a device would block the read, and so the hook and its queue, forever. The type is
 * checked before opening (opening a FIFO for reading waits for a writer) and again on the
 * open descriptor, which is opened non-blocking, in case the path was swapped in between.
 */
async function readLocalDocument(url: URL, maxBytes: number): Promise<FetchResult> {
  let path: string;
  try {
    path = fileURLToPath(url);
  } catch (error) {
    return {
      ok: false,
      reason: 'InvalidDocument',
      message: `invalid file URL ${url.href}: ${errorText(error)}`,
    };
  }
  let handle;
  try {
    const kind = nonRegularKind(await stat(path));
    if (kind) return notRegular(url, kind);
    handle = await open(path, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK);
  } catch (error) {
    return { ok: false, reason: 'Unreachable', message: `cannot open ${url.href}: ${errorText(error)}` };
  }
  try {
    const kind = nonRegularKind(await handle.stat());
    if (kind) return notRegular(url, kind);
    // Read one byte past the cap: enough to know the file is too large, never more.
    const buffer = Buffer.alloc(maxBytes + 1);
    let length = 0;
    while (length < buffer.length) {
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, length);
      if (bytesRead === 0) break;
      length += bytesRead;
    }
    if (length > maxBytes) return tooLarge(url.href, maxBytes);
    return { ok: true, body: buffer.subarray(0, length) };
  } catch (error) {
    return { ok: false, reason: 'Unreachable', message: `cannot read ${url.href}: ${errorText(error)}` };
  } finally {
    await handle.close();
  }
}

function nonRegularKind(stats: Stats): string | undefined {
  if (stats.isFile()) return undefined;
  if (stats.isDirectory()) return 'a directory';
  if (stats.isFIFO()) return 'a FIFO';
  if (stats.isCharacterDevice()) return 'a character device';
  if (stats.isBlockDevice()) return 'a block device';
  if (stats.isSocket()) return 'a socket';
  return 'not a regular file';
}

function notRegular(url: URL, kind: string): FetchResult {
  return {
    ok: false,
    reason: 'InvalidDocument',
    message: `${url.href} is ${kind}; only regular files are read`,
  };
}

function tooLarge(where: string, maxBytes: number): FetchResult {
  return { ok: false, reason: 'TooLarge', message: `${where}: response exceeds ${maxBytes} bytes` };
}

function httpsGet(
  url: URL,
  tls: PreparedTls & { ok: true },
  headers: Record<string, string>,
  limits: FetchLimits,
): Promise<FetchResult> {
  return new Promise((resolve) => {
    const timers: NodeJS.Timeout[] = [];
    let settled = false;
    const finish = (result: FetchResult): void => {
      if (settled) return;
      settled = true;
      timers.forEach(clearTimeout);
      resolve(result);
    };
    const req = https.request(url, {
      method: 'GET',
      agent: false,
      headers: { Accept: 'application/json', ...headers },
      rejectUnauthorized: tls.rejectUnauthorized,
      ...(tls.secureContext ? { secureContext: tls.secureContext } : {}),
    });
    const abort = (reason: FetchFailureReason, message: string): void => {
      finish({ ok: false, reason, message: `GET ${url.href}: ${message}` });
      // Closing the socket stops the transfer (and the peer's write) at once.
      req.destroy();
    };
    const after = (ms: number, onTimeout: () => void): NodeJS.Timeout => {
      const timer = setTimeout(onTimeout, ms);
      timers.push(timer);
      return timer;
    };
    after(limits.requestTimeoutMs, () =>
      abort('Timeout', `no complete response within ${limits.requestTimeoutMs} ms`),
    );
    const connectTimer = after(limits.connectTimeoutMs, () =>
      abort('Timeout', `TCP connect timed out after ${limits.connectTimeoutMs} ms`),
    );
    req.on('socket', (socket: Socket) => {
      socket.once('connect', () => {
        clearTimeout(connectTimer);
        const handshakeTimer = after(limits.tlsHandshakeTimeoutMs, () =>
          abort('Timeout', `TLS handshake timed out after ${limits.tlsHandshakeTimeoutMs} ms`),
        );
        socket.once('secureConnect', () => clearTimeout(handshakeTimer));
      });
    });
    req.on('error', (error) => finish(classifyRequestError(url, error)));
    req.on('response', (res) => {
      // The handshake is necessarily done once a response arrives, whatever events the runtime emitted.
      clearTimeout(connectTimer);
      const status = res.statusCode ?? 0;
      if (status >= 300 && status < 400) {
        const location = (res.headers.location ?? 'nowhere').slice(0, 200);
        abort('Redirect', `redirects are not followed (HTTP ${status} to ${location})`);
        return;
      }
      if (status !== 200) {
        abort('HTTPError', `HTTP ${status}`);
        return;
      }
      const declared = Number(res.headers['content-length']);
      if (Number.isFinite(declared) && declared > limits.maxBytes) {
        abort('TooLarge', `response of ${declared} bytes exceeds ${limits.maxBytes} bytes`);
        return;
      }
      const chunks: Buffer[] = [];
      let received = 0;
      res.on('data', (chunk: Buffer) => {
        received += chunk.length;
        if (received > limits.maxBytes) {
          abort('TooLarge', `response exceeds ${limits.maxBytes} bytes (cut off)`);
          chunks.length = 0;
          return;
        }
        if (settled) return;
        chunks.push(chunk);
      });
      res.on('end', () => {
        finish({ ok: true, body: Buffer.concat(chunks) });
      });
      res.on('error', (error) => finish(classifyRequestError(url, error)));
    });
    req.end();
  });
}

const TLS_ERROR_CODE =
  /^(ERR_TLS_|ERR_SSL_|CERT_|UNABLE_TO_|DEPTH_ZERO|SELF_SIGNED|HOSTNAME_MISMATCH|ERR_OSSL)/;

function classifyRequestError(url: URL, error: unknown): FetchResult & { ok: false } {
  const code = (error as NodeJS.ErrnoException).code ?? '';
  const message = `GET ${url.href}: ${errorText(error)}`;
  if (TLS_ERROR_CODE.test(code) || /certificate|tls|ssl/i.test(errorText(error))) {
    return { ok: false, reason: 'TLSError', message };
  }
  if (code === 'ETIMEDOUT') return { ok: false, reason: 'Timeout', message };
  return { ok: false, reason: 'Unreachable', message };
}
