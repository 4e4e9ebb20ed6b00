import { generateKeyPairSync, randomBytes } from 'node:crypto';
import forge from 'node-forge';

/** Test PKI generated per run: keys by node:crypto (fast, native), certificates by node-forge. */
export interface TestCertificate {
  certPem: string;
  keyPem: string;
}

export interface CertificateOptions {
  commonName: string;
  isCA: boolean;
  notBefore?: Date;
  notAfter?: Date;
  /** Signing CA; self-signed when absent. */
  issuer?: TestCertificate;
  /** IP SANs (server certificates). */
  ipAddresses?: string[];
  /** DNS SANs (server certificates). */
  dnsNames?: string[];
  /** Serial number as DER INTEGER content in hex (default: positive and random). */
  serialHex?: string;
}

function rsaKeyPair(): { publicKeyPem: string; privateKeyPem: string } {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    privateKeyPem: privateKey.export({ type: 'pkcs1', format: 'pem' }).toString(),
  };
}

export function makeCertificate(options: CertificateOptions): TestCertificate {
  const keys = rsaKeyPair();
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(keys.publicKeyPem);
  cert.serialNumber = options.serialHex ?? '01' + randomBytes(8).toString('hex');
  const now = Date.now();
  cert.validity.notBefore = options.notBefore ?? new Date(now - 3600_000);
  cert.validity.notAfter = options.notAfter ?? new Date(now + 365 * 24 * 3600_000);
  const subject = [{ name: 'commonName', value: options.commonName }];
  cert.setSubject(subject);
  const issuerCert = options.issuer ? forge.pki.certificateFromPem(options.issuer.certPem) : undefined;
  cert.setIssuer(issuerCert ? issuerCert.subject.attributes : subject);
  const extensions: object[] = [
    { name: 'basicConstraints', cA: options.isCA, critical: true },
    options.isCA
      ? { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true }
      : { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
  ];
  const altNames = [
    ...(options.ipAddresses ?? []).map((ip) => ({ type: 7, ip })),
    ...(options.dnsNames ?? []).map((value) => ({ type: 2, value })),
  ];
  if (altNames.length) {
    extensions.push({ name: 'subjectAltName', altNames });
    extensions.push({ name: 'extKeyUsage', serverAuth: true });
  }
  cert.setExtensions(extensions);
  const signingKey = forge.pki.privateKeyFromPem(options.issuer?.keyPem ?? keys.privateKeyPem);
  cert.sign(signingKey, forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem: keys.privateKeyPem };
}

/** A CA and a server certificate for 127.0.0.1 signed by it. */
export function makeServerPki(
  name = 'peer',
  dnsNames: string[] = [],
): { ca: TestCertificate; server: TestCertificate } {
  const ca = makeCertificate({ commonName: `${name} test CA`, isCA: true });
  const server = makeCertificate({
    commonName: '127.0.0.1',
    isCA: false,
    issuer: ca,
    ipAddresses: ['127.0.0.1'],
    dnsNames,
  });
  return { ca, server };
}
