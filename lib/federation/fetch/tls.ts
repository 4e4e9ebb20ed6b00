import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createSecureContext, rootCertificates, type SecureContext } from 'node:tls';
import { errorText } from '../../util/errors';

/**
 * TLS trust for fetching a peer's metadata: the runtime's bundled roots, the OS bundle and
 * the peer's `spec.metadata.ca`. Every peer gets its own settings (the reference cached one
 * client globally and so ignored per-peer CAs).
 */

export interface PeerTls {
  /** PEM bundle trusted in addition to the system roots (`spec.metadata.ca`; see prepareTls). */
  ca?: string | undefined;
  /** Honoured only when `ca` is empty, as the reference does. */
  insecureSkipVerify?: boolean | undefined;
}

/** TLS settings of one federation, built once and shared by its requests. */
export type PreparedTls =
  { ok: true; secureContext?: SecureContext; rejectUnauthorized: boolean } | { ok: false; message: string };

/**
 * The OS trust store as one PEM bundle, where distributions keep it (Debian, Ubuntu and
 * Alpine; then RHEL and Fedora). A CA an administrator installed there is a "system root"
 * in the sense of REFERENCE.md, but the runtime's own list (`tls.rootCertificates`) does
 * not contain it.
 */
export const SYSTEM_CA_BUNDLE_PATHS: readonly string[] = [
  '/etc/ssl/certs/ca-certificates.crt',
  '/etc/pki/tls/certs/ca-bundle.crt',
];

export interface TlsOptions {
  /** Candidate OS bundles; the first that exists is used. Injectable for tests. */
  systemCaPaths?: readonly string[];
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

const systemBundles = new Map<string, readonly string[]>();

/**
 * Certificates of the first existing bundle among `paths`, read once per process. A block
 * that does not parse is skipped: the store is the administrator's, and one bad entry must
 * not take every federation down. No bundle (or an unreadable one): none.
 */
export function systemCaCertificates(paths: readonly string[] = SYSTEM_CA_BUNDLE_PATHS): readonly string[] {
  const key = JSON.stringify(paths);
  const cached = systemBundles.get(key);
  if (cached) return cached;
  let certificates: string[] = [];
  for (const path of paths) {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch {
      continue;
    }
    certificates = (text.match(PEM_CERTIFICATE) ?? []).filter((block) => {
      try {
        new X509Certificate(block);
        return true;
      } catch {
        return false;
      }
    });
    break;
  }
  systemBundles.set(key, certificates);
  return certificates;
}

// The context trusting the system roots only is the same for every federation without a CA.
const systemOnlyContexts = new Map<string, PreparedTls>();

/**
 * TLS settings for one federation: trusted are the runtime's bundled roots, the OS bundle
 * and `ca` (which adds to, never replaces, the others). The secure context is built once
 * per federation: with a few hundred roots it costs tens of milliseconds under Node, so it
 * must not be rebuilt for every request.
 */
export function prepareTls(peer: PeerTls = {}, options: TlsOptions = {}): PreparedTls {
  const ca = peer.ca?.trim();
  if (!ca && peer.insecureSkipVerify) return { ok: true, rejectUnauthorized: false };
  const paths = options.systemCaPaths ?? SYSTEM_CA_BUNDLE_PATHS;
  const system = systemCaCertificates(paths);
  if (!ca) {
    if (system.length === 0) return { ok: true, rejectUnauthorized: true };
    const key = JSON.stringify(paths);
    const cached = systemOnlyContexts.get(key);
    if (cached) return cached;
    const prepared: PreparedTls = {
      ok: true,
      secureContext: createSecureContext({ ca: [...rootCertificates, ...system] }),
      rejectUnauthorized: true,
    };
    systemOnlyContexts.set(key, prepared);
    return prepared;
  }
  const blocks = ca.match(PEM_CERTIFICATE) ?? [];
  if (blocks.length === 0) return { ok: false, message: 'spec.metadata.ca holds no PEM certificate' };
  // OpenSSL would skip a broken block silently; say which one is broken instead.
  for (const [i, block] of blocks.entries()) {
    try {
      new X509Certificate(block);
    } catch (error) {
      return {
        ok: false,
        message: `spec.metadata.ca certificate #${i + 1} does not parse: ${errorText(error)}`,
      };
    }
  }
  try {
    return {
      ok: true,
      secureContext: createSecureContext({ ca: [...rootCertificates, ...system, ca + '\n'] }),
      rejectUnauthorized: true,
    };
  } catch (error) {
    return { ok: false, message: `spec.metadata.ca is unusable: ${errorText(error)}` };
  }
}

export function isPrepared(tls: PeerTls | PreparedTls | undefined): tls is PreparedTls {
  return tls !== undefined && 'ok' in tls;
}
