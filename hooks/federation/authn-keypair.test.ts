import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { authnKeypairProblem, generateAuthnKeypair } from '../../lib/federation/identity/authn-keys';
import type { KubeObject } from '../../lib/hook-sdk';
import { clusterAHarness, secret } from '../../tests/support/module';
import hook, { KEYPAIR_SECRET_NAME, KEYPAIR_SECRET_NAMESPACE } from './authn-keypair';

const harness = clusterAHarness();
const keypairSecret = (pub: string, priv: string) =>
  secret(KEYPAIR_SECRET_NAMESPACE, KEYPAIR_SECRET_NAME, { 'pub.pem': pub, 'priv.pem': priv });
const enabled = { federation: { enabled: true } };

function standardLabelled() {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  return {
    pub: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    priv: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
}

describe('authn key-pair hook', () => {
  it('generates a pair in the reference PEM formats on a fresh cluster', async () => {
    const result = await harness.run(hook, { configValues: enabled });
    const pair = result.moduleValues.internal as { remoteAuthnKeypair: { pub: string; priv: string } };
    expect(pair.remoteAuthnKeypair.pub).toMatch(
      /^-----BEGIN ED25519 PUBLIC KEY-----\n[\s\S]+-----END ED25519 PUBLIC KEY-----\n$/,
    );
    expect(pair.remoteAuthnKeypair.priv).toMatch(
      /^-----BEGIN ED25519 PRIVATE KEY-----\n[\s\S]+-----END ED25519 PRIVATE KEY-----\n$/,
    );
    expect(authnKeypairProblem(pair.remoteAuthnKeypair)).toBeUndefined();
    expect(result.logs).toEqual([
      expect.objectContaining({ level: 'info', msg: 'generated a new authn key pair' }),
    ]);
  });

  it.each([
    ['Deckhouse labels', generateAuthnKeypair()],
    ['standard labels', standardLabelled()],
  ])('reuses a valid Secret (%s) unchanged', async (_label, pair) => {
    const result = await harness.run(hook, {
      configValues: enabled,
      cluster: [keypairSecret(pair.pub, pair.priv)],
    });
    expect((result.moduleValues.internal as Record<string, unknown>).remoteAuthnKeypair).toEqual(pair);
    expect(result.logs).toEqual([]);
  });

  it('writes no values patch when values already hold the Secret keys', async () => {
    const pair = generateAuthnKeypair();
    const result = await harness.run(hook, {
      configValues: enabled,
      cluster: [keypairSecret(pair.pub, pair.priv)],
      values: { internal: { remoteAuthnKeypair: pair } },
    });
    expect(result.valuesPatch).toEqual([]);
  });

  it('keeps the pair from values while the Secret is not rendered yet', async () => {
    const pair = generateAuthnKeypair();
    const result = await harness.run(hook, {
      configValues: enabled,
      values: { internal: { remoteAuthnKeypair: pair } },
    });
    expect(result.valuesPatch).toEqual([]);
  });

  const other = generateAuthnKeypair();
  const corrupt: [string, KubeObject][] = [
    ['garbage PEM', keypairSecret('not a key', 'not a key either')],
    ['mismatched halves', keypairSecret(generateAuthnKeypair().pub, other.priv)],
    [
      'an RSA key',
      keypairSecret(
        createPublicKey(generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey)
          .export({ type: 'spki', format: 'pem' })
          .toString(),
        other.priv,
      ),
    ],
    ['missing private key', keypairSecret(other.pub, '')],
    [
      'data that is not base64',
      { ...keypairSecret('', ''), data: { 'pub.pem': '%%%not-base64%%%', 'priv.pem': '***' } },
    ],
  ];
  it.each(corrupt)(
    'replaces a corrupt Secret (%s) and says why, without failing',
    async (_case, badSecret) => {
      const result = await harness.run(hook, { configValues: enabled, cluster: [badSecret] });
      const pair = (result.moduleValues.internal as { remoteAuthnKeypair: { pub: string; priv: string } })
        .remoteAuthnKeypair;
      expect(authnKeypairProblem(pair)).toBeUndefined();
      expect(pair.priv).not.toBe(other.priv);
      expect(result.logs).toEqual([
        expect.objectContaining({
          level: 'warn',
          msg: 'authn key-pair Secret is unusable; it will be replaced',
          secret: 'd8-istio/d8-remote-authn-keypair',
          problem: expect.any(String),
        }),
      ]);
    },
  );

  it('ignores Secrets with other names or namespaces', async () => {
    const pair = generateAuthnKeypair();
    const elsewhere = {
      ...keypairSecret(pair.pub, pair.priv),
      metadata: { name: KEYPAIR_SECRET_NAME, namespace: 'default' },
    };
    const result = await harness.run(hook, { configValues: enabled, cluster: [elsewhere] });
    const chosen = (result.moduleValues.internal as { remoteAuthnKeypair: { pub: string } })
      .remoteAuthnKeypair;
    expect(chosen.pub).not.toBe(pair.pub);
  });
});
