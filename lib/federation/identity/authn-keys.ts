import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';

/**
 * The Ed25519 key pair that authenticates this cluster to its peers' exporters.
 * The reference (Deckhouse) writes PEM blocks labelled `ED25519 PUBLIC KEY` (PKIX) and
 * `ED25519 PRIVATE KEY` (PKCS#8); we write the same and accept the standard labels too.
 */
export interface AuthnKeypair {
  pub: string;
  priv: string;
}

const PUBLIC_LABEL = 'ED25519 PUBLIC KEY';
const PRIVATE_LABEL = 'ED25519 PRIVATE KEY';

function relabel(pem: string, from: string, to: string): string {
  return pem
    .replace(`-----BEGIN ${from}-----`, `-----BEGIN ${to}-----`)
    .replace(`-----END ${from}-----`, `-----END ${to}-----`);
}

/** The single PEM block of `pem`, relabelled to the standard label Node's parser expects. */
function standardPem(pem: string, deckhouseLabel: string, standardLabel: string): string {
  const blocks = pem.match(/-----BEGIN [A-Z0-9 ]+-----[\s\S]*?-----END [A-Z0-9 ]+-----/g) ?? [];
  if (blocks.length !== 1) throw new Error(`expected one PEM block, found ${blocks.length}`);
  const block = relabel(blocks[0]!, deckhouseLabel, standardLabel);
  if (!block.startsWith(`-----BEGIN ${standardLabel}-----`)) {
    throw new Error(`expected a "${standardLabel}" or "${deckhouseLabel}" PEM block`);
  }
  return block + '\n';
}

export function parseAuthnPublicKey(pem: string): KeyObject {
  const key = createPublicKey(standardPem(pem, PUBLIC_LABEL, 'PUBLIC KEY'));
  if (key.asymmetricKeyType !== 'ed25519') throw new Error(`not an Ed25519 key: ${key.asymmetricKeyType}`);
  return key;
}

export function parseAuthnPrivateKey(pem: string): KeyObject {
  const key = createPrivateKey(standardPem(pem, PRIVATE_LABEL, 'PRIVATE KEY'));
  if (key.asymmetricKeyType !== 'ed25519') throw new Error(`not an Ed25519 key: ${key.asymmetricKeyType}`);
  return key;
}

export function generateAuthnKeypair(): AuthnKeypair {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  return {
    pub: relabel(publicKey.export({ type: 'spki', format: 'pem' }).toString(), 'PUBLIC KEY', PUBLIC_LABEL),
    priv: relabel(
      privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      'PRIVATE KEY',
      PRIVATE_LABEL,
    ),
  };
}

/** Why a key pair cannot be used, or undefined when both halves parse and belong together. */
export function authnKeypairProblem(keypair: Partial<AuthnKeypair>): string | undefined {
  if (!keypair.pub || !keypair.priv) return 'public or private key is missing';
  try {
    const pub = parseAuthnPublicKey(keypair.pub);
    const derived = createPublicKey(parseAuthnPrivateKey(keypair.priv));
    const raw = (k: KeyObject) => k.export({ type: 'spki', format: 'der' });
    if (!raw(pub).equals(raw(derived))) return 'public key does not match the private key';
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

export type KeypairSource = 'secret' | 'values' | 'generated';

export interface KeypairDecision {
  keypair: AuthnKeypair;
  source: KeypairSource;
  /** Set when the Secret existed but could not be used (it will be re-rendered from values). */
  secretProblem?: string;
}

/**
 * Keeps the cluster's identity stable: a valid Secret wins, then a valid pair already in
 * values (the Secret is rendered from values, so it may lag one Helm run), else a new pair.
 */
export function chooseAuthnKeypair(
  secret: Partial<AuthnKeypair> | undefined,
  inValues: Partial<AuthnKeypair> | undefined,
  generate: () => AuthnKeypair = generateAuthnKeypair,
): KeypairDecision {
  const secretProblem = secret ? authnKeypairProblem(secret) : undefined;
  if (secret && !secretProblem)
    return { keypair: { pub: secret.pub!, priv: secret.priv! }, source: 'secret' };
  const withProblem = secretProblem ? { secretProblem } : {};
  if (inValues && !authnKeypairProblem(inValues)) {
    return { keypair: { pub: inValues.pub!, priv: inValues.priv! }, source: 'values', ...withProblem };
  }
  return { keypair: generate(), source: 'generated', ...withProblem };
}
