import { compactVerify, decodeJwt, decodeProtectedHeader } from 'jose';
import { parseAuthnPublicKey } from '../federation/identity/authn-keys';
import { signPeerToken, TOKEN_ISSUER } from '../federation/identity/jwt';

/**
 * The `scope: api` token our istiod presents to a peer's api-proxy (the bearer token of the
 * kubeconfig in the remote Secret). Pure decision: reuse the token we issued before, byte for
 * byte, or issue a new one. istiod stops and rebuilds a remote cluster on every change of
 * its Secret, so a token is reissued only for a reason, never on a run without one.
 *
 * Lifetime policy: 30 days, renewed when less than 10 days remain.
 * - The reference issues 366-day tokens (renewed below 30 days); nothing can revoke them
 *   except rotating the key pair or the peer dropping our public document. A token leaks
 *   with the remote Secret (anyone who can read Secrets in d8-istio, or an istiod dump), so
 *   its lifetime bounds the exposure: 30 days is 12x shorter than the reference.
 * - Each renewal changes the Secret once per peer (one remote-cluster rebuild in istiod):
 *   every ~20 days here instead of yearly; shorter (hours, as MULTICLUSTER.md §10 suggests)
 *   would turn that rebuild into a routine hourly event and make the mesh depend on the
 *   hook running every few hours.
 * - 10 days of margin: the hook checks at least daily (schedule), so renewal survives a
 *   stopped addon-operator or failing module queue for 9 days before a peer's api-proxy
 *   would refuse us. Peers (Deckhouse or ours) only check `exp`, so any lifetime up to 366
 *   days is accepted by them.
 * - A token longer-lived than this policy (a Deckhouse-made 366-day one found while
 *   migrating, or an older policy) is reissued, so the policy holds from the first run.
 */

export const API_SCOPE = 'api';
const DAY_SECONDS = 24 * 60 * 60;
export const API_TOKEN_TTL_SECONDS = 30 * DAY_SECONDS;
export const API_TOKEN_RENEW_BEFORE_SECONDS = 10 * DAY_SECONDS;
/** Clock slack for `nbf` in the future and for an `exp` beyond the policy. */
const SLACK_SECONDS = 60 * 60;

/** For whom the token is, and where it is presented. */
export interface ApiTokenTarget {
  /** The peer's clusterUUID: `aud`. */
  peerUUID: string;
  /** Our clusterUUID: `sub`. */
  ownUUID: string;
  /** The peer's api host (`host` or `host:port`): the kubeconfig's server is `https://<apiHost>`. */
  apiHost: string;
}

/** Our authn key pair (PEM): the token must verify with the public half we publish now. */
export interface ApiTokenKeys {
  pub: string;
  priv: string;
}

/** A token found earlier and the server it was presented to. */
export interface TokenCandidate {
  source: 'secret' | 'values';
  token: string;
  /** The kubeconfig's server URL (Secret), or `https://<apiHost>` (values). */
  server: string;
}

export type ReissueReason =
  | 'Absent'
  | 'Malformed'
  | 'KeyChanged'
  | 'WrongIssuer'
  | 'WrongSubject'
  | 'WrongAudience'
  | 'WrongScope'
  | 'ApiHostChanged'
  | 'NotYetValid'
  | 'LongerThanPolicy'
  | 'Expiring';

export function serverOf(apiHost: string): string {
  return `https://${apiHost}`;
}

const sameServer = (a: string, b: string): boolean => a.replace(/\/+$/, '') === b.replace(/\/+$/, '');

/** Why this token must not be reused for the target; undefined when it can be kept as is. */
export async function tokenProblem(
  candidate: TokenCandidate,
  target: ApiTokenTarget,
  keys: Pick<ApiTokenKeys, 'pub'>,
  now: Date,
): Promise<ReissueReason | undefined> {
  let claims: Record<string, unknown>;
  try {
    if (decodeProtectedHeader(candidate.token).alg !== 'EdDSA') return 'Malformed';
    claims = decodeJwt(candidate.token);
  } catch {
    return 'Malformed';
  }
  try {
    await compactVerify(candidate.token, parseAuthnPublicKey(keys.pub), { algorithms: ['EdDSA'] });
  } catch {
    return 'KeyChanged';
  }
  if (claims.iss !== TOKEN_ISSUER) return 'WrongIssuer';
  if (claims.sub !== target.ownUUID) return 'WrongSubject';
  if (claims.aud !== target.peerUUID) return 'WrongAudience';
  if (claims.scope !== API_SCOPE) return 'WrongScope';
  if (!sameServer(candidate.server, serverOf(target.apiHost))) return 'ApiHostChanged';
  const nowSeconds = now.getTime() / 1000;
  const { nbf, exp } = claims;
  if (typeof exp !== 'number') return 'Malformed';
  if (typeof nbf === 'number' && nbf > nowSeconds + SLACK_SECONDS) return 'NotYetValid';
  if (exp - nowSeconds > API_TOKEN_TTL_SECONDS + SLACK_SECONDS) return 'LongerThanPolicy';
  if (exp - nowSeconds < API_TOKEN_RENEW_BEFORE_SECONDS) return 'Expiring';
  return undefined;
}

export type TokenChoice =
  | { token: string; reused: TokenCandidate['source'] }
  /** A new token; `reason` is why the first candidate (the Secret's, else the values') was not kept. */
  | { token: string; issued: true; reason: ReissueReason };

/**
 * The first reusable candidate (the Secret's first: it is what istiod runs with; then the one
 * already in values, which Helm has not applied yet or which outlived a deleted Secret), else
 * a new token for the target.
 */
export async function chooseApiToken(
  candidates: readonly TokenCandidate[],
  target: ApiTokenTarget,
  keys: ApiTokenKeys,
  now: Date,
): Promise<TokenChoice> {
  let reason: ReissueReason = 'Absent';
  for (const [index, candidate] of candidates.entries()) {
    const problem = await tokenProblem(candidate, target, keys, now);
    if (problem === undefined) return { token: candidate.token, reused: candidate.source };
    if (index === 0) reason = problem;
  }
  return { token: await issueApiToken(target, keys, now), issued: true, reason };
}

export function issueApiToken(target: ApiTokenTarget, keys: Pick<ApiTokenKeys, 'priv'>, now: Date) {
  return signPeerToken({
    privateKeyPem: keys.priv,
    audience: target.peerUUID,
    subject: target.ownUUID,
    scope: API_SCOPE,
    now,
    ttlSeconds: API_TOKEN_TTL_SECONDS,
  });
}
