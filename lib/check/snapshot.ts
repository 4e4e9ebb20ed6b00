import { isRecord, isString, type JsonRecord } from '../util/guards';

/**
 * What `check` reads from the cluster's API, as raw JSON: the reader (kube.ts) fills it,
 * the pure checks read it. A read is either the object (undefined: 404) or why not.
 */

export type Read<T> = { ok: true; value: T | undefined } | { ok: false; error: string; status?: number };

export const NAMESPACE = 'd8-istio';
export const OPERATOR_NAMESPACE = 'd8-system';
export const OPERATOR_CONFIGMAP = 'addon-operator';
export const CRD_NAME = 'istiofederations.deckhouse.io';
export const DOCUMENTS_SECRET = 'd8-istio-federation-documents';
export const KEYPAIR_SECRET = 'd8-remote-authn-keypair';
/** The key of the documents Secret with the peers' public documents our exporter checks their tokens with. */
export const REMOTES_KEY = 'remote-public-metadata.json';
export const MESH_CONFIG_MAP = 'd8-istio-federation-mesh-config';
export const IMPORTED_LABEL = 'federation.istio.deckhouse.io/imported=true';

export interface ClusterSnapshot {
  crd: Read<unknown>;
  /** Undefined when the ModuleConfig kind does not exist (plain addon-operator). */
  moduleConfig: Read<unknown> | undefined;
  operatorConfigMap: Read<unknown>;
  exporterDeployment: Read<unknown>;
  exporterIngress: Read<unknown>;
  documentsSecret: Read<unknown>;
  keypairSecret: Read<unknown>;
  gatewayDeployment: Read<unknown>;
  /** Deployments labelled app=istiod, in any namespace. */
  istiodDeployments: Read<unknown[]>;
  federations: Read<unknown[]>;
  serviceEntries: Read<unknown[]>;
}

/** The scope of the checks of this cluster's own side. */
export const MODULE = 'module';

export const RBAC_HINT =
  'the check reads with your kubeconfig user; it needs get/list on the objects named (kubectl auth can-i)';

export function readError(what: string, read: Read<unknown>): string | undefined {
  if (read.ok) return undefined;
  return `cannot read ${what}: ${read.error}`;
}

// ------------------------------------------------------------------ small readers

export function at(value: unknown, ...path: (string | number)[]): unknown {
  let current = value;
  for (const key of path) {
    if (typeof key === 'number') current = Array.isArray(current) ? current[key] : undefined;
    else current = isRecord(current) ? current[key] : undefined;
  }
  return current;
}

export function text(value: unknown, ...path: (string | number)[]): string | undefined {
  const v = at(value, ...path);
  return isString(v) && v !== '' ? v : undefined;
}

export function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

/** A Secret's data key, base64-decoded. */
export function secretData(secret: unknown, key: string): string | undefined {
  const encoded = text(secret, 'data', key);
  return encoded === undefined ? undefined : Buffer.from(encoded, 'base64').toString('utf8');
}

/** The env of a Deployment's first container with the given name (or its first container), by name. */
export function containerEnv(deployment: unknown, container?: string): Record<string, string> {
  const containers = list(at(deployment, 'spec', 'template', 'spec', 'containers'));
  const chosen =
    containers.find((c) => container !== undefined && text(c, 'name') === container) ?? containers[0];
  const env: Record<string, string> = {};
  for (const e of list(at(chosen, 'env'))) {
    const name = text(e, 'name');
    const value = at(e, 'value');
    if (name && isString(value)) env[name] = value;
  }
  return env;
}

export function objectName(o: unknown): string {
  const ns = text(o, 'metadata', 'namespace');
  const name = text(o, 'metadata', 'name') ?? '?';
  return ns ? `${ns}/${name}` : name;
}

export function parseJsonRecord(raw: string | undefined): JsonRecord | undefined {
  if (raw === undefined) return undefined;
  try {
    const parsed: unknown = JSON.parse(raw);
    return isRecord(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}
