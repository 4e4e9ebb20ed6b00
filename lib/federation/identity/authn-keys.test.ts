import {
  authnKeypairProblem,
  chooseAuthnKeypair,
  generateAuthnKeypair,
  parseAuthnPublicKey,
} from './authn-keys';

describe('authn keys', () => {
  it('accepts the Deckhouse label and the standard label for the same key', () => {
    const { pub } = generateAuthnKeypair();
    const standard = pub.replace(/ED25519 PUBLIC KEY/g, 'PUBLIC KEY');
    const der = (pem: string) => parseAuthnPublicKey(pem).export({ type: 'spki', format: 'der' });
    expect(der(pub).equals(der(standard))).toBe(true);
  });

  it.each([
    ['no PEM block', 'hello', /expected one PEM block, found 0/],
    ['two PEM blocks', `${generateAuthnKeypair().pub}${generateAuthnKeypair().pub}`, /found 2/],
    [
      'a certificate label',
      '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----',
      /expected a "PUBLIC KEY"/,
    ],
  ])('rejects %s', (_case, pem, message) => {
    expect(() => parseAuthnPublicKey(pem)).toThrow(message);
  });

  it('prefers a valid Secret, then valid values, then a new pair', () => {
    const a = generateAuthnKeypair();
    const b = generateAuthnKeypair();
    const fresh = generateAuthnKeypair();
    expect(chooseAuthnKeypair(a, b, () => fresh)).toEqual({ keypair: a, source: 'secret' });
    expect(chooseAuthnKeypair(undefined, b, () => fresh)).toEqual({ keypair: b, source: 'values' });
    expect(chooseAuthnKeypair({ pub: a.pub, priv: b.priv }, undefined, () => fresh)).toEqual({
      keypair: fresh,
      source: 'generated',
      secretProblem: 'public key does not match the private key',
    });
    expect(authnKeypairProblem({ pub: a.pub })).toBe('public or private key is missing');
  });
});
