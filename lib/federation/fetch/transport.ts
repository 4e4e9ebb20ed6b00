import type { ClientRequest, IncomingMessage } from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import type { AxiosStatic } from 'axios';
import { isPrepared, prepareTls, type PeerTls, type PreparedTls } from './tls';
import type { PeerConnection } from './peer-connection';
import {
  DEFAULT_FETCH_LIMITS,
  type FetchFailureReason,
  type FetchLimits,
  type FetchResult,
} from './transport-types';
import { readLocalDocument } from './transport-file';
import { classifyRequestError, isCapError, readCapped, readExcerpt } from './transport-body';

export { peerConnection, type PeerConnection } from './peer-connection';
export {
  DEFAULT_FETCH_LIMITS,
  type FetchFailureReason,
  type FetchLimits,
  type FetchResult,
} from './transport-types';

/**
 * One bounded GET of a remote metadata document. Every request gets its own TLS
 * settings (the reference cached one client globally and so ignored per-federation CAs)
 * and its own connection (`agent: false`, or one keep-alive connection per peer fetch,
 * peerConnection()): nothing is shared between federations.
 * Implemented with axios (loaded lazily, on the first remote fetch) over node:https, which
 * behaves the same under Node (tests) and Bun (the compiled hook): socket events, destroy()
 * on a timer, streaming size checks. Bounds: the timers below, the size cap while the body
 * streams, no redirects, no proxy from the environment, no content encoding (none asked
 * for, none decoded, an encoded body refused). Conditional: with `ifNoneMatch` a 304 means
 * the held document is current; a 304 to an unconditional request is an error.
 */

/** How much of a peer's error body status may show, and how long we wait for it. */
export const ERROR_EXCERPT_BYTES = 256;
const ERROR_EXCERPT_WAIT_MS = 1_000;

export interface FetchRequest {
  url: string;
  tls?: PeerTls | PreparedTls;
  headers?: Record<string, string>;
  limits?: FetchLimits;
  /** The ETag of the document we hold: sent as If-None-Match (https only). */
  ifNoneMatch?: string | undefined;
  /** One peer's connection (peerConnection()), reused by its requests; default: a new one per request. */
  connection?: PeerConnection | undefined;
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
  return httpsGet(
    url,
    tls,
    request.headers ?? {},
    limits,
    entityTagOf(request.ifNoneMatch),
    request.connection,
  );
}

/** axios, loaded on the first remote fetch only: the hook executable's other runs never pay for it. */
let axiosInstance: AxiosStatic | undefined;
function loadAxios(): AxiosStatic {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  axiosInstance ??= (require('axios') as { default: AxiosStatic }).default;
  return axiosInstance;
}

/** What a validator may look like to be stored and sent back (RFC 9110 entity-tag, bounded). */
const ENTITY_TAG = /^(W\/)?"[\x21\x23-\x7e]{0,200}"$/;

/** The peer's ETag if it is a well-formed entity tag we may send back; anything else: none. */
export function entityTagOf(header: unknown): string | undefined {
  return typeof header === 'string' && ENTITY_TAG.test(header) ? header : undefined;
}

async function httpsGet(
  url: URL,
  tls: PreparedTls & { ok: true },
  headers: Record<string, string>,
  limits: FetchLimits,
  ifNoneMatch: string | undefined,
  connection: PeerConnection | undefined,
): Promise<FetchResult> {
  const axios = loadAxios();
  const controller = new AbortController();
  const timers: NodeJS.Timeout[] = [];
  let request: ClientRequest | undefined;
  let failure: (FetchResult & { ok: false }) | undefined;
  const abort = (reason: FetchFailureReason, message: string): void => {
    failure ??= { ok: false, reason, message: `GET ${url.href}: ${message}` };
    controller.abort();
    // Closing the socket stops the transfer (and the peer's write) at once.
    request?.destroy();
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
  // axios's own transport would be node:https as well; this one adds what axios has no
  // option for: the federation's TLS settings on a connection of its own (no agent, or the
  // one peer's keep-alive agent: nothing is shared between federations) and the connect and
  // handshake timers.
  const transport = {
    request(options: https.RequestOptions, onResponse: (res: IncomingMessage) => void): ClientRequest {
      const req = https.request(
        {
          ...options,
          agent: connection?.agent ?? false,
          rejectUnauthorized: tls.rejectUnauthorized,
          ...(tls.secureContext ? { secureContext: tls.secureContext } : {}),
        },
        onResponse,
      );
      request = req;
      req.on('socket', (socket: Socket) => {
        // The peer's kept-alive connection: connected and through its handshake already.
        if (req.reusedSocket) {
          clearTimeout(connectTimer);
          return;
        }
        socket.once('connect', () => {
          clearTimeout(connectTimer);
          const handshakeTimer = after(limits.tlsHandshakeTimeoutMs, () =>
            abort('Timeout', `TLS handshake timed out after ${limits.tlsHandshakeTimeoutMs} ms`),
          );
          socket.once('secureConnect', () => clearTimeout(handshakeTimer));
        });
      });
      if (failure) req.destroy();
      return req;
    },
  };
  try {
    const response = await axios.request<Readable>({
      url: url.href,
      method: 'GET',
      headers: {
        Accept: 'application/json',
        // `false` keeps axios from adding its default Accept-Encoding: we ask for no encoding.
        'Accept-Encoding': false,
        ...(ifNoneMatch ? { 'If-None-Match': ifNoneMatch } : {}),
        ...headers,
      } as unknown as Record<string, string>,
      adapter: 'http',
      transport,
      proxy: false,
      maxRedirects: 0,
      decompress: false,
      responseType: 'stream',
      maxContentLength: limits.maxBytes,
      maxBodyLength: limits.maxBytes,
      validateStatus: () => true,
      signal: controller.signal,
    });
    // The handshake is necessarily done once a response arrives, whatever events the runtime emitted.
    clearTimeout(connectTimer);
    if (failure) return failure;
    const body = response.data;
    const status = response.status;
    const refuse = (reason: FetchFailureReason, message: string): FetchResult => {
      abort(reason, message);
      body.destroy();
      return failure!;
    };
    if (status === 304) {
      if (!ifNoneMatch) return refuse('HTTPError', 'HTTP 304 to a request without If-None-Match');
      body.resume(); // no body; drained, the connection can carry the peer's next request
      return { ok: true, body: Buffer.alloc(0), notModified: true };
    }
    if (status >= 300 && status < 400) {
      const location = String(response.headers.location ?? 'nowhere').slice(0, 200);
      return refuse('Redirect', `redirects are not followed (HTTP ${status} to ${location})`);
    }
    if (status !== 200) {
      // What the peer says about our request helps its admin and ours; a slow body only costs
      // the excerpt, never the status.
      const excerpt = await readExcerpt(body, ERROR_EXCERPT_BYTES, ERROR_EXCERPT_WAIT_MS);
      if (failure) return failure;
      refuse('HTTPError', `HTTP ${status}`);
      return { ...failure!, status, ...(excerpt ? { bodyExcerpt: excerpt } : {}) };
    }
    const encoding = String(response.headers['content-encoding'] ?? 'identity')
      .trim()
      .toLowerCase();
    if (encoding !== 'identity' && encoding !== '') {
      return refuse(
        'InvalidDocument',
        `encoded bodies are refused (Content-Encoding: ${encoding.slice(0, 50)})`,
      );
    }
    const declared = Number(response.headers['content-length']);
    if (Number.isFinite(declared) && declared > limits.maxBytes) {
      return refuse('TooLarge', `response of ${declared} bytes exceeds ${limits.maxBytes} bytes`);
    }
    const read = await readCapped(body, limits.maxBytes);
    if (failure) return failure;
    if (!read.ok) return refuse('TooLarge', `response exceeds ${limits.maxBytes} bytes (cut off)`);
    const etag = entityTagOf(response.headers.etag);
    return { ok: true, body: read.body, ...(etag ? { etag } : {}) };
  } catch (error) {
    if (failure) return failure;
    if (isCapError(error)) {
      abort('TooLarge', `response exceeds ${limits.maxBytes} bytes (cut off)`);
      return failure!;
    }
    return classifyRequestError(url, error);
  } finally {
    timers.forEach(clearTimeout);
  }
}
