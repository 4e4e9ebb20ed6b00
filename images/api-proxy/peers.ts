import { readFileSync, statSync } from 'node:fs';
import { parseAuthnPublicKey } from '../../lib/federation/identity/authn-keys';
import { validatePublicDocument } from '../../lib/federation/wire/documents';

/**
 * The multicluster peers allowed to use the proxy: a JSON map clusterUUID -> public document
 * ({clusterUUID, authnKeyPub, rootCA}), mounted from Secret
 * d8-remote-multiclusters-public-metadata. Federation peers live in another Secret and are
 * never read here, so a federation peer's token is refused.
 */
export const PEERS_FILE_NAME = 'remote-multiclusters-public-metadata.json';
const MAX_FILE_BYTES = 4 * 1024 * 1024;

export interface PeerSet {
  keys: ReadonlyMap<string, string>;
  rejected: { clusterUUID: string; reason: string }[];
}

export function parsePeers(text: string): PeerSet {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new Error('peers file is not valid JSON');
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new Error('peers file must be a JSON object keyed by clusterUUID');
  }
  const keys = new Map<string, string>();
  const rejected: PeerSet['rejected'] = [];
  for (const [uuid, entry] of Object.entries(raw)) {
    const doc = validatePublicDocument(entry);
    if (!doc.ok) {
      rejected.push({ clusterUUID: uuid, reason: doc.error });
      continue;
    }
    if (doc.value.clusterUUID !== uuid) {
      rejected.push({ clusterUUID: uuid, reason: 'clusterUUID differs from its key' });
      continue;
    }
    try {
      parseAuthnPublicKey(doc.value.authnKeyPub);
    } catch (error) {
      rejected.push({ clusterUUID: uuid, reason: `authnKeyPub: ${(error as Error).message}` });
      continue;
    }
    keys.set(uuid, doc.value.authnKeyPub);
  }
  return { keys, rejected };
}

/** Cheap fingerprint; the path is followed through the kubelet's `..data` links by stat. */
function signature(path: string): string {
  try {
    const stat = statSync(path);
    return `${stat.ino}:${stat.size}:${stat.mtimeMs}`;
  } catch {
    return 'missing';
  }
}

export type PeerReload =
  | { outcome: 'unchanged' }
  | { outcome: 'loaded'; peers: number; rejected: PeerSet['rejected'] }
  | { outcome: 'failed'; error: string };

/** Holds the last valid peer set; an invalid file keeps the previous one in force. */
export class PeerStore {
  private set: PeerSet | undefined;
  private seen: string | undefined;

  constructor(private readonly path: string) {}

  get loaded(): boolean {
    return this.set !== undefined;
  }

  get size(): number {
    return this.set?.keys.size ?? 0;
  }

  publicKey(clusterUUID: string): string | undefined {
    return this.set?.keys.get(clusterUUID);
  }

  reload(force = false): PeerReload {
    const current = signature(this.path);
    if (!force && current === this.seen) return { outcome: 'unchanged' };
    this.seen = current;
    try {
      if (statSync(this.path).size > MAX_FILE_BYTES) throw new Error('peers file is too large');
      const set = parsePeers(readFileSync(this.path, 'utf8'));
      this.set = set;
      return { outcome: 'loaded', peers: set.keys.size, rejected: set.rejected };
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      return { outcome: 'failed', error: code ?? (error as Error).message };
    }
  }
}
