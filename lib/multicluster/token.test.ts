import { decodeJwt, decodeProtectedHeader, SignJWT } from 'jose';
import { generateAuthnKeypair, parseAuthnPrivateKey } from '../federation/identity/authn-keys';
import { verifyPeerToken } from '../federation/identity/jwt';
import {
  API_TOKEN_RENEW_BEFORE_SECONDS,
  API_TOKEN_TTL_SECONDS,
  chooseApiToken,
  issueApiToken,
  tokenProblem,
  type ApiTokenTarget,
  type TokenCandidate,
} from './token';

const keys = generateAuthnKeypair();
const otherKeys = generateAuthnKeypair();
const NOW = new Date('2026-11-30T12:00:00Z');
const DAY = 24 * 60 * 60;
const nowS = NOW.getTime() / 1000;
const target: ApiTokenTarget = {
  peerUUID: 'peer-uuid',
  ownUUID: 'our-uuid',
  apiHost: 'istio-api-proxy.b.example.com',
};
const SERVER = 'https://istio-api-proxy.b.example.com';
const daysAgo = (days: number) => new Date(NOW.getTime() - days * DAY * 1000);

/** A token with free claims, as a Deckhouse peer or an older policy could have made it. */
function sign(claims: Record<string, unknown>, nbf: number, exp: number, priv = keys.priv): Promise<string> {
  return new SignJWT({ scope: 'api', ...claims })
    .setProtectedHeader({ alg: 'EdDSA' })
    .setIssuer((claims.iss as string | undefined) ?? 'd8-istio')
    .setAudience((claims.aud as string | undefined) ?? target.peerUUID)
    .setSubject((claims.sub as string | undefined) ?? target.ownUUID)
    .setNotBefore(nbf)
    .setExpirationTime(exp)
    .sign(parseAuthnPrivateKey(priv));
}

const inSecret = (token: string, server = SERVER): TokenCandidate => ({ source: 'secret', token, server });

describe('api token: issue', () => {
  test('a new token is what a peer api-proxy accepts: scope api, aud = peer, sub = us, policy lifetime', async () => {
    const choice = await chooseApiToken([], target, keys, NOW);
    expect(choice).toMatchObject({ issued: true, reason: 'Absent' });
    const claims = decodeJwt(choice.token);
    expect(claims).toMatchObject({
      iss: 'd8-istio',
      aud: 'peer-uuid',
      sub: 'our-uuid',
      scope: 'api',
      nbf: nowS,
    });
    expect(claims.exp! - claims.nbf!).toBe(API_TOKEN_TTL_SECONDS);
    expect(decodeProtectedHeader(choice.token).alg).toBe('EdDSA');
    await expect(
      verifyPeerToken(choice.token, {
        ownClusterUUID: 'peer-uuid',
        scope: 'api',
        peerPublicKey: (uuid) => (uuid === 'our-uuid' ? keys.pub : undefined),
        now: new Date(NOW.getTime() + (API_TOKEN_TTL_SECONDS - 60) * 1000),
      }),
    ).resolves.toEqual({ subject: 'our-uuid' });
  });

  test('the policy renews well before expiry and within what Deckhouse peers accept (366 days)', () => {
    expect(API_TOKEN_RENEW_BEFORE_SECONDS).toBeGreaterThanOrEqual(7 * DAY);
    expect(API_TOKEN_RENEW_BEFORE_SECONDS).toBeLessThan(API_TOKEN_TTL_SECONDS / 2);
    expect(API_TOKEN_TTL_SECONDS).toBeLessThanOrEqual(366 * DAY);
  });
});

describe('api token: reuse keeps the exact bytes (istiod rebuilds the remote cluster on any change)', () => {
  test.each([0, 1, 19])('issued %i days ago: reused from the Secret', async (age) => {
    const token = await issueApiToken(target, keys, daysAgo(age));
    expect(await chooseApiToken([inSecret(token)], target, keys, NOW)).toEqual({ token, reused: 'secret' });
  });

  test('a trailing slash on the server is the same api host', async () => {
    const token = await issueApiToken(target, keys, daysAgo(1));
    expect(await tokenProblem(inSecret(token, `${SERVER}/`), target, keys, NOW)).toBeUndefined();
  });

  test('the Secret token unusable, the one in values still good (Helm not run yet): values reused', async () => {
    const fresh = await issueApiToken(target, keys, daysAgo(0));
    const stale = await issueApiToken(target, otherKeys, daysAgo(0));
    const choice = await chooseApiToken(
      [inSecret(stale), { source: 'values', token: fresh, server: SERVER }],
      target,
      keys,
      NOW,
    );
    expect(choice).toEqual({ token: fresh, reused: 'values' });
  });
});

describe('api token: every reissue reason', () => {
  const nbf = nowS - DAY;
  const exp = nowS + 20 * DAY;
  test.each<[string, () => Promise<TokenCandidate>, string]>([
    ['not a JWT', async () => inSecret('garbage'), 'Malformed'],
    [
      'unsigned (alg none)',
      async () => inSecret('eyJhbGciOiJub25lIn0.eyJzdWIiOiJvdXItdXVpZCJ9.'),
      'Malformed',
    ],
    [
      'signed by a previous key pair',
      async () => inSecret(await sign({}, nbf, exp, otherKeys.priv)),
      'KeyChanged',
    ],
    ['another issuer', async () => inSecret(await sign({ iss: 'someone' }, nbf, exp)), 'WrongIssuer'],
    [
      'another subject (our UUID changed)',
      async () => inSecret(await sign({ sub: 'old-uuid' }, nbf, exp)),
      'WrongSubject',
    ],
    [
      'another audience (the peer UUID changed)',
      async () => inSecret(await sign({ aud: 'old-peer' }, nbf, exp)),
      'WrongAudience',
    ],
    [
      'another scope',
      async () => inSecret(await sign({ scope: 'private-multicluster' }, nbf, exp)),
      'WrongScope',
    ],
    [
      'the api host changed',
      async () => inSecret(await sign({}, nbf, exp), 'https://old-host.example.com'),
      'ApiHostChanged',
    ],
    [
      'an api host with a port it did not have',
      async () => inSecret(await sign({}, nbf, exp), `${SERVER}:8443`),
      'ApiHostChanged',
    ],
    [
      'not valid before tomorrow',
      async () => inSecret(await sign({}, nowS + DAY, nowS + 30 * DAY)),
      'NotYetValid',
    ],
    [
      'a Deckhouse-style 366-day token',
      async () => inSecret(await sign({}, nowS, nowS + 366 * DAY)),
      'LongerThanPolicy',
    ],
    ['9 days left', async () => inSecret(await sign({}, nbf, nowS + 9 * DAY)), 'Expiring'],
    ['expired', async () => inSecret(await sign({}, nowS - 40 * DAY, nowS - DAY)), 'Expiring'],
  ])('%s -> %s', async (_name, candidate, reason) => {
    const found = await candidate();
    expect(await tokenProblem(found, target, keys, NOW)).toBe(reason);
    const choice = await chooseApiToken([found], target, keys, NOW);
    expect(choice).toMatchObject({ issued: true, reason });
    expect(choice.token).not.toBe(found.token);
    expect(await tokenProblem(inSecret(choice.token), target, keys, NOW)).toBeUndefined();
  });

  test('11 days left: kept; 10 days minus a second left: renewed', async () => {
    expect(
      await tokenProblem(inSecret(await sign({}, nbf, nowS + 11 * DAY)), target, keys, NOW),
    ).toBeUndefined();
    const edge = nowS + API_TOKEN_RENEW_BEFORE_SECONDS - 1;
    expect(await tokenProblem(inSecret(await sign({}, nbf, edge)), target, keys, NOW)).toBe('Expiring');
  });
});
