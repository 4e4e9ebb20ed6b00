import { gzipSync } from 'node:zlib';
import { MAX_DOCUMENT_BYTES } from '../../lib/federation/wire/documents';
import {
  entityTagOf,
  fetchDocument,
  peerConnection,
  type FetchLimits,
} from '../../lib/federation/fetch/transport';
import { TestPeer } from './peer';

// The axios transport's own bounds and the conditional request, on a real HTTPS peer on
// loopback (the bad-input cases of issue 3 are in fetch.test.ts, unchanged).
const LIMITS: FetchLimits = {
  connectTimeoutMs: 2_000,
  tlsHandshakeTimeoutMs: 2_000,
  requestTimeoutMs: 10_000,
  maxBytes: MAX_DOCUMENT_BYTES,
};

describe('the remote fetch transport (axios)', () => {
  const peer = new TestPeer({ clusterUUID: 'peer-uuid', trustDomain: 'cluster-b.local' });
  let url: string;
  const get = (ifNoneMatch?: string) =>
    fetchDocument({ url, tls: { ca: peer.pki.ca.certPem }, limits: LIMITS, ifNoneMatch });

  beforeAll(async () => {
    await peer.start();
    url = `${peer.endpoint}public/public.json`;
  });
  afterAll(() => peer.stop());
  afterEach(() => {
    peer.publicBehaviour = { kind: 'document' };
    peer.etags = false;
  });

  it('asks for no content encoding and follows no proxy from the environment', async () => {
    const saved = { HTTPS_PROXY: process.env.HTTPS_PROXY, https_proxy: process.env.https_proxy };
    // A proxy nobody listens on: used, it would make the fetch fail.
    process.env.HTTPS_PROXY = process.env.https_proxy = 'http://127.0.0.1:9';
    try {
      const result = await get();
      expect(result.ok).toBe(true);
    } finally {
      for (const [key, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
    }
    const headers = peer.requestHeaders.at(-1)!;
    expect(headers['accept-encoding']).toBeUndefined();
    expect(headers['if-none-match']).toBeUndefined();
    expect(headers.accept).toBe('application/json');
  });

  it('refuses a gzip-encoded body instead of decompressing it', async () => {
    const bomb = gzipSync(Buffer.alloc(50 * 1024 * 1024, 0x20));
    peer.publicBehaviour = {
      kind: 'raw',
      body: bomb.toString('latin1'),
      headers: { 'Content-Encoding': 'gzip' },
    };
    const result = await get();
    expect(result).toMatchObject({
      ok: false,
      reason: 'InvalidDocument',
      message: expect.stringContaining('Content-Encoding: gzip'),
    });
  });

  it('cuts an endless body at the cap, holding no more than the cap', async () => {
    peer.publicBehaviour = { kind: 'stream', bytes: Number.POSITIVE_INFINITY, declareLength: false };
    const result = await get();
    expect(result).toMatchObject({
      ok: false,
      reason: 'TooLarge',
      message: expect.stringContaining('cut off'),
    });
    const stream = peer.streams.at(-1)!;
    expect(stream.completed).toBe(false);
    // The peer wrote the cap plus what socket buffers took before the client hung up.
    expect(stream.written).toBeLessThan(16 * MAX_DOCUMENT_BYTES);
  });

  it('returns the ETag of a document and a 304 as "not modified" when it is sent back', async () => {
    peer.etags = true;
    const first = await get();
    expect(first).toMatchObject({ ok: true, etag: expect.stringMatching(/^"[\w-]+"$/) });
    expect(first.ok && first.notModified).toBeFalsy();
    const etag = first.ok ? first.etag! : '';
    const second = await get(etag);
    expect(second).toMatchObject({ ok: true, notModified: true });
    expect(peer.requestHeaders.at(-1)!['if-none-match']).toBe(etag);
    expect(peer.responses.get(304)).toBeGreaterThanOrEqual(1);
    // A stale validator gets the full document and the new ETag.
    const third = await get('"something-else"');
    expect(third).toMatchObject({ ok: true, etag });
    expect(third.ok && third.body.length).toBeGreaterThan(0);
  });

  it('treats a 304 to an unconditional request as an error', async () => {
    peer.publicBehaviour = { kind: 'raw', status: 304, body: '' };
    const result = await get();
    expect(result).toMatchObject({ ok: false, reason: 'HTTPError', message: expect.stringContaining('304') });
  });

  it('has no ETag from a peer that sends none (Deckhouse)', async () => {
    const result = await get();
    expect(result.ok).toBe(true);
    expect(result.ok && result.etag).toBeUndefined();
  });
});

describe('one keep-alive connection per peer fetch', () => {
  const peer = new TestPeer({ clusterUUID: 'peer-uuid', trustDomain: 'cluster-b.local' });
  beforeAll(() => peer.start());
  afterAll(() => peer.stop());

  it('carries both requests, and a slow answer on it is bounded by the request timeout, not the connect timeout', async () => {
    const connection = peerConnection();
    const limits = { ...LIMITS, connectTimeoutMs: 300, requestTimeoutMs: 10_000 };
    try {
      const tls = { ca: peer.pki.ca.certPem };
      const first = await fetchDocument({
        url: `${peer.endpoint}public/public.json`,
        tls,
        limits,
        connection,
      });
      expect(first.ok).toBe(true);
      // Answered after three connect timeouts: a connect timer left running would abort it.
      peer.publicBehaviour = { kind: 'delayed', ms: 900 };
      const second = await fetchDocument({
        url: `${peer.endpoint}public/public.json`,
        tls,
        limits,
        connection,
      });
      expect(second.ok).toBe(true);
      expect(peer.connections).toBe(1);
    } finally {
      connection.close();
      peer.publicBehaviour = { kind: 'document' };
    }
  });
});

describe('entityTagOf', () => {
  it('keeps well-formed, bounded entity tags only', () => {
    expect(entityTagOf('"abc"')).toBe('"abc"');
    expect(entityTagOf('W/"abc"')).toBe('W/"abc"');
    expect(entityTagOf('abc')).toBeUndefined();
    expect(entityTagOf('"a"b"')).toBeUndefined();
    expect(entityTagOf('"a\r\nX-Injected: 1"')).toBeUndefined();
    expect(entityTagOf(`"${'x'.repeat(500)}"`)).toBeUndefined();
    expect(entityTagOf(undefined)).toBeUndefined();
  });
});
