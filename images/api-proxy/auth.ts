import { decodeJwt } from 'jose';
import { TOKEN_ISSUER, TokenRejected, verifyPeerToken } from '../../lib/federation/identity/jwt';

/** The scope of the tokens a multicluster peer's istiod presents (the reference's). */
export const API_SCOPE = 'api';
/**
 * The reference mints `api` tokens for 366 days and reuses them until 30 days before
 * expiry, so a remaining lifetime of up to 366 days is normal; more means a token minted to
 * live (nearly) forever, refused even when validly signed. One day of slack for clocks.
 */
export const MAX_API_TOKEN_LIFETIME_SECONDS = 367 * 24 * 3600;
/** Leeway for exp and nbf, as the metadata exporter's. */
export const CLOCK_SKEW_TOLERANCE_SECONDS = 5;
/**
 * Peers set nbf to their own "now"; the reference ignores nbf altogether, so a peer whose
 * clock runs ahead works with Deckhouse. Tolerated up to 5 minutes ahead (the library
 * relaxes only the nbf check: exp stays strict, skew never extends a token).
 */
export const MAX_NOT_BEFORE_SKEW_SECONDS = 300;

export interface ApiTokenOptions {
  ownClusterUUID: string;
  /** authnKeyPub (PEM) of a known MULTICLUSTER peer by clusterUUID; federation peers are not in it. */
  peerPublicKey: (clusterUUID: string) => string | undefined;
  now?: Date;
}

/** A verified token: who presented it, the key that verified it, and until when it holds. */
export interface VerifiedApiToken {
  clusterUUID: string;
  /** The peer's authnKeyPub (PEM) the signature was verified with. */
  authnKeyPub: string;
  /** `exp` in seconds since the epoch. */
  exp: number;
}

/**
 * The api-proxy's token check: lib/federation/jwt.ts's verification (EdDSA only, aud = us,
 * sub a known peer whose key verifies the signature, exp/nbf with leeway, scope), plus
 * what that function has no option for: the issuer must be `d8-istio` and the remaining
 * lifetime is capped. Returns the peer, its key and the token's `exp`, so that a request can
 * be ended when the peer is removed, its key changes or the token expires (in-flight.ts).
 */
export async function verifyApiToken(token: string, options: ApiTokenOptions): Promise<VerifiedApiToken> {
  const now = options.now ?? new Date();
  let authnKeyPub: string | undefined;
  const { subject } = await verifyPeerToken(token, {
    ownClusterUUID: options.ownClusterUUID,
    scope: API_SCOPE,
    peerPublicKey: (uuid) => (authnKeyPub = options.peerPublicKey(uuid)),
    now,
    clockToleranceSeconds: CLOCK_SKEW_TOLERANCE_SECONDS,
    maxNotBeforeSkewSeconds: MAX_NOT_BEFORE_SKEW_SECONDS,
  });
  // Decoded again only after the signature was verified, so these are the peer's own claims.
  const claims = decodeJwt(token);
  if (claims.iss !== TOKEN_ISSUER) throw new TokenRejected('wrong issuer');
  const remaining = (claims.exp ?? 0) - Math.floor(now.getTime() / 1000);
  if (remaining > MAX_API_TOKEN_LIFETIME_SECONDS) throw new TokenRejected('token lifetime too long');
  // verifyPeerToken asked for the subject's key and refuses a token without exp.
  return { clusterUUID: subject, authnKeyPub: authnKeyPub!, exp: claims.exp! };
}

export { TokenRejected };
