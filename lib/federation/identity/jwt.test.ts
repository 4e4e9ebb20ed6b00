import { generateKeyPairSync } from 'node:crypto';
import { SignJWT } from 'jose';
import {
  claimCheckTime,
  PRIVATE_FEDERATION_SCOPE,
  signPeerToken,
  TokenRejected,
  verifyPeerToken,
  type VerifyOptions,
} from './jwt';

const { publicKey, privateKey } = generateKeyPairSync('ed25519');
const pub = publicKey.export({ type: 'spki', format: 'pem' }).toString();
const priv = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const NOW = new Date('2026-11-30T12:00:00Z');
const nowS = NOW.getTime() / 1000;

/** A token as the reference signs it, with free nbf/exp. */
function token(nbf: number | undefined, exp: number): Promise<string> {
  const jwt = new SignJWT({ scope: PRIVATE_FEDERATION_SCOPE })
    .setProtectedHeader({ alg: 'EdDSA', typ: 'JWT' })
    .setIssuer('d8-istio')
    .setAudience('ours')
    .setSubject('peer')
    .setExpirationTime(exp);
  if (nbf !== undefined) jwt.setNotBefore(nbf);
  return jwt.sign(privateKey);
}

/** What the exporter passes (images/metadata-exporter/server.ts). */
const exporterOptions = {
  ownClusterUUID: 'ours',
  scope: PRIVATE_FEDERATION_SCOPE,
  peerPublicKey: (uuid: string) => (uuid === 'peer' ? pub : undefined),
  now: NOW,
  clockToleranceSeconds: 5,
  maxNotBeforeSkewSeconds: 300,
};

async function verdict(
  nbf: number | undefined,
  exp: number,
  options: VerifyOptions = exporterOptions,
): Promise<string> {
  try {
    await verifyPeerToken(await token(nbf, exp), options);
    return 'accepted';
  } catch (error) {
    if (error instanceof TokenRejected) return error.reason;
    throw error;
  }
}

describe('clock skew (issue 10 item 11): a peer whose clock runs ahead is accepted up to the token lifetime', () => {
  test.each([
    ['in sync', 0, 60, 'accepted'],
    ['5 s ahead (the old tolerance)', 5, 60, 'accepted'],
    ['6 s ahead', 6, 60, 'accepted'],
    ['30 s ahead', 30, 60, 'accepted'],
    ['exactly one lifetime (60 s) ahead', 60, 60, 'accepted'],
    ['61 s ahead, lifetime 60 s', 61, 60, 'invalid claim nbf'],
    ['10 minutes ahead', 600, 60, 'invalid claim nbf'],
    ['120 s ahead with a 300 s token', 120, 300, 'accepted'],
    ['301 s ahead with a 400 s token (over the cap)', 301, 400, 'invalid claim nbf'],
    ['ahead with nbf > exp (no lifetime)', 30, -10, 'invalid claim nbf'],
  ])('%s', async (_name, ahead, lifetime, expected) => {
    expect(await verdict(nowS + ahead, nowS + ahead + lifetime)).toBe(expected);
  });

  test('skew never extends exp: a peer whose clock runs behind still expires on time (5 s leeway)', async () => {
    expect(await verdict(nowS - 64, nowS - 4)).toBe('accepted');
    expect(await verdict(nowS - 66, nowS - 6)).toBe('token expired');
    expect(await verdict(nowS - 600, nowS - 1)).toBe('accepted');
  });

  test('a token without nbf (the reference does not require it) is checked on exp alone', async () => {
    expect(await verdict(undefined, nowS + 60)).toBe('accepted');
    expect(await verdict(undefined, nowS - 10)).toBe('token expired');
  });

  test('without maxNotBeforeSkewSeconds the strict nbf check stays (callers opt in)', async () => {
    const strict = { ...exporterOptions, maxNotBeforeSkewSeconds: undefined };
    expect(await verdict(nowS + 30, nowS + 90, strict)).toBe('invalid claim nbf');
  });

  test('the claims used to pick the check time are the signed ones: a tampered nbf breaks the signature', async () => {
    const [h, , sig] = (await token(nowS + 600, nowS + 660)).split('.');
    const payload = Buffer.from(
      JSON.stringify({
        scope: PRIVATE_FEDERATION_SCOPE,
        iss: 'd8-istio',
        aud: 'ours',
        sub: 'peer',
        nbf: nowS,
        exp: nowS + 660,
      }),
    ).toString('base64url');
    await expect(verifyPeerToken(`${h}.${payload}.${sig}`, exporterOptions)).rejects.toThrow('bad signature');
  });

  test('our own tokens round-trip', async () => {
    const own = await signPeerToken({ privateKeyPem: priv, audience: 'ours', subject: 'peer', now: NOW });
    await expect(verifyPeerToken(own, exporterOptions)).resolves.toEqual({ subject: 'peer' });
  });
});

test('claimCheckTime: now unless nbf is ahead within min(lifetime, max)', () => {
  const opts = { clockToleranceSeconds: 5, maxNotBeforeSkewSeconds: 300 };
  expect(claimCheckTime({ nbf: nowS + 3, exp: nowS + 63 }, NOW, opts)).toBe(NOW);
  expect(claimCheckTime({ nbf: nowS + 30, exp: nowS + 90 }, NOW, opts)).toEqual(new Date((nowS + 30) * 1000));
  expect(claimCheckTime({ nbf: nowS + 90, exp: nowS + 150 }, NOW, opts)).toBe(NOW);
  expect(claimCheckTime({ nbf: 'x', exp: nowS + 150 }, NOW, opts)).toBe(NOW);
});
