import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verifyPeerToken } from '../federation/identity/jwt';
import { curlCommand, hereDocMarker, shellQuote, signedCurl } from './curl';
import { A_UUID, B_UUID, KEYPAIR } from './test-fixtures';

describe('check token: the curl command', () => {
  test('shellQuote survives a POSIX shell', () => {
    const tricky = `it's "$HOME" \`x\``;
    expect(execFileSync('sh', ['-c', `printf %s ${shellQuote(tricky)}`]).toString()).toBe(tricky);
  });

  test('a fresh token the peer verifies, addressed to it, for the private document URL', async () => {
    const now = new Date();
    const text = await signedCurl({
      peerName: 'cluster-b',
      metadataEndpoint: 'https://istio-metadata.cluster-b.example.com/metadata/',
      privateKeyPem: KEYPAIR.priv,
      peerClusterUUID: B_UUID,
      ourClusterUUID: A_UUID,
      now,
    });
    expect(text).toContain(`'https://istio-metadata.cluster-b.example.com/metadata/private/federation.json'`);
    const token = /Bearer ([^']+)'/.exec(text)?.[1];
    expect(token).toBeDefined();
    await expect(
      verifyPeerToken(token!, {
        ownClusterUUID: B_UUID,
        scope: 'private-federation',
        peerPublicKey: (uuid) => (uuid === A_UUID ? KEYPAIR.pub : undefined),
        now,
      }),
    ).resolves.toStrictEqual({ subject: A_UUID });
  });

  test('spec.metadata.ca is written by a here-document and passed as --cacert; insecureSkipVerify as --insecure', () => {
    const pem = '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----';
    const withCa = curlCommand({
      peerName: 'b/x',
      metadataEndpoint: 'https://h/metadata',
      token: 't',
      ca: pem,
    });
    const file = '"${TMPDIR:-/tmp}/b_x-metadata-ca.pem"';
    expect(withCa).toContain(`cat > ${file} <<'PEM'\n${pem}\nPEM\n`);
    expect(withCa).toContain(`--cacert ${file}`);
    expect(withCa).toContain(`'https://h/metadata/private/federation.json'`);
    const insecure = curlCommand({
      peerName: 'b',
      metadataEndpoint: 'https://h/',
      token: 't',
      insecureSkipVerify: true,
    });
    expect(insecure).toContain(' --insecure ');
  });

  test('a CA text containing the end marker does not end the here-document early', () => {
    const ca = 'line one\nPEM\nPEM_1\nmore PEM_2 text\nlast line';
    expect(hereDocMarker(ca)).toBe('PEM_3');
    const text = curlCommand({ peerName: 'b', metadataEndpoint: 'https://h/', token: 't', ca });
    // Run everything but the curl line: the file holds the whole text.
    const dir = mkdtempSync(join(tmpdir(), 'curl-test-'));
    try {
      const script = text
        .split('\n')
        .filter((l) => !l.startsWith('curl '))
        .join('\n');
      execFileSync('sh', ['-c', script], { env: { ...process.env, TMPDIR: dir } });
      expect(readFileSync(join(dir, 'b-metadata-ca.pem'), 'utf8')).toBe(`${ca}\n`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
