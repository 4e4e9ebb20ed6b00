import { X509Certificate } from 'node:crypto';

/**
 * The SPIFFE trust bundle (a JWK set) of this cluster's root CA, as served on
 * `/metadata/public/spiffe-bundle-endpoint`. Every certificate of the PEM bundle becomes one
 * `x509-svid` key, so a CA rotation that publishes old and new roots side by side works.
 */
export interface SpiffeKey {
  kty: 'RSA' | 'EC';
  use: 'x509-svid';
  n?: string;
  e?: string;
  crv?: string;
  x?: string;
  y?: string;
  x5c: string[];
}

export interface SpiffeBundle {
  spiffe_sequence: number;
  spiffe_refresh_hint: number;
  keys: SpiffeKey[];
}

/** The reference's values (28 days; a constant sequence): consumers may compare them. */
export const SPIFFE_REFRESH_HINT_SECONDS = 2_419_200;
export const SPIFFE_SEQUENCE = 1;

const CERTIFICATE_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;
const MAX_CERTIFICATES = 64;

export function certificatesFromPem(pem: string): X509Certificate[] {
  const blocks = pem.match(CERTIFICATE_BLOCK) ?? [];
  if (blocks.length === 0) throw new Error('no certificate found');
  if (blocks.length > MAX_CERTIFICATES) throw new Error(`more than ${MAX_CERTIFICATES} certificates`);
  return blocks.map((block, index) => {
    try {
      return new X509Certificate(block);
    } catch {
      throw new Error(`certificate ${index} does not parse`);
    }
  });
}

function spiffeKey(certificate: X509Certificate): SpiffeKey {
  const jwk = certificate.publicKey.export({ format: 'jwk' });
  const x5c = [certificate.raw.toString('base64')];
  if (jwk.kty === 'RSA' && jwk.n && jwk.e) return { kty: 'RSA', use: 'x509-svid', n: jwk.n, e: jwk.e, x5c };
  if (jwk.kty === 'EC' && jwk.crv && jwk.x && jwk.y) {
    return { kty: 'EC', use: 'x509-svid', crv: jwk.crv, x: jwk.x, y: jwk.y, x5c };
  }
  throw new Error(`unsupported root CA key type ${String(jwk.kty)}`);
}

export function spiffeBundleFromPem(pem: string, refreshHint = SPIFFE_REFRESH_HINT_SECONDS): SpiffeBundle {
  return {
    spiffe_sequence: SPIFFE_SEQUENCE,
    spiffe_refresh_hint: refreshHint,
    keys: certificatesFromPem(pem).map(spiffeKey),
  };
}
