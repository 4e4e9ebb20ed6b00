// Bearer tokens built by hand with node:crypto (no JWT library): the way the reference
// (Go, Deckhouse key formats) builds them, and the forged variants of the attack suite.
import { createHmac, createPrivateKey, sign } from 'node:crypto';

export type Claims = Record<string, unknown>;

const b64url = (value: string | Buffer): string => Buffer.from(value).toString('base64url');

function signingInput(header: Claims, claims: Claims): string {
  return `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
}

/** An `ED25519 PRIVATE KEY` PEM (PKCS#8, the reference's label) or a standard one. */
function ed25519Key(privateKeyPem: string) {
  return createPrivateKey(privateKeyPem.replace(/ED25519 PRIVATE KEY/g, 'PRIVATE KEY'));
}

/** Signs exactly as the reference does: EdDSA over base64url(header).base64url(claims). */
export function eddsaToken(
  privateKeyPem: string,
  claims: Claims,
  header: Claims = { alg: 'EdDSA', typ: 'JWT' },
): string {
  const input = signingInput(header, claims);
  return `${input}.${b64url(sign(null, Buffer.from(input), ed25519Key(privateKeyPem)))}`;
}

/** The claims the reference sends: iss d8-istio, aud = remote UUID, sub = own UUID, 60 s (federation scope unless told). */
export function referenceClaims(
  audience: string,
  subject: string,
  nowSeconds = Math.floor(Date.now() / 1000),
  scope = 'private-federation',
): Claims {
  return {
    iss: 'd8-istio',
    aud: audience,
    sub: subject,
    scope,
    nbf: nowSeconds,
    exp: nowSeconds + 60,
  };
}

export function unsignedToken(claims: Claims): string {
  return `${signingInput({ alg: 'none', typ: 'JWT' }, claims)}.`;
}

/** The classic key-confusion forgery: HS256 keyed with the victim's public key PEM. */
export function hmacWithPublicKeyToken(publicKeyPem: string, claims: Claims): string {
  const input = signingInput({ alg: 'HS256', typ: 'JWT' }, claims);
  return `${input}.${b64url(createHmac('sha256', publicKeyPem).update(input).digest())}`;
}
