// Test data for the exporter: clusters with real keys and certificates, and a documents
// directory laid out exactly as the kubelet's atomic writer lays out a mounted Secret.
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import forge from 'node-forge';
import { generateAuthnKeypair, type AuthnKeypair } from '../../lib/federation/identity/authn-keys';

export const EC_ROOT_CA = readFileSync(join(__dirname, 'fixtures', 'ec-root-ca.pem'), 'utf8');

export interface SelfSigned {
  certPem: string;
  keyPem: string;
}

/** A self-signed RSA certificate: a root CA, or a serving certificate for 127.0.0.1. */
export function selfSignedRsa(commonName: string, kind: 'ca' | 'server'): SelfSigned {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const keyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(publicKey.export({ type: 'spki', format: 'pem' }).toString());
  cert.serialNumber = '01' + randomUUID().replace(/-/g, '').slice(0, 16);
  cert.validity.notBefore = new Date(Date.now() - 3600_000);
  cert.validity.notAfter = new Date(Date.now() + 24 * 3600_000);
  const subject = [{ name: 'commonName', value: commonName }];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions(
    kind === 'ca'
      ? [
          { name: 'basicConstraints', cA: true, critical: true },
          { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
        ]
      : [
          { name: 'basicConstraints', cA: false },
          { name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] },
        ],
  );
  cert.sign(forge.pki.privateKeyFromPem(keyPem), forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem };
}

export interface TestCluster {
  clusterUUID: string;
  trustDomain: string;
  keypair: AuthnKeypair;
  rootCA: string;
}

export function testCluster(trustDomain: string, rootCA = EC_ROOT_CA): TestCluster {
  return { clusterUUID: randomUUID(), trustDomain, keypair: generateAuthnKeypair(), rootCA };
}

export interface DocumentFiles {
  'public.json': string;
  'federation.json': string;
  'remote-public-metadata.json': string;
}

export interface FederationInput {
  ingressGateways: { address: string; port: number }[];
  publicServices: {
    hostname: string;
    ports: { name: string; port: number; protocol?: string }[];
    allowedTrustDomains?: string[];
  }[];
}

/** The three files as the Helm chart renders them for `local`, trusting `remotes`. */
export function documentFiles(
  local: TestCluster,
  federation: FederationInput,
  remotes: readonly TestCluster[],
): DocumentFiles {
  return {
    'public.json': JSON.stringify({
      clusterUUID: local.clusterUUID,
      authnKeyPub: local.keypair.pub,
      rootCA: local.rootCA,
    }),
    'federation.json': JSON.stringify(federation),
    'remote-public-metadata.json': JSON.stringify(
      Object.fromEntries(
        remotes.map((r) => [
          r.clusterUUID,
          {
            clusterUUID: r.clusterUUID,
            authnKeyPub: r.keypair.pub,
            rootCA: r.rootCA,
            trustDomain: r.trustDomain,
          },
        ]),
      ),
    ),
  };
}

/** The files of the multicluster document: what the chart renders beside the federation ones. */
export interface MulticlusterFiles {
  'multicluster.json': string;
  'remote-multiclusters-public-metadata.json': string;
}

export interface MulticlusterInput {
  ingressGateways: { address: string; port: number }[];
  apiHost: string;
  networkName: string;
}

/** multicluster.json and the multicluster allow-list (no trust domains), as the chart renders them. */
export function multiclusterFiles(
  input: MulticlusterInput,
  remotes: readonly TestCluster[],
): MulticlusterFiles {
  return {
    'multicluster.json': JSON.stringify(input),
    'remote-multiclusters-public-metadata.json': JSON.stringify(
      Object.fromEntries(
        remotes.map((r) => [
          r.clusterUUID,
          { clusterUUID: r.clusterUUID, authnKeyPub: r.keypair.pub, rootCA: r.rootCA },
        ]),
      ),
    ),
  };
}

export const ALL_DOCUMENT_FILES = [
  'public.json',
  'federation.json',
  'remote-public-metadata.json',
  'multicluster.json',
  'remote-multiclusters-public-metadata.json',
] as const;

let generation = 0;

/**
 * Writes a new generation the way the kubelet does: files into a fresh `..<timestamp>`
 * directory, a temporary `..data_tmp` link renamed over `..data` (one atomic step), and
 * per-file links `<name> -> ..data/<name>` that never change.
 */
export function writeKubernetesSecretDir(
  dir: string,
  files: Partial<DocumentFiles & MulticlusterFiles>,
): void {
  mkdirSync(dir, { recursive: true });
  const generationDir = `..2026_11_21_00_00_00.${process.pid}_${++generation}`;
  mkdirSync(join(dir, generationDir));
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, generationDir, name), content);
  symlinkSync(generationDir, join(dir, '..data_tmp'));
  renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
  for (const name of ALL_DOCUMENT_FILES) {
    try {
      symlinkSync(join('..data', name), join(dir, name));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
}
