import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import forge from 'node-forge';
import { makeCertificate, type TestCertificate } from '../../tests/fetch/certs';
import { filterCaCertificates, toPem } from './ca-certificates';

const NOW = new Date('2026-11-21T06:00:00Z');
const valid = { notBefore: new Date('2026-01-01T00:00:00Z'), notAfter: new Date('2030-01-01T00:00:00Z') };
const root = makeCertificate({ commonName: 'root-a', isCA: true, ...valid });
const root2 = makeCertificate({ commonName: 'root-b', isCA: true, ...valid });
const leaf = makeCertificate({ commonName: 'leaf', isCA: false, issuer: root, ...valid });
const expired = makeCertificate({
  commonName: 'old',
  isCA: true,
  notBefore: new Date('2020-01-01T00:00:00Z'),
  notAfter: new Date('2021-01-01T00:00:00Z'),
});
const future = makeCertificate({
  commonName: 'future',
  isCA: true,
  notBefore: new Date('2029-01-01T00:00:00Z'),
  notAfter: new Date('2030-01-01T00:00:00Z'),
});

/** An X.509 v1 certificate (no extensions, so no basicConstraints) — what old tooling makes. */
function v1Certificate(): string {
  const keys = forge.pki.rsa.generateKeyPair(1024);
  const cert = forge.pki.createCertificate();
  cert.version = 0;
  cert.publicKey = keys.publicKey;
  cert.serialNumber = '01';
  cert.validity.notBefore = valid.notBefore;
  cert.validity.notAfter = valid.notAfter;
  cert.setSubject([{ name: 'commonName', value: 'v1-root' }]);
  cert.setIssuer([{ name: 'commonName', value: 'v1-root' }]);
  cert.sign(keys.privateKey, forge.md.sha256.create());
  return forge.pki.certificateToPem(cert);
}

const der = (c: TestCertificate) => new X509Certificate(c.certPem).raw;
const filter = (pem: string) => filterCaCertificates(pem, { now: NOW });

test('a CA certificate is kept, re-encoded from its DER (LF, 64-character lines)', () => {
  const result = filter(root.certPem);
  expect(result.refused).toEqual([]);
  expect(result.pem).toBe(toPem(der(root)));
  expect(result.pem).not.toContain('\r');
  expect(result.pem.split('\n').every((l) => l.length <= 64)).toBe(true);
  expect(new X509Certificate(result.pem).fingerprint256).toBe(
    new X509Certificate(root.certPem).fingerprint256,
  );
  expect(result.certificates.map((c) => c.subject)).toEqual(['CN=root-a']);
});

test('a hostile bundle: only the CA certificates survive, each other block is named and never quoted', () => {
  const privateKey = root.keyPem; // PKCS#1 "RSA PRIVATE KEY"
  const pkcs8 = forge.pki.privateKeyInfoToPem(
    forge.pki.wrapRsaPrivateKey(forge.pki.privateKeyToAsn1(forge.pki.privateKeyFromPem(root.keyPem))),
  );
  const bundle = [
    'Subject: root-a (copied from a browser)',
    root.certPem,
    privateKey,
    'random text between blocks',
    leaf.certPem,
    pkcs8,
    expired.certPem,
    root2.certPem.replace(/\r?\n/g, '\r\n'),
    future.certPem,
    root.certPem, // duplicate
    '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----',
    '-----BEGIN TRUSTED CERTIFICATE-----\n' +
      der(root).toString('base64') +
      '\n-----END TRUSTED CERTIFICATE-----',
    root2.certPem.split('\n').slice(0, 6).join('\n'), // truncated: no END line
  ].join('\n');
  const result = filter(bundle);
  expect(result.certificates.map((c) => c.subject)).toEqual(['CN=root-a', 'CN=root-b']);
  expect(result.pem).toBe(toPem(der(root)) + toPem(der(root2)));
  expect(result.refused).toEqual([
    expect.stringMatching(/^block #2 \(RSA PRIVATE KEY\): a private key/),
    expect.stringMatching(/^block #3 \(CERTIFICATE\): CN=leaf is not a CA certificate/),
    expect.stringMatching(/^block #4 \(PRIVATE KEY\): a private key/),
    expect.stringMatching(/^block #5 \(CERTIFICATE\): CN=old expired at 2021-01-01/),
    expect.stringMatching(/^block #7 \(CERTIFICATE\): CN=future is not valid before 2029-01-01/),
    expect.stringMatching(/^block #8 \(CERTIFICATE\): duplicate/),
    expect.stringMatching(/^block #9 \(PUBLIC KEY\): not a certificate/),
    expect.stringMatching(/^block #10 \(TRUSTED CERTIFICATE\): not a certificate/),
    expect.stringMatching(/^block #11 \(CERTIFICATE\): truncated/),
    '2 line(s) of text outside PEM blocks ignored',
  ]);
  // Nothing of the key travels: neither into the result nor into a message.
  const keyBody = privateKey.split(/\r?\n/)[1]!;
  expect(result.pem).not.toContain(keyBody);
  expect(result.refused.join('\n')).not.toContain(keyBody);
  expect(result.pem).not.toContain('PRIVATE');
});

test.each([
  [
    'bad base64',
    `-----BEGIN CERTIFICATE-----\n${'*'.repeat(64)}\n-----END CERTIFICATE-----`,
    /not valid base64/,
  ],
  [
    'base64 that is no certificate',
    '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----',
    /does not parse/,
  ],
  [
    'a private key under a CERTIFICATE label',
    root.keyPem.replace(/RSA PRIVATE KEY/g, 'CERTIFICATE'),
    /does not parse as an X\.509/,
  ],
  ['an empty block', '-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----', /empty/],
  [
    'PEM headers',
    root.certPem.replace(
      '-----BEGIN CERTIFICATE-----',
      '-----BEGIN CERTIFICATE-----\nProc-Type: 4,ENCRYPTED\n',
    ),
    /headers/,
  ],
  [
    'mismatched END',
    root.certPem.replace('-----END CERTIFICATE-----', '-----END PRIVATE KEY-----'),
    /ends with END PRIVATE KEY/,
  ],
  [
    'bytes after the DER (Go refuses them, OpenSSL does not)',
    `-----BEGIN CERTIFICATE-----\n${Buffer.concat([der(root), Buffer.from([0, 0])]).toString('base64')}\n-----END CERTIFICATE-----`,
    /2 byte\(s\) after the certificate/,
  ],
  ['an X.509 v1 certificate (no basicConstraints)', v1Certificate(), /not a CA certificate/],
  ['no PEM at all', 'hello', /no PEM block/],
  ['nothing', '', /no PEM block/],
])('refuses %s', (_name, pem, reason) => {
  const result = filter(pem);
  expect(result.pem).toBe('');
  expect(result.certificates).toEqual([]);
  expect(result.refused.join('\n')).toMatch(reason);
});

test('CRLF, CR-only and indented PEM are read like LF', () => {
  for (const pem of [
    root.certPem.replace(/\r?\n/g, '\r\n'),
    root.certPem.replace(/\r?\n/g, '\r'),
    root.certPem.replace(/^/gm, '    '),
  ]) {
    expect(filter(pem)).toMatchObject({ pem: toPem(der(root)), refused: [] });
  }
});

test('the output is a fixed point: filtering it again changes nothing', () => {
  const once = filter([root.certPem, leaf.certPem, root2.certPem].join('junk\n'));
  const twice = filter(once.pem);
  expect(twice.pem).toBe(once.pem);
  expect(twice.refused).toEqual([]);
});

test('an EC (P-256) CA certificate, as istiod plug-in CAs often use, is kept', () => {
  // node-forge cannot make EC certificates; openssl can (present wherever the tests run).
  const pem = execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      '/dev/null',
      '-subj',
      '/CN=ec-root',
      '-days',
      '2',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign',
    ],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] },
  );
  const result = filterCaCertificates(pem, { now: new Date() });
  expect(result.refused).toEqual([]);
  expect(result.certificates.map((c) => c.subject)).toEqual(['CN=ec-root']);
});

describe('roots istiod would refuse (issue 11)', () => {
  it('refuses a CA certificate with a negative serial (node:crypto accepts it, istiod does not) and keeps the others', () => {
    const negative = makeCertificate({
      commonName: 'negative',
      isCA: true,
      serialHex: 'ff' + '11'.repeat(8),
      ...valid,
    });
    expect(() => new X509Certificate(negative.certPem)).not.toThrow();
    const result = filterCaCertificates(negative.certPem + root.certPem, { now: NOW });
    expect(result.pem).toBe(toPem(der(root)));
    expect(result.refused).toEqual([expect.stringMatching(/^block #1 .*negative serial number/)]);
  });
});
