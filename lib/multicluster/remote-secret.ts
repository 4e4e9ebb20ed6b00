import { parse as parseYaml } from 'yaml';
import { isRecord, isString } from '../util/guards';

/**
 * Reading the remote Secrets istiod watches (`istio/multiCluster=true` in d8-istio), only to
 * find the `scope: api` token we put there last time (token.ts decides whether to reuse it).
 * Ours and Deckhouse's (migration) look alike: name `istio-remote-secret-<name>`, annotation
 * `networking.istio.io/cluster: <key>`, `data[<key>]` = a kubeconfig with an inline token.
 * Deckhouse's hook also accepted the kubeconfig base64-encoded once more inside data; so do we.
 * Anything else carrying the label (somebody's own remote Secret) is ignored with a reason:
 * reading never throws, so a foreign Secret can never fail the hook (the reference's does).
 */

export const REMOTE_SECRET_PREFIX = 'istio-remote-secret-';
export const REMOTE_SECRET_LABEL = 'istio/multiCluster';
export const CLUSTER_ANNOTATION = 'networking.istio.io/cluster';

/** The data key: the annotation, else the name after the prefix; only that key's kubeconfig is kept. */
export const REMOTE_SECRET_JQ_FILTER = `(
  ((.metadata.annotations // {})["${CLUSTER_ANNOTATION}"]
    // (.metadata.name | ltrimstr("${REMOTE_SECRET_PREFIX}"))) as $key
  | {name: .metadata.name, key: $key, kubeconfig: ((.data // {})[$key] // null)}
)`;

/** The token and server found in one remote Secret. */
export interface RemoteSecretToken {
  /** The IstioMulticluster name the Secret is for (its name without the prefix). */
  peer: string;
  token: string;
  /** `clusters[].cluster.server` of the current context, e.g. `https://istio-api-proxy.b.example.com`. */
  server: string;
}

export type RemoteSecretRead =
  { ok: true; value: RemoteSecretToken } | { ok: false; secret: string; problem: string };

const refuse = (secret: string, problem: string): RemoteSecretRead => ({ ok: false, secret, problem });

/** Reads one jqFilter result; never throws. */
export function readRemoteSecret(raw: unknown): RemoteSecretRead {
  if (!isRecord(raw) || !isString(raw.name)) return refuse('?', 'not a Secret');
  const name = raw.name;
  if (!name.startsWith(REMOTE_SECRET_PREFIX) || name === REMOTE_SECRET_PREFIX) {
    return refuse(name, `name does not start with ${REMOTE_SECRET_PREFIX}`);
  }
  if (!isString(raw.key) || raw.key === '') return refuse(name, 'no data key');
  if (!isString(raw.kubeconfig)) return refuse(name, `no data key ${raw.key}`);
  const kubeconfig = readKubeconfig(decodeBase64(raw.kubeconfig) ?? '');
  if (typeof kubeconfig === 'string') return refuse(name, kubeconfig);
  return { ok: true, value: { peer: name.slice(REMOTE_SECRET_PREFIX.length), ...kubeconfig } };
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

function decodeBase64(text: string): string | undefined {
  const compact = text.replace(/\s+/g, '');
  if (!BASE64.test(compact)) return undefined;
  return Buffer.from(compact, 'base64').toString('utf8');
}

/** The server and token of a kubeconfig given as YAML, or as base64 of YAML; else why not. */
export function readKubeconfig(text: string): { server: string; token: string } | string {
  const direct = kubeconfigOf(text);
  if (typeof direct !== 'string') return direct;
  const inner = decodeBase64(text);
  if (inner === undefined) return direct;
  const nested = kubeconfigOf(inner);
  return typeof nested === 'string' ? direct : nested;
}

function kubeconfigOf(text: string): { server: string; token: string } | string {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch {
    return 'kubeconfig is not YAML';
  }
  if (!isRecord(doc) || !Array.isArray(doc.clusters) || !Array.isArray(doc.users)) {
    return 'kubeconfig has no clusters or users';
  }
  const context = named(doc.contexts, doc['current-context'])?.context;
  const wanted = isRecord(context) ? context : {};
  const cluster = (named(doc.clusters, wanted.cluster) ?? first(doc.clusters))?.cluster;
  const user = (named(doc.users, wanted.user) ?? first(doc.users))?.user;
  const server = isRecord(cluster) && isString(cluster.server) ? cluster.server : '';
  const token = isRecord(user) && isString(user.token) ? user.token : '';
  if (server === '') return 'kubeconfig has no server';
  if (token === '') return 'kubeconfig has no inline token';
  return { server, token };
}

/** The entry of a kubeconfig list (`[{name, <kind>: {...}}]`) with that name. */
function named(list: unknown, name: unknown): Record<string, unknown> | undefined {
  if (!Array.isArray(list) || !isString(name)) return undefined;
  const found: unknown = list.find((entry) => isRecord(entry) && entry.name === name);
  return isRecord(found) ? found : undefined;
}

function first(list: unknown[]): Record<string, unknown> | undefined {
  return isRecord(list[0]) ? list[0] : undefined;
}

/** The tokens found, by IstioMulticluster name; Secrets that cannot be read are returned apart. */
export function readRemoteSecrets(raws: readonly unknown[]): {
  byPeer: Map<string, RemoteSecretToken>;
  ignored: { secret: string; problem: string }[];
} {
  const byPeer = new Map<string, RemoteSecretToken>();
  const ignored: { secret: string; problem: string }[] = [];
  for (const raw of raws) {
    const read = readRemoteSecret(raw);
    if (read.ok) byPeer.set(read.value.peer, read.value);
    else ignored.push({ secret: read.secret, problem: read.problem });
  }
  return { byPeer, ignored };
}
