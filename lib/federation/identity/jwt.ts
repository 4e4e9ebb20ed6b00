import { decodeJwt, jwtVerify, SignJWT, errors as joseErrors } from 'jose';
import { parseAuthnPrivateKey, parseAuthnPublicKey } from './authn-keys';

/**
 * Peer authentication between clusters, wire-compatible with the reference: compact JWS,
 * alg EdDSA (Ed25519), claims iss `d8-istio`, aud = the remote clusterUUID, sub = our
 * clusterUUID, scope = the route's scope, nbf = now, exp = now + 60 s.
 */
export const TOKEN_ISSUER = 'd8-istio';
export const PRIVATE_FEDERATION_SCOPE = 'private-federation';
export const PRIVATE_MULTICLUSTER_SCOPE = 'private-multicluster';
export const TOKEN_TTL_SECONDS = 60;
/** Larger tokens are refused before any parsing (a real one is ~400 bytes). */
export const MAX_TOKEN_BYTES = 4096;

export interface SignOptions {
  privateKeyPem: string;
  /** The remote cluster's UUID (from its public document). */
  audience: string;
  /** Our own cluster UUID. */
  subject: string;
  scope?: string;
  now?: Date;
  /** Lifetime (exp - nbf); TOKEN_TTL_SECONDS unless the caller chooses (the `api` token). */
  ttlSeconds?: number;
}

export async function signPeerToken(options: SignOptions): Promise<string> {
  const now = Math.floor((options.now ?? new Date()).getTime() / 1000);
  return new SignJWT({ scope: options.scope ?? PRIVATE_FEDERATION_SCOPE })
    .setProtectedHeader({ alg: 'EdDSA', typ: 'JWT' })
    .setIssuer(TOKEN_ISSUER)
    .setAudience(options.audience)
    .setSubject(options.subject)
    .setNotBefore(now)
    .setExpirationTime(now + (options.ttlSeconds ?? TOKEN_TTL_SECONDS))
    .sign(parseAuthnPrivateKey(options.privateKeyPem));
}

/** A refused token; `reason` is short and safe to return to the client. */
export class TokenRejected extends Error {
  constructor(readonly reason: string) {
    super(reason);
  }
}

export interface VerifyOptions {
  /** This cluster's UUID: the only accepted audience. */
  ownClusterUUID: string;
  scope: string;
  /** The authnKeyPub (PEM) of a known remote cluster, by its clusterUUID. */
  peerPublicKey: (clusterUUID: string) => string | undefined;
  now?: Date;
  /** Leeway for `nbf`/`exp` against clock skew between clusters (the peer sets nbf = its now). */
  clockToleranceSeconds?: number;
  /**
   * A peer whose clock runs ahead sends a token whose `nbf` is in our future; the reference
   * exporter ignores nbf, so such a peer works with Deckhouse. Accepted when `nbf` is ahead
   * of us by at most the token's own lifetime (`exp - nbf`) and at most this many seconds.
   * `exp` keeps its strict check (clockToleranceSeconds only): skew never extends a token.
   */
  maxNotBeforeSkewSeconds?: number;
}

/**
 * The time the token's claims are checked at: `now`, or — for a token from a peer whose
 * clock runs ahead within the allowed skew — its `nbf`. Since then nbf <= checked time < exp
 * and nbf > now, exp is still in our future: only the nbf check is relaxed. The claims read
 * here are unverified; jwtVerify then checks the signature over exactly these values.
 */
export function claimCheckTime(
  claims: { nbf?: unknown; exp?: unknown },
  now: Date,
  options: { clockToleranceSeconds?: number; maxNotBeforeSkewSeconds?: number },
): Date {
  const { nbf, exp } = claims;
  const maxSkew = options.maxNotBeforeSkewSeconds ?? 0;
  if (typeof nbf !== 'number' || typeof exp !== 'number' || maxSkew <= 0) return now;
  const nowSeconds = now.getTime() / 1000;
  const ahead = nbf - nowSeconds;
  if (ahead <= (options.clockToleranceSeconds ?? 0)) return now;
  const lifetime = exp - nbf;
  if (lifetime <= 0 || ahead > Math.min(lifetime, maxSkew)) return now;
  return new Date(nbf * 1000);
}

/** Verifies a bearer token as the reference exporter does; returns the peer's clusterUUID. */
export async function verifyPeerToken(token: string, options: VerifyOptions): Promise<{ subject: string }> {
  if (token.length > MAX_TOKEN_BYTES) throw new TokenRejected('token too large');
  let subject: unknown;
  let claims: { nbf?: unknown; exp?: unknown; sub?: unknown };
  try {
    claims = decodeJwt(token);
    subject = claims.sub;
  } catch {
    throw new TokenRejected('malformed token');
  }
  if (typeof subject !== 'string' || subject.length === 0) throw new TokenRejected('token has no subject');
  const pem = options.peerPublicKey(subject);
  if (!pem) throw new TokenRejected('unknown subject');
  let payload: Record<string, unknown>;
  try {
    ({ payload } = await jwtVerify(token, parseAuthnPublicKey(pem), {
      algorithms: ['EdDSA', 'Ed25519'],
      audience: options.ownClusterUUID,
      requiredClaims: ['exp', 'aud', 'sub'],
      currentDate: claimCheckTime(claims, options.now ?? new Date(), options),
      ...(options.clockToleranceSeconds ? { clockTolerance: options.clockToleranceSeconds } : {}),
    }));
  } catch (error) {
    throw new TokenRejected(rejectionReason(error));
  }
  if (payload.scope !== options.scope) throw new TokenRejected('wrong scope');
  return { subject };
}

function rejectionReason(error: unknown): string {
  if (error instanceof joseErrors.JWTExpired) return 'token expired';
  if (error instanceof joseErrors.JWTClaimValidationFailed) return `invalid claim ${error.claim}`;
  if (error instanceof joseErrors.JOSEAlgNotAllowed) return 'algorithm not allowed';
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) return 'bad signature';
  return 'invalid token';
}
