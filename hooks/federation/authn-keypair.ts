import { chooseAuthnKeypair, type AuthnKeypair } from '../../lib/federation/identity/authn-keys';
import { defineHook, kubernetesBinding } from '../../lib/hook-sdk';

export const KEYPAIR_SECRET_NAMESPACE = 'd8-istio';
export const KEYPAIR_SECRET_NAME = 'd8-remote-authn-keypair';
const VALUES_PATH = 'istio.internal.remoteAuthnKeypair';

/** Secret data is base64 from the API; anything undecodable is treated as absent. */
function decodeBase64Field(value: unknown): string | undefined {
  if (typeof value !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(value)) return undefined;
  return Buffer.from(value, 'base64').toString('utf8');
}

export default defineHook({
  name: 'federation/authn-keypair',
  beforeHelm: 10,
  kubernetes: {
    keypairSecret: kubernetesBinding({
      apiVersion: 'v1',
      kind: 'Secret',
      namespace: { nameSelector: { matchNames: [KEYPAIR_SECRET_NAMESPACE] } },
      nameSelector: { matchNames: [KEYPAIR_SECRET_NAME] },
      jqFilter: '{pub: .data["pub.pem"], priv: .data["priv.pem"]}',
      // Only needed before Helm: the Secret itself is rendered from the values we set.
      executeHookOnEvent: false,
      executeHookOnSynchronization: false,
      parse: (result): Partial<AuthnKeypair> => {
        const r = (typeof result === 'object' && result !== null ? result : {}) as Record<string, unknown>;
        return { pub: decodeBase64Field(r.pub), priv: decodeBase64Field(r.priv) };
      },
    }),
  },
  run({ snapshots, values, log }) {
    const decision = chooseAuthnKeypair(
      snapshots.keypairSecret[0],
      values.get<Partial<AuthnKeypair>>(VALUES_PATH),
    );
    if (decision.secretProblem) {
      log.warn('authn key-pair Secret is unusable; it will be replaced', {
        secret: `${KEYPAIR_SECRET_NAMESPACE}/${KEYPAIR_SECRET_NAME}`,
        problem: decision.secretProblem,
        source: decision.source,
      });
    } else if (decision.source === 'generated') {
      log.info('generated a new authn key pair');
    }
    values.set(VALUES_PATH, decision.keypair);
  },
});
