import { X509Certificate } from 'node:crypto';
import { istiodTrustAnchorProblem } from '../istio/trust-anchor';

/**
 * A peer's `rootCA` on its way into the mesh `caCertificates`: istiod drops the WHOLE
 * mesh-config trust update when any entry does not parse as a CA certificate, so one peer
 * could break trust with every peer. Only CA certificates pass, re-encoded from their DER
 * (nothing of the peer's text travels), and every other block is refused by number and
 * type, never quoted (it may be a private key).
 *
 * Kept: `CERTIFICATE` blocks whose DER parses as exactly one X.509 certificate (no
 * trailing bytes: Go's x509.ParseCertificate, which istiod uses, refuses them), with
 * basicConstraints CA:true (extensions exist only in X.509 v3, so this also requires v3),
 * valid now (not expired, not before notBefore: the fetcher refused expired roots before
 * this module existed, so it still does, per certificate), once (duplicates dropped).
 * Refused: every other block type (private keys, public keys, CRLs, `TRUSTED
 * CERTIFICATE`, ...), blocks with PEM headers, bad base64, truncated blocks; text between
 * blocks is ignored and reported.
 *
 * The PEM framing is scanned here by hand (RFC 7468, line by line) because the libraries
 * at hand answer for the whole input: node-forge's pem.decode throws on the first bad
 * block and silently skips a block without its END line, and node:crypto reads only the
 * first block. The certificate itself is parsed by node:crypto (OpenSSL), which, unlike
 * node-forge, reads EC certificates, common for istiod plug-in CAs.
 */

export interface CaCertificate {
  /** Re-encoded: `-----BEGIN CERTIFICATE-----`, base64 of the DER in 64-character lines. */
  pem: string;
  subject: string;
  fingerprint256: string;
  notAfter: Date;
}

export interface CaCertificateFilterResult {
  /** The kept certificates, concatenated; '' when none is left. */
  pem: string;
  certificates: CaCertificate[];
  /** Why each refused block was refused (`block #2 (PRIVATE KEY): ...`), never its content. */
  refused: string[];
}

const BEGIN = /^-----BEGIN ([^-]{0,64})-----$/;
const END = /^-----END ([^-]{0,64})-----$/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

interface Block {
  label: string;
  lines: string[];
  number: number;
}

/** A label fit for a message: printable ASCII, bounded. */
function shown(label: string): string {
  const clean = label.replace(/[^\x20-\x7e]/g, '?');
  return clean.length > 40 ? `${clean.slice(0, 40)}...` : clean;
}

export function toPem(der: Buffer): string {
  const b64 = der.toString('base64');
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN CERTIFICATE-----\n${lines.join('\n')}\n-----END CERTIFICATE-----\n`;
}

export function filterCaCertificates(input: string, options: { now: Date }): CaCertificateFilterResult {
  const refused: string[] = [];
  const certificates: CaCertificate[] = [];
  const seen = new Set<string>();
  let outsideLines = 0;
  let count = 0;
  let open: Block | undefined;

  const close = (block: Block) => {
    const where = `block #${block.number} (${shown(block.label)})`;
    if (block.label !== 'CERTIFICATE') {
      const what = /PRIVATE KEY/.test(block.label) ? 'a private key' : 'not a certificate';
      refused.push(`${where}: ${what}; only CERTIFICATE blocks are trusted`);
      return;
    }
    const checked = checkCertificateBlock(block.lines, options.now);
    if (!checked.ok) {
      refused.push(`${where}: ${checked.reason}`);
      return;
    }
    if (seen.has(checked.cert.fingerprint256)) {
      refused.push(`${where}: duplicate of an earlier certificate (${checked.cert.subject})`);
      return;
    }
    seen.add(checked.cert.fingerprint256);
    certificates.push(checked.cert);
  };

  for (const raw of input.split(/\r\n|\r|\n/)) {
    const line = raw.trim();
    if (open === undefined) {
      const begin = BEGIN.exec(line);
      if (begin) open = { label: begin[1]!, lines: [], number: ++count };
      else if (line !== '') outsideLines++;
      continue;
    }
    const end = END.exec(line);
    if (end) {
      if (end[1] === open.label) close(open);
      else
        refused.push(
          `block #${open.number} (${shown(open.label)}): ends with END ${shown(end[1]!)}, not END ${shown(open.label)}`,
        );
      open = undefined;
      continue;
    }
    const begin = BEGIN.exec(line);
    if (begin) {
      refused.push(`block #${open.number} (${shown(open.label)}): truncated (no END line)`);
      open = { label: begin[1]!, lines: [], number: ++count };
      continue;
    }
    open.lines.push(line);
  }
  if (open !== undefined)
    refused.push(`block #${open.number} (${shown(open.label)}): truncated (no END line)`);
  if (outsideLines > 0) refused.push(`${outsideLines} line(s) of text outside PEM blocks ignored`);
  if (count === 0) refused.push('no PEM block');
  return { pem: certificates.map((c) => c.pem).join(''), certificates, refused };
}

function checkCertificateBlock(
  lines: readonly string[],
  now: Date,
): { ok: true; cert: CaCertificate } | { ok: false; reason: string } {
  if (lines.some((l) => l.includes(':')))
    return { ok: false, reason: 'has PEM headers (encrypted or legacy PEM)' };
  const b64 = lines.join('');
  if (b64 === '') return { ok: false, reason: 'empty' };
  if (!BASE64.test(b64) || b64.length % 4 !== 0) return { ok: false, reason: 'not valid base64' };
  const der = Buffer.from(b64, 'base64');
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(der);
  } catch {
    return { ok: false, reason: 'does not parse as an X.509 certificate' };
  }
  if (cert.raw.length !== der.length)
    return { ok: false, reason: `has ${der.length - cert.raw.length} byte(s) after the certificate` };
  const subject = cert.subject.replace(/\n/g, ', ');
  if (!cert.ca)
    return { ok: false, reason: `${subject} is not a CA certificate (basicConstraints CA:true, X.509 v3)` };
  // What istiod itself refuses (Go's parser, e.g. a negative serial): one such entry would
  // make istiod drop the whole trust update, every peer's root included.
  const istiodProblem = istiodTrustAnchorProblem(toPem(cert.raw));
  if (istiodProblem) return { ok: false, reason: `${subject}: istiod would refuse it: ${istiodProblem}` };
  const notAfter = new Date(cert.validTo);
  const notBefore = new Date(cert.validFrom);
  if (!(notAfter.getTime() > now.getTime()))
    return { ok: false, reason: `${subject} expired at ${notAfter.toISOString()}` };
  if (!(notBefore.getTime() <= now.getTime()))
    return { ok: false, reason: `${subject} is not valid before ${notBefore.toISOString()}` };
  return {
    ok: true,
    cert: { pem: toPem(cert.raw), subject, fingerprint256: cert.fingerprint256, notAfter },
  };
}
