import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { MAX_DOCUMENT_BYTES } from '../../lib/federation/wire/documents';
import { fetchAllPeers } from '../../lib/federation/fetch/peer';
import { ERROR_EXCERPT_BYTES, fetchDocument, type FetchLimits } from '../../lib/federation/fetch/transport';
import { FEDERATION_KIND } from '../../lib/federation/kind';
import { prepareTls, systemCaCertificates } from '../../lib/federation/fetch/tls';
import { makeServerPki } from './certs';
import { deckhouseKeypair, TestPeer } from './peer';
import { metadataEndpointOf } from '../../lib/federation/identity/local';
import { closedPort } from '../support/closed-port';

// Small timeouts injected so "never answers" cases end quickly; sizes stay at the real cap.
const LIMITS: FetchLimits = {
  connectTimeoutMs: 2_000,
  tlsHandshakeTimeoutMs: 400,
  requestTimeoutMs: 600,
  maxBytes: MAX_DOCUMENT_BYTES,
};

describe('fetchDocument over real HTTPS on loopback', () => {
  const peer = new TestPeer({ clusterUUID: 'peer-uuid', trustDomain: 'cluster-b.local' });
  let publicUrl: string;

  beforeAll(async () => {
    await peer.start();
    publicUrl = `${peer.endpoint}public/public.json`;
  });
  afterAll(() => peer.stop());
  afterEach(() => {
    peer.publicBehaviour = { kind: 'document' };
  });

  it('fetches a document trusting the federation CA on top of the system roots', async () => {
    const result = await fetchDocument({ url: publicUrl, tls: { ca: peer.pki.ca.certPem }, limits: LIMITS });
    expect(result.ok).toBe(true);
    if (result.ok) expect(JSON.parse(result.body.toString())).toMatchObject({ clusterUUID: 'peer-uuid' });
  });

  it('reports a TLS error when the server certificate is not signed by the configured CA', async () => {
    const other = makeServerPki('other');
    const result = await fetchDocument({ url: publicUrl, tls: { ca: other.ca.certPem }, limits: LIMITS });
    expect(result).toMatchObject({ ok: false, reason: 'TLSError' });
  });

  it('reports a TLS error with only the system roots', async () => {
    const result = await fetchDocument({ url: publicUrl, limits: LIMITS });
    expect(result).toMatchObject({ ok: false, reason: 'TLSError' });
  });

  describe('the OS trust store counts as system roots', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fetch-ca-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    const bundle = (name: string, ...pems: string[]): string => {
      const path = join(dir, name);
      writeFileSync(path, pems.join('\n'));
      return path;
    };
    const unrelated = makeServerPki('unrelated').ca.certPem;

    it('trusts a server whose CA is only in the OS bundle (first existing path used)', async () => {
      const path = bundle('with-peer.crt', unrelated, 'not a certificate', peer.pki.ca.certPem);
      const tls = prepareTls({}, { systemCaPaths: [join(dir, 'absent.crt'), path] });
      expect(await fetchDocument({ url: publicUrl, tls, limits: LIMITS })).toMatchObject({ ok: true });
    });

    it('still trusts spec.metadata.ca next to the OS bundle', async () => {
      const tls = prepareTls(
        { ca: peer.pki.ca.certPem },
        { systemCaPaths: [bundle('unrelated-only.crt', unrelated)] },
      );
      expect(await fetchDocument({ url: publicUrl, tls, limits: LIMITS })).toMatchObject({ ok: true });
    });

    it('refuses a server whose CA is nowhere', async () => {
      const tls = prepareTls({}, { systemCaPaths: [bundle('other.crt', unrelated)] });
      expect(await fetchDocument({ url: publicUrl, tls, limits: LIMITS })).toMatchObject({
        ok: false,
        reason: 'TLSError',
      });
    });

    it('reads a bundle once per process', () => {
      const path = bundle('once.crt', unrelated);
      expect(systemCaCertificates([path])).toHaveLength(1);
      writeFileSync(path, [unrelated, peer.pki.ca.certPem].join('\n'));
      expect(systemCaCertificates([path])).toHaveLength(1);
    });
  });

  it('skips verification only when insecureSkipVerify is set and no CA is given', async () => {
    expect(
      await fetchDocument({ url: publicUrl, tls: { insecureSkipVerify: true }, limits: LIMITS }),
    ).toMatchObject({
      ok: true,
    });
    const wrongCa = makeServerPki('wrong').ca.certPem;
    expect(
      await fetchDocument({ url: publicUrl, tls: { ca: wrongCa, insecureSkipVerify: true }, limits: LIMITS }),
    ).toMatchObject({ ok: false, reason: 'TLSError' });
  });

  it.each([
    ['garbage', 'not a pem'],
    ['a broken PEM block', '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n'],
  ])('reports an unusable spec.metadata.ca (%s) as a TLS error without throwing', async (_name, ca) => {
    const result = await fetchDocument({ url: publicUrl, tls: { ca }, limits: LIMITS });
    expect(result).toMatchObject({
      ok: false,
      reason: 'TLSError',
      message: expect.stringContaining('spec.metadata.ca'),
    });
  });

  it('reports HTTP 4xx and 5xx', async () => {
    peer.publicBehaviour = { kind: 'raw', status: 404, body: 'nope' };
    expect(
      await fetchDocument({ url: publicUrl, tls: { ca: peer.pki.ca.certPem }, limits: LIMITS }),
    ).toMatchObject({
      ok: false,
      reason: 'HTTPError',
      message: expect.stringContaining('HTTP 404'),
    });
    peer.publicBehaviour = { kind: 'raw', status: 503, body: 'down' };
    expect(
      await fetchDocument({ url: publicUrl, tls: { ca: peer.pki.ca.certPem }, limits: LIMITS }),
    ).toMatchObject({
      ok: false,
      reason: 'HTTPError',
      message: expect.stringContaining('HTTP 503'),
    });
  });

  it('keeps a bounded, printable excerpt of the error body with the status', async () => {
    const noisy = '\u0000\u001b[31mdown for maintenance\r\n\u00e9t\u00e9 ' + 'x'.repeat(5000);
    peer.publicBehaviour = { kind: 'raw', status: 503, body: noisy };
    const result = await fetchDocument({ url: publicUrl, tls: { ca: peer.pki.ca.certPem }, limits: LIMITS });
    expect(result).toMatchObject({ ok: false, reason: 'HTTPError', status: 503 });
    const excerpt = result.ok ? undefined : result.bodyExcerpt;
    expect(excerpt).toMatch(/^\[31mdown for maintenance t x+$/);
    expect(excerpt!.length).toBeLessThanOrEqual(ERROR_EXCERPT_BYTES);
    expect(excerpt).toMatch(/^[\x20-\x7e]+$/);
    // No body at all: the status alone.
    peer.publicBehaviour = { kind: 'raw', status: 500, body: '' };
    const bare = await fetchDocument({ url: publicUrl, tls: { ca: peer.pki.ca.certPem }, limits: LIMITS });
    expect(bare).toMatchObject({ ok: false, reason: 'HTTPError', status: 500 });
    expect(bare.ok ? 'ok' : bare.bodyExcerpt).toBeUndefined();
  });

  it('does not follow redirects, not even to the same host', async () => {
    const before = peer.requests.length;
    peer.publicBehaviour = { kind: 'redirect', location: `${peer.endpoint}private/federation.json` };
    const result = await fetchDocument({ url: publicUrl, tls: { ca: peer.pki.ca.certPem }, limits: LIMITS });
    expect(result).toMatchObject({
      ok: false,
      reason: 'Redirect',
      message: expect.stringContaining('HTTP 302'),
    });
    expect(peer.requests.slice(before)).toEqual(['/metadata/public/public.json']);
  });

  it('times out on a peer that accepts the request but never answers', async () => {
    peer.publicBehaviour = { kind: 'hang' };
    const result = await fetchDocument({ url: publicUrl, tls: { ca: peer.pki.ca.certPem }, limits: LIMITS });
    expect(result).toMatchObject({
      ok: false,
      reason: 'Timeout',
      message: expect.stringContaining('600 ms'),
    });
  });

  it('cuts a 10 MiB body off at the 1 MiB cap (no Content-Length)', async () => {
    peer.publicBehaviour = { kind: 'stream', bytes: 10 * 1024 * 1024, declareLength: false };
    const result = await fetchDocument({
      url: publicUrl,
      tls: { ca: peer.pki.ca.certPem },
      limits: { ...LIMITS, requestTimeoutMs: 10_000 },
    });
    expect(result).toMatchObject({
      ok: false,
      reason: 'TooLarge',
      message: expect.stringContaining('cut off'),
    });
    // The client hung up: the peer (which honours backpressure) never got to finish its 10 MiB.
    expect(peer.streams.at(-1)).toMatchObject({ completed: false });
  });

  it('refuses a declared Content-Length over the cap before reading the body', async () => {
    peer.publicBehaviour = { kind: 'stream', bytes: 10 * 1024 * 1024, declareLength: true };
    const result = await fetchDocument({ url: publicUrl, tls: { ca: peer.pki.ca.certPem }, limits: LIMITS });
    expect(result).toMatchObject({
      ok: false,
      reason: 'TooLarge',
      message: expect.stringContaining('10485760'),
    });
  });

  it('accepts a body of exactly the cap', async () => {
    peer.publicBehaviour = { kind: 'stream', bytes: MAX_DOCUMENT_BYTES, declareLength: false };
    const result = await fetchDocument({ url: publicUrl, tls: { ca: peer.pki.ca.certPem }, limits: LIMITS });
    expect(result.ok && result.body.length).toBe(MAX_DOCUMENT_BYTES);
  });
});

describe('fetchDocument failures below HTTP', () => {
  it('reports a closed port as Unreachable', async () => {
    const port = await closedPort();
    const result = await fetchDocument({ url: `https://127.0.0.1:${port}/x`, limits: LIMITS });
    expect(result).toMatchObject({
      ok: false,
      reason: 'Unreachable',
      message: expect.stringContaining('ECONNREFUSED'),
    });
  });

  it('times out the TLS handshake when the server accepts TCP but never speaks TLS', async () => {
    const sockets: Socket[] = [];
    const server: Server = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    try {
      const result = await fetchDocument({
        url: `https://127.0.0.1:${port}/x`,
        limits: { ...LIMITS, requestTimeoutMs: 5_000 },
      });
      expect(result).toMatchObject({
        ok: false,
        reason: 'Timeout',
        message: expect.stringContaining('TLS handshake'),
      });
    } finally {
      sockets.forEach((s) => s.destroy());
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe('fetchDocument with file:// endpoints', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fetch-file-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads a local file', async () => {
    writeFileSync(join(dir, 'ok.json'), '{"a":1}');
    const result = await fetchDocument({ url: pathToFileURL(join(dir, 'ok.json')).href, limits: LIMITS });
    expect(result.ok && result.body.toString()).toBe('{"a":1}');
  });

  it('applies the size cap to files', async () => {
    writeFileSync(join(dir, 'big.json'), Buffer.alloc(MAX_DOCUMENT_BYTES + 1, 0x20));
    const result = await fetchDocument({ url: pathToFileURL(join(dir, 'big.json')).href, limits: LIMITS });
    expect(result).toMatchObject({ ok: false, reason: 'TooLarge' });
  });

  it('refuses a character device instead of reading it (/dev/zero would fill the cap)', async () => {
    const result = await fetchDocument({ url: 'file:///dev/zero', limits: LIMITS });
    expect(result).toEqual({
      ok: false,
      reason: 'InvalidDocument',
      message: 'file:///dev/zero is a character device; only regular files are read',
    });
  });

  it('refuses a FIFO without waiting for a writer', async () => {
    const fifo = join(dir, 'fifo.json');
    execFileSync('mkfifo', [fifo]);
    const result = await fetchDocument({ url: pathToFileURL(fifo).href, limits: LIMITS });
    expect(result).toMatchObject({
      ok: false,
      reason: 'InvalidDocument',
      message: expect.stringContaining('is a FIFO; only regular files are read'),
    });
  });

  it('refuses a directory', async () => {
    const result = await fetchDocument({ url: pathToFileURL(dir).href, limits: LIMITS });
    expect(result).toMatchObject({
      ok: false,
      reason: 'InvalidDocument',
      message: expect.stringContaining('is a directory'),
    });
  });

  it('reads a regular file through a symlink (mounted ConfigMaps are symlinks)', async () => {
    writeFileSync(join(dir, 'target.json'), '{"b":2}');
    symlinkSync(join(dir, 'target.json'), join(dir, 'link.json'));
    const result = await fetchDocument({ url: pathToFileURL(join(dir, 'link.json')).href, limits: LIMITS });
    expect(result.ok && result.body.toString()).toBe('{"b":2}');
  });

  it('reports a missing file as Unreachable', async () => {
    const result = await fetchDocument({
      url: pathToFileURL(join(dir, 'missing.json')).href,
      limits: LIMITS,
    });
    expect(result).toMatchObject({
      ok: false,
      reason: 'Unreachable',
      message: expect.stringContaining('ENOENT'),
    });
  });
});

describe('fetchAllPeers (issue 10 item 7)', () => {
  it('has every peer in flight at once: no pool makes silent peers wait for each other', async () => {
    // Silent peers: the server accepts TCP connections and never answers. Once all of them
    // are connected at the same time it closes them, which ends every fetch at once. With a
    // bounded pool the count never gets there: each fetch runs into its timeout instead.
    const peers = 40;
    // Generous timeouts: a loaded machine must not turn a slow connect into a Timeout here.
    const PATIENT = { ...LIMITS, tlsHandshakeTimeoutMs: 5_000, requestTimeoutMs: 5_000 };
    const held: Socket[] = [];
    const server: Server = createServer((socket) => {
      held.push(socket);
      socket.on('close', () => held.includes(socket) && held.splice(held.indexOf(socket), 1));
      if (held.length === peers) for (const s of held.splice(0)) s.destroy();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    try {
      const targets = Array.from({ length: peers }, (_, i) => ({
        name: `peer-${i}`,
        trustDomain: `p${i}.local`,
        metadataEndpoint: `https://127.0.0.1:${port}/metadata/`,
        tls: { insecureSkipVerify: true },
      }));
      const outcomes = await fetchAllPeers(
        targets,
        {
          local: { trustDomain: 'cluster-a.local', clusterUUID: 'u', authnPrivateKey: 'k' },
          now: new Date(),
          limits: PATIENT,
        },
        FEDERATION_KIND.codec,
      );
      expect(outcomes.size).toBe(peers);
      const reasons = [...outcomes.values()].map((o) =>
        o.outcome.public.ok ? 'ok' : o.outcome.public.failure.reason,
      );
      expect(reasons.filter((r) => r === 'Timeout')).toEqual([]);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe('a peer that rejects our token (issue 13, actionable status)', () => {
  const ours = deckhouseKeypair();
  const peer = new TestPeer({ clusterUUID: 'uuid-b', trustDomain: 'cluster-b.local', knownPeers: {} });
  beforeAll(() => peer.start());
  afterAll(() => peer.stop());
  const target = () => ({
    name: 'cluster-b',
    trustDomain: 'cluster-b.local',
    metadataEndpoint: peer.endpoint,
    tls: { ca: peer.pki.ca.certPem },
  });
  const local = {
    trustDomain: 'cluster-a.local',
    clusterUUID: 'uuid-a',
    authnPrivateKey: ours.priv,
    metadataEndpoint: metadataEndpointOf('%s.cluster-a.example.com'),
  };
  const fetchB = async () =>
    (await fetchAllPeers([target()], { local, now: new Date(), limits: LIMITS }, FEDERATION_KIND.codec)).get(
      'cluster-b',
    )!.outcome;

  it('is TokenRejected with the status, and says what its admin must create', async () => {
    const outcome = await fetchB();
    expect(outcome.public.ok).toBe(true);
    const failure = outcome.private?.ok === false ? outcome.private.failure : undefined;
    expect(failure).toMatchObject({ reason: 'TokenRejected', status: 401 });
    expect(failure?.message).toContain('HTTP 401');
    expect(failure?.message).toContain(
      'must create an IstioFederation with spec.trustDomain: cluster-a.local and spec.metadataEndpoint: https://istio-metadata.cluster-a.example.com/metadata/',
    );
    expect(failure?.message).toContain('uuid-a');
    // What the peer said, last, quoted: its token check's reason.
    expect(failure?.message).toMatch(/\(the peer said: "[ -~]+"\)$/);
  });

  it('403 too; other statuses stay HTTPError (with their status)', async () => {
    peer.privateBehaviour = { kind: 'raw', status: 403, body: 'forbidden' };
    expect((await fetchB()).private).toMatchObject({
      ok: false,
      failure: { reason: 'TokenRejected', status: 403 },
    });
    peer.privateBehaviour = { kind: 'raw', status: 500, body: 'oops' };
    expect((await fetchB()).private).toMatchObject({
      ok: false,
      failure: { reason: 'HTTPError', status: 500 },
    });
    peer.privateBehaviour = { kind: 'document' };
  });

  it('the metadata endpoint is the chart`s metadataHost', () => {
    expect(metadataEndpointOf('%s.example.com')).toBe('https://istio-metadata.example.com/metadata/');
    expect(metadataEndpointOf('%s-kube.example.com')).toBe(
      'https://istio-metadata-kube.example.com/metadata/',
    );
    expect(metadataEndpointOf('example.com')).toBeUndefined();
    expect(metadataEndpointOf(undefined)).toBeUndefined();
  });
});

describe('one request timeout per peer, both documents together (review finding)', () => {
  const ours = deckhouseKeypair();
  const peer = new TestPeer({
    clusterUUID: 'uuid-s',
    trustDomain: 'cluster-s.local',
    knownPeers: { 'uuid-a': ours.pub },
  });
  beforeAll(() => peer.start());
  afterAll(() => peer.stop());

  it('a peer that answers the public document slowly and then stalls gets only what is left', async () => {
    // The public document takes 300 ms of the 600 ms; the private one never answers.
    peer.publicBehaviour = { kind: 'delayed', ms: 300 };
    peer.privateBehaviour = { kind: 'hang' };
    const outcome = (
      await fetchAllPeers(
        [
          {
            name: 'slow',
            trustDomain: 'cluster-s.local',
            metadataEndpoint: peer.endpoint,
            tls: { ca: peer.pki.ca.certPem },
          },
        ],
        {
          local: { trustDomain: 'cluster-a.local', clusterUUID: 'uuid-a', authnPrivateKey: ours.priv },
          now: new Date(),
          limits: LIMITS,
        },
        FEDERATION_KIND.codec,
      )
    ).get('slow')!.outcome;
    expect(outcome.public.ok).toBe(true);
    const failure = outcome.private?.ok === false ? outcome.private.failure : undefined;
    expect(failure?.reason).toBe('Timeout');
    // The budget the private request got: the peer's 600 ms minus the ≥ 300 ms already spent.
    const budget = Number(/within (\d+) ms/.exec(failure?.message ?? '')?.[1]);
    expect(budget).toBeGreaterThan(0);
    expect(budget).toBeLessThanOrEqual(LIMITS.requestTimeoutMs - 300);
  });
});
