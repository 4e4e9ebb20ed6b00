import { X509Certificate } from 'node:crypto';
import forge from 'node-forge';

/**
 * istiod's own test of a mesh-config `caCertificates` PEM (pilot/pkg/trustbundle
 * `verifyTrustAnchor`, Istio 1.31), in TypeScript: istiod decodes the FIRST PEM block of
 * the entry, parses it with Go's crypto/x509 and requires a CA certificate. If any entry
 * fails, istiod drops the WHOLE trust-anchor update from the mesh config (every peer's
 * root, not just the bad one), so an entry it would refuse must never be rendered.
 *
 * Go's parser is stricter than OpenSSL (node:crypto) in one way that matters for real
 * roots: it refuses negative serial numbers (Go >= 1.23, GODEBUG x509negativeserial=0,
 * the default for istiod), which OpenSSL and node:crypto accept. Returns why istiod would
 * refuse `pem`, or undefined. tests/istiod checks each verdict against a real istiod.
 */
export function istiodTrustAnchorProblem(pem: string): string | undefined {
  const block = firstPemBlock(pem);
  if (!block) return 'no PEM block (istiod: failed to decode pem certificate)';
  if (block.type !== 'CERTIFICATE') return `the first PEM block is ${block.type}, not CERTIFICATE`;
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(block.der);
  } catch (error) {
    return `the certificate does not parse: ${(error as Error).message}`;
  }
  let negativeSerial: boolean;
  try {
    negativeSerial = serialIsNegative(block.der);
  } catch (error) {
    // DER that node:crypto reads and forge does not: refuse it rather than fail the hook.
    return `the certificate's DER does not parse as ASN.1: ${(error as Error).message}`;
  }
  if (negativeSerial) return 'negative serial number (Go crypto/x509 refuses it)';
  if (!cert.ca) return 'not a CA certificate';
  return undefined;
}

/** Go's pem.Decode: the first `-----BEGIN <type>-----` ... `-----END <type>-----` block, base64 body. */
function firstPemBlock(text: string): { type: string; der: Buffer } | undefined {
  const match = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([\s\S]*?)-----END \1-----/.exec(text);
  if (!match?.[1] || match[2] === undefined) return undefined;
  // Header lines ("Key: value") are skipped; Go's base64 decoder ignores CR, LF, spaces and tabs.
  const body = match[2]
    .split('\n')
    .filter((line) => !line.includes(':'))
    .join('')
    .replace(/[\r\t ]/g, '');
  if (!/^[A-Za-z0-9+/=]*$/.test(body)) return undefined;
  return { type: match[1], der: Buffer.from(body, 'base64') };
}

/** The serial INTEGER of the TBSCertificate, read from the DER (the sign bit of its first byte). */
function serialIsNegative(der: Buffer): boolean {
  const certificate = forge.asn1.fromDer(forge.util.createBuffer(der.toString('binary')));
  const tbs = (certificate.value as forge.asn1.Asn1[])[0];
  const fields = (tbs?.value ?? []) as forge.asn1.Asn1[];
  // [0] EXPLICIT version is optional (v1 certificates omit it).
  const serial = fields[0]?.tagClass === forge.asn1.Class.CONTEXT_SPECIFIC ? fields[1] : fields[0];
  const bytes = typeof serial?.value === 'string' ? serial.value : '';
  return bytes.length > 0 && (bytes.charCodeAt(0) & 0x80) !== 0;
}
