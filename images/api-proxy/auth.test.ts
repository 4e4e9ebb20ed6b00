import { generateAuthnKeypair } from '../../lib/federation/identity/authn-keys';
import { eddsaToken, hmacWithPublicKeyToken, unsignedToken, type Claims } from '../../tests/exporter/tokens';
import { MAX_API_TOKEN_LIFETIME_SECONDS, TokenRejected, verifyApiToken } from './auth';

const OWN = 'own-uuid';
const PEER = 'peer-uuid';
const peerKeys = generateAuthnKeypair();
const otherKeys = generateAuthnKeypair();
const at = new Date('2026-11-30T12:00:00Z');
const now = Math.floor(at.getTime() / 1000);

const claims = (overrides: Claims = {}): Claims => ({
  iss: 'd8-istio',
  aud: OWN,
  sub: PEER,
  scope: 'api',
  nbf: now,
  exp: now + 366 * 86400,
  ...overrides,
});
const verify = (token: string) =>
  verifyApiToken(token, {
    ownClusterUUID: OWN,
    peerPublicKey: (u) => (u === PEER ? peerKeys.pub : undefined),
    now: at,
  });
const reason = (token: string) =>
  verify(token).then(
    () => 'accepted',
    (e: unknown) => (e instanceof TokenRejected ? e.reason : `unexpected ${String(e)}`),
  );

test("the reference's 366-day api token is accepted and names the peer, its key and exp", async () => {
  expect(await verify(eddsaToken(peerKeys.priv, claims(), { alg: 'EdDSA' }))).toEqual({
    clusterUUID: PEER,
    authnKeyPub: peerKeys.pub,
    exp: now + 366 * 86400,
  });
});

test('a token reused 11 months after minting is accepted', async () => {
  const minted = now - 335 * 86400;
  expect(await reason(eddsaToken(peerKeys.priv, claims({ nbf: minted, exp: minted + 366 * 86400 })))).toBe(
    'accepted',
  );
});

test('nbf up to 5 minutes ahead (peer clock skew) is accepted; further ahead is not', async () => {
  expect(await reason(eddsaToken(peerKeys.priv, claims({ nbf: now + 290 })))).toBe('accepted');
  expect(await reason(eddsaToken(peerKeys.priv, claims({ nbf: now + 600 })))).toBe('invalid claim nbf');
});

test('skew never extends a token: exp just past is refused even with nbf ahead', async () => {
  expect(await reason(eddsaToken(peerKeys.priv, claims({ nbf: now - 100, exp: now - 10 })))).toBe(
    'token expired',
  );
});

test.each<[string, () => string, string]>([
  ['wrong scope', () => eddsaToken(peerKeys.priv, claims({ scope: 'private-multicluster' })), 'wrong scope'],
  ['wrong issuer', () => eddsaToken(peerKeys.priv, claims({ iss: 'x' })), 'wrong issuer'],
  ['missing issuer', () => eddsaToken(peerKeys.priv, claims({ iss: undefined })), 'wrong issuer'],
  ['wrong audience', () => eddsaToken(peerKeys.priv, claims({ aud: 'other' })), 'invalid claim aud'],
  ['unknown subject', () => eddsaToken(peerKeys.priv, claims({ sub: 'nobody' })), 'unknown subject'],
  ['wrong key', () => eddsaToken(otherKeys.priv, claims()), 'bad signature'],
  ['expired', () => eddsaToken(peerKeys.priv, claims({ exp: now - 120 })), 'token expired'],
  [
    'lifetime too long',
    () => eddsaToken(peerKeys.priv, claims({ exp: now + MAX_API_TOKEN_LIFETIME_SECONDS + 10 })),
    'token lifetime too long',
  ],
  ['alg none', () => unsignedToken(claims()), 'algorithm not allowed'],
  [
    'HS256 with the public key',
    () => hmacWithPublicKeyToken(peerKeys.pub, claims()),
    'algorithm not allowed',
  ],
  ['oversized', () => eddsaToken(peerKeys.priv, claims({ pad: 'x'.repeat(5000) })), 'token too large'],
  ['garbage', () => 'a.b.c', 'malformed token'],
])('%s is refused: %s', async (_name, token, expected) => {
  expect(await reason(token())).toBe(expected);
});
