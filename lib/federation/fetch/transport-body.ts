import type { Readable } from 'node:stream';
import { errorText } from '../../util/errors';
import type { FetchResult } from './transport-types';

/**
 * The response body and error side of the bounded GET (transport.ts): reading a body under
 * its cap, a bounded printable excerpt of an error body, and what a failed request was.
 */

/**
 * Reads a body chunk by chunk and stops at the first byte past the cap: at most the cap
 * is ever held, however much the peer sends (axios's maxContentLength on the stream is a
 * second guard; it errors the stream, which ends up here too).
 */
export function readCapped(
  body: Readable,
  maxBytes: number,
): Promise<{ ok: true; body: Buffer } | { ok: false }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    let done = false;
    body.on('data', (chunk: Buffer) => {
      if (done) return;
      received += chunk.length;
      if (received > maxBytes) {
        done = true;
        chunks.length = 0;
        body.destroy();
        resolve({ ok: false });
        return;
      }
      chunks.push(chunk);
    });
    body.on('end', () => {
      if (done) return;
      done = true;
      resolve({ ok: true, body: Buffer.concat(chunks) });
    });
    body.on('error', (error) => {
      if (done) return;
      done = true;
      reject(error);
    });
    body.on('close', () => {
      if (done) return;
      done = true;
      reject(new Error('response stream closed before its end'));
    });
  });
}

/**
 * The first `maxBytes` of a body as one line of printable ASCII (anything else becomes a
 * space, runs of spaces collapse), or undefined when nothing printable arrives within `waitMs`.
 */
export function readExcerpt(body: Readable, maxBytes: number, waitMs: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let received = 0;
    const finish = (): void => {
      clearTimeout(timer);
      body.removeListener('data', onData);
      body.destroy();
      resolve(printableExcerpt(Buffer.concat(chunks).subarray(0, maxBytes)));
    };
    const onData = (chunk: Buffer): void => {
      chunks.push(chunk);
      received += chunk.length;
      if (received >= maxBytes) finish();
    };
    const timer = setTimeout(finish, waitMs);
    body.on('data', onData);
    body.once('end', finish);
    body.once('error', finish);
    body.once('close', finish);
  });
}

function printableExcerpt(bytes: Buffer): string | undefined {
  const text = bytes
    .toString('latin1')
    .replace(/[^\x20-\x7e]+/g, ' ')
    .replace(/ {2,}/g, ' ')
    .trim();
  return text || undefined;
}

export function isCapError(error: unknown): boolean {
  return error instanceof Error && /maxContentLength size of \d+ exceeded/.test(error.message);
}

const TLS_ERROR_CODE =
  /^(ERR_TLS_|ERR_SSL_|CERT_|UNABLE_TO_|DEPTH_ZERO|SELF_SIGNED|HOSTNAME_MISMATCH|ERR_OSSL)/;

export function classifyRequestError(url: URL, error: unknown): FetchResult & { ok: false } {
  const code = (error as NodeJS.ErrnoException).code ?? '';
  const message = `GET ${url.href}: ${errorText(error)}`;
  if (TLS_ERROR_CODE.test(code) || /certificate|tls|ssl/i.test(errorText(error))) {
    return { ok: false, reason: 'TLSError', message };
  }
  if (code === 'ETIMEDOUT') return { ok: false, reason: 'Timeout', message };
  return { ok: false, reason: 'Unreachable', message };
}
