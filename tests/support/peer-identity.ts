// A valid public identity for a fake peer: the merge checks public documents read back from
// status as the fetcher does (the key must parse, the root CA must be a valid CA), so test
// fixtures need real ones. One fixed pair serves every fake peer; only the UUID differs.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** A self-signed EC root CA valid until 2126. */
export const TEST_ROOT_CA_PEM = readFileSync(
  join(__dirname, '..', 'exporter', 'fixtures', 'ec-root-ca.pem'),
  'utf8',
);

/** An Ed25519 public key in the reference's PEM label. */
export const TEST_AUTHN_PUBLIC_KEY_PEM =
  '-----BEGIN ED25519 PUBLIC KEY-----\nMCowBQYDK2VwAyEAoGSn/Xr1fi/BAvFKnGLjK9h29xv5vk0vXP98HuIEpI4=\n-----END ED25519 PUBLIC KEY-----\n';

export function testPublicDocument(clusterUUID: string) {
  return { clusterUUID, authnKeyPub: TEST_AUTHN_PUBLIC_KEY_PEM, rootCA: TEST_ROOT_CA_PEM };
}
