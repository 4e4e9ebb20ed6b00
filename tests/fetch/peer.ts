import { createHash, createPublicKey, generateKeyPairSync, verify } from 'node:crypto';
import https from 'node:https';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { makeCertificate, makeServerPki, type TestCertificate } from './certs';

/**
 * A remote cluster's metadata exporter for tests: a real HTTPS server on 127.0.0.1 that
 * speaks Deckhouse's formats (PEM labels `ED25519 PUBLIC KEY`/`ED25519 PRIVATE KEY`,
 * Go's JSON: HTML characters escaped, nil slices as `null`) and checks bearer tokens the
 * way the reference exporter does. The token check is written here from scratch with
 * node:crypto on the JWS parts, independently of lib/federation/identity/jwt.ts.
 */

export type Behaviour =
  | { kind: 'document' }
  | { kind: 'raw'; status?: number; body: string; headers?: Record<string, string> }
  | { kind: 'hang' }
  | { kind: 'delayed'; ms: number }
  | { kind: 'redirect'; location: string }
  | { kind: 'stream'; bytes: number; declareLength: boolean };

/** Deckhouse-labelled Ed25519 key pair, generated without lib/federation/authn-keys. */
export function deckhouseKeypair(): { pub: string; priv: string } {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  return {
    pub: publicKey
      .export({ type: 'spki', format: 'pem' })
      .toString()
      .replace(/(BEGIN|END) PUBLIC KEY/g, '$1 ED25519 PUBLIC KEY'),
    priv: privateKey
      .export({ type: 'pkcs8', format: 'pem' })
      .toString()
      .replace(/(BEGIN|END) PRIVATE KEY/g, '$1 ED25519 PRIVATE KEY'),
  };
}

/** Go's encoding/json output: `<`, `>` and `&` escaped as \u003c, \u003e, \u0026; a trailing newline (json.Encoder). */
export function goJson(value: unknown): string {
  return (
    JSON.stringify(value).replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026') + '\n'
  );
}

/** The token-protected paths and their scopes (the private documents serve `privateDocument`). */
const PRIVATE_PATH_SCOPES = new Map([
  ['/metadata/private/federation.json', 'private-federation'],
  ['/metadata/private/multicluster.json', 'private-multicluster'],
  ['/api', 'api'],
]);

export interface TokenCheck {
  accepted: boolean;
  reason: string;
  claims?: Record<string, unknown>;
}

export interface TestPeerOptions {
  clusterUUID: string;
  trustDomain: string;
  /** The private document as the exporter would marshal it (object, or a raw body). */
  privateDocument?: unknown;
  /** Known remotes: clusterUUID -> authnKeyPub PEM (Deckhouse or standard label). */
  knownPeers?: Record<string, string>;
  /** Clock of the token check (tests pass the hook's `now`). */
  now?: () => Date;
  /** Called with every token check, before the response is sent. */
  onTokenCheck?: (check: TokenCheck) => void;
  /** Called when a response has been sent. */
  onResponse?: (response: PeerResponse) => void;
}

export interface PeerResponse {
  path: string;
  status: number;
  ifNoneMatch: string | null;
}

export class TestPeer {
  readonly pki: { ca: TestCertificate; server: TestCertificate };
  readonly rootCA: TestCertificate;
  readonly keypair = deckhouseKeypair();
  private readonly options: TestPeerOptions;
  publicBehaviour: Behaviour = { kind: 'document' };
  privateBehaviour: Behaviour = { kind: 'document' };
  /**
   * `GET /api` as an api-proxy in front of a kube-apiserver: `scope: api` tokens checked like
   * the private documents' ('document': the APIVersions below once the token passes).
   */
  apiBehaviour: Behaviour = { kind: 'document' };
  apiVersions: unknown = {
    kind: 'APIVersions',
    versions: ['v1'],
    serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: '10.0.0.1:6443' }],
  };
  /** Overrides of the public document's fields. */
  publicOverrides: Record<string, unknown> = {};
  readonly tokenChecks: TokenCheck[] = [];
  readonly requests: string[] = [];
  /** The headers of every request, in order (same index as `requests`). */
  readonly requestHeaders: IncomingHttpHeaders[] = [];
  /**
   * Send an ETag with documents and answer 304 to a matching If-None-Match, as our
   * exporter does; false: as Deckhouse's exporter, no validators at all.
   */
  etags = false;
  /** TCP connections accepted. */
  connections = 0;
  /** Responses by status code, counted (200, 304, 401...). */
  readonly responses = new Map<number, number>();
  /** Bytes of streamed bodies actually written before the client went away, and whether the stream ended. */
  readonly streams: { written: number; completed: boolean }[] = [];
  private server?: https.Server;
  private readonly sockets = new Set<Socket>();

  constructor(options: TestPeerOptions) {
    this.options = options;
    this.pki = makeServerPki(options.trustDomain);
    this.rootCA = makeCertificate({ commonName: `${options.trustDomain} istio root`, isCA: true });
  }

  get clusterUUID(): string {
    return this.options.clusterUUID;
  }

  /** A rebuilt cluster: new identity, same endpoint. */
  set clusterUUID(uuid: string) {
    this.options.clusterUUID = uuid;
  }

  set privateDocument(doc: unknown) {
    this.options.privateDocument = doc;
  }

  trustPeer(clusterUUID: string, pubPem: string): void {
    this.options.knownPeers = { ...this.options.knownPeers, [clusterUUID]: pubPem };
  }

  async start(): Promise<string> {
    const server = https.createServer(
      { cert: this.pki.server.certPem, key: this.pki.server.keyPem },
      (req, res) => this.handle(req, res),
    );
    server.on('connection', (socket: Socket) => {
      this.connections++;
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    // The hook under test may reset connections; that is not the peer's failure.
    server.on('tlsClientError', () => undefined);
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return this.endpoint;
  }

  get endpoint(): string {
    const address = this.server?.address();
    if (!address || typeof address === 'string') throw new Error('peer not started');
    return `https://127.0.0.1:${address.port}/metadata/`;
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  publicDocument(): Record<string, unknown> {
    return {
      clusterUUID: this.options.clusterUUID,
      authnKeyPub: this.keypair.pub,
      rootCA: this.rootCA.certPem,
      ...this.publicOverrides,
    };
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '').replace(/\?.*$/, '');
    this.requests.push(path);
    this.requestHeaders.push(req.headers);
    res.once('finish', () => {
      this.responses.set(res.statusCode, (this.responses.get(res.statusCode) ?? 0) + 1);
      this.options.onResponse?.({
        path,
        status: res.statusCode,
        ifNoneMatch: req.headers['if-none-match'] ?? null,
      });
    });
    if (path === '/metadata/public/public.json')
      return this.respond(res, this.publicBehaviour, () => this.publicDocument(), req);
    const scope = PRIVATE_PATH_SCOPES.get(path);
    if (scope !== undefined) {
      const behaviour = path === '/api' ? this.apiBehaviour : this.privateBehaviour;
      if (behaviour.kind === 'document') {
        const check = this.checkToken(req.headers.authorization, scope);
        this.tokenChecks.push(check);
        this.options.onTokenCheck?.(check);
        if (!check.accepted) {
          res.writeHead(401, { 'Content-Type': 'text/plain' }).end(check.reason + '\n');
          return;
        }
      }
      const document = () => (path === '/api' ? this.apiVersions : (this.options.privateDocument ?? {}));
      return this.respond(res, behaviour, document, req);
    }
    res.writeHead(404).end('not found\n');
  }

  private respond(
    res: ServerResponse,
    behaviour: Behaviour,
    document: () => unknown,
    req: IncomingMessage,
  ): void {
    switch (behaviour.kind) {
      case 'document': {
        const doc = document();
        const body = typeof doc === 'string' ? doc : goJson(doc);
        if (!this.etags) {
          res.writeHead(200, { 'Content-Type': 'application/json' }).end(body);
          return;
        }
        const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
        if (req.headers['if-none-match'] === etag) {
          res.writeHead(304, { ETag: etag }).end();
          return;
        }
        res.writeHead(200, { 'Content-Type': 'application/json', ETag: etag }).end(body);
        return;
      }
      case 'raw':
        res.writeHead(behaviour.status ?? 200, behaviour.headers ?? {}).end(behaviour.body);
        return;
      case 'hang':
        return; // headers never sent; the socket stays open until the client gives up
      case 'delayed': {
        const doc = document();
        setTimeout(
          () => res.writeHead(200, { 'Content-Type': 'application/json' }).end(goJson(doc)),
          behaviour.ms,
        );
        return;
      }
      case 'redirect':
        res.writeHead(302, { Location: behaviour.location }).end();
        return;
      case 'stream':
        this.stream(res, behaviour.bytes, behaviour.declareLength);
    }
  }

  private stream(res: ServerResponse, bytes: number, declareLength: boolean): void {
    const record = { written: 0, completed: false };
    this.streams.push(record);
    res.writeHead(200, {
      'Content-Type': 'application/json',
      ...(declareLength ? { 'Content-Length': String(bytes) } : {}),
    });
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    let closed = false;
    res.on('close', () => (closed = true));
    const pump = (): void => {
      while (!closed && record.written < bytes) {
        const piece = chunk.subarray(0, Math.min(chunk.length, bytes - record.written));
        record.written += piece.length;
        if (!res.write(piece)) {
          res.once('drain', pump);
          return;
        }
      }
      if (!closed) {
        record.completed = true;
        res.end();
      }
    };
    pump();
  }

  private checkToken(authorization: string | undefined, scope: string): TokenCheck {
    return deckhouseTokenCheck(authorization, {
      clusterUUID: this.options.clusterUUID,
      scope,
      knownPeers: this.options.knownPeers ?? {},
      now: this.options.now?.() ?? new Date(),
    });
  }
}

/**
 * A Deckhouse exporter's / api-proxy's token check (MULTICLUSTER.md §3), written from its
 * rules with node:crypto, independently of lib/federation/identity/jwt.ts: the payload is
 * decoded first; `aud` must be our UUID, `scope` the route's, `exp` not past, `sub` a known
 * peer, and the Ed25519 signature must verify with that peer's key. Nothing else: `iss`,
 * `nbf`, the header (`alg`, `typ`) and the lifetime are not looked at, so a token this
 * accepts is one Deckhouse accepts.
 */
export function deckhouseTokenCheck(
  authorization: string | undefined,
  own: { clusterUUID: string; scope: string; knownPeers: Record<string, string>; now: Date },
): TokenCheck {
  const match = /^Bearer (.+)$/.exec(authorization ?? '');
  if (!match) return { accepted: false, reason: 'missing bearer token' };
  const parts = match[1]!.split('.');
  if (parts.length !== 3) return { accepted: false, reason: 'malformed token' };
  const [headerPart, payloadPart, signaturePart] = parts as [string, string, string];
  let claims: Record<string, unknown>;
  try {
    claims = JSON.parse(Buffer.from(payloadPart, 'base64url').toString('utf8')) as Record<string, unknown>;
  } catch {
    return { accepted: false, reason: 'malformed token' };
  }
  if (claims.aud !== own.clusterUUID) return { accepted: false, reason: 'wrong audience', claims };
  if (claims.scope !== own.scope) return { accepted: false, reason: 'wrong scope', claims };
  const nowSeconds = Math.floor(own.now.getTime() / 1000);
  if (typeof claims.exp !== 'number' || claims.exp < nowSeconds)
    return { accepted: false, reason: 'expired', claims };
  const pub = typeof claims.sub === 'string' ? own.knownPeers[claims.sub] : undefined;
  if (!pub) return { accepted: false, reason: 'unknown subject', claims };
  const key = createPublicKey(pub.replace(/(BEGIN|END) ED25519 PUBLIC KEY/g, '$1 PUBLIC KEY'));
  if (key.asymmetricKeyType !== 'ed25519') return { accepted: false, reason: 'not an Ed25519 key', claims };
  const signed = verify(
    null,
    Buffer.from(`${headerPart}.${payloadPart}`),
    key,
    Buffer.from(signaturePart, 'base64url'),
  );
  return signed
    ? { accepted: true, reason: 'ok', claims }
    : { accepted: false, reason: 'bad signature', claims };
}
