import { defineHook, kubernetesBinding } from '../../lib/hook-sdk';

export const ROOT_CA_NAMESPACE = 'd8-istio';
export const ROOT_CA_CONFIGMAP = 'istio-ca-root-cert';
// Runs in every mode: the public document, read by federation and multicluster peers alike.
const VALUES_PATH = 'istio.internal.federation.localRootCA';

const PEM_CERTIFICATE = /^\s*-----BEGIN CERTIFICATE-----\r?\n[A-Za-z0-9+/=\r\n]+-----END CERTIFICATE-----\s*/;

/** A usable root CA bundle: one or more PEM certificates and nothing else. */
export function isPemCertificateBundle(text: string): boolean {
  let rest = text;
  let count = 0;
  while (rest.trim() !== '' && count < 100) {
    const m = PEM_CERTIFICATE.exec(rest);
    if (!m) return false;
    rest = rest.slice(m[0].length);
    count++;
  }
  return count > 0 && rest.trim() === '';
}

/**
 * The last good root CA is kept when the ConfigMap disappears or holds garbage: istiod
 * rewrites it in place on rotation, so absence is transient (istiod restart, namespace
 * churn), and publishing an empty root would make every peer distrust us meanwhile.
 */
export function chooseLocalRootCA(
  observed: string | undefined,
  current: string | undefined,
): { value: string; problem?: string } {
  if (observed !== undefined && isPemCertificateBundle(observed)) return { value: observed };
  const value = current ?? '';
  if (observed === undefined)
    return { value, problem: 'root-cert.pem not found; keeping the last known root CA' };
  return { value, problem: 'root-cert.pem is not a PEM certificate bundle; keeping the last known root CA' };
}

export default defineHook({
  name: 'federation/discover-root-ca',
  beforeHelm: 20,
  kubernetes: {
    rootCA: kubernetesBinding({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      namespace: { nameSelector: { matchNames: [ROOT_CA_NAMESPACE] } },
      nameSelector: { matchNames: [ROOT_CA_CONFIGMAP] },
      jqFilter: '{pem: .data["root-cert.pem"]}',
      parse: (result): string | undefined => {
        const pem = (result as { pem?: unknown } | null)?.pem;
        return typeof pem === 'string' ? pem : undefined;
      },
    }),
  },
  run({ snapshots, values, log }) {
    const { value, problem } = chooseLocalRootCA(snapshots.rootCA[0], values.get<string>(VALUES_PATH));
    if (problem) log.warn(problem, { configMap: `${ROOT_CA_NAMESPACE}/${ROOT_CA_CONFIGMAP}` });
    values.set(VALUES_PATH, value);
  },
});
