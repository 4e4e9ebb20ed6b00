// Pure parts of the Secret source: the documents a Secret holds, and the retry delay.
import { DOCUMENT_FILES, type DocumentKey, type RawDocuments } from './document-set';
import type { DocumentsRead, DocumentStore } from './document-store';

/** Upper bound for one document (decoded), as for files. */
export const MAX_DOCUMENT_BYTES = 4 * 1024 * 1024;

const ALL_KEYS = Object.keys(DOCUMENT_FILES) as DocumentKey[];

export interface SecretRef {
  namespace: string;
  name: string;
}

/** `<namespace>/<name>`, both DNS-1123 (the namespace a label, the name a subdomain). */
export function parseSecretRef(value: string): SecretRef | undefined {
  const match = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?)\/([a-z0-9]([-a-z0-9.]*[a-z0-9])?)$/.exec(value);
  if (!match || match[1]!.length > 63 || match[3]!.length > 253) return undefined;
  return { namespace: match[1]!, name: match[3]! };
}

/**
 * The documents of `keys` from a Secret's `data` (base64, as the API returns it); other keys
 * (a private document this exporter does not serve) are ignored.
 */
export function documentsFromSecretData(
  data: Readonly<Record<string, string>> | undefined,
  keys: readonly DocumentKey[],
): DocumentsRead {
  const raw: Partial<Record<DocumentKey, string>> = {};
  for (const key of keys) {
    const file = DOCUMENT_FILES[key];
    const encoded = data?.[file];
    if (encoded === undefined) return { ok: false, error: `${file}: missing from the Secret` };
    // base64 is 4/3 of the decoded size: refuse oversized values before decoding them.
    if (encoded.length > Math.ceil(MAX_DOCUMENT_BYTES / 3) * 4)
      return { ok: false, error: `${file} is too large` };
    raw[key] = Buffer.from(encoded, 'base64').toString('utf8');
  }
  // `keys` always holds public (documentKeys).
  return { ok: true, raw: raw as RawDocuments };
}

export function sameDocuments(a: RawDocuments, b: RawDocuments): boolean {
  return ALL_KEYS.every((key) => a[key] === b[key]);
}

export interface Backoff {
  initialMs: number;
  maxMs: number;
}

export const DEFAULT_BACKOFF: Backoff = { initialMs: 250, maxMs: 30_000 };

/**
 * Delay before retry number `failures` (1 = first retry): doubling from `initialMs`, capped at
 * `maxMs`, minus up to 20 % jitter so that many exporters do not retry in step.
 */
export function retryDelayMs(failures: number, backoff: Backoff, random: () => number = Math.random): number {
  const exponent = Math.min(Math.max(failures - 1, 0), 30);
  const base = Math.min(backoff.maxMs, backoff.initialMs * 2 ** exponent);
  return Math.round(base * (1 - 0.2 * random()));
}

/**
 * Feeds a DocumentStore from Secret events. The same documents again (a relist, a change of
 * the Secret's metadata only) are not offered again, nor is a second "gone" in a row; a
 * Secret that is gone keeps the last valid set served and counts as a failed reload, as
 * missing files do in the directory mode.
 */
export class SecretDocuments {
  private last: RawDocuments | 'absent' | undefined;

  constructor(
    private readonly ref: SecretRef,
    private readonly keys: readonly DocumentKey[],
    private readonly store: DocumentStore,
  ) {}

  onSecret(secret: { data?: Record<string, string> }): void {
    const read = documentsFromSecretData(secret.data, this.keys);
    if (read.ok && this.last !== undefined && this.last !== 'absent' && sameDocuments(read.raw, this.last))
      return;
    this.last = read.ok ? read.raw : undefined;
    this.store.offer(read);
  }

  onAbsent(reason: 'deleted' | 'not found'): void {
    if (this.last === 'absent') return;
    this.last = 'absent';
    this.store.offer({ ok: false, error: `Secret ${this.ref.namespace}/${this.ref.name} ${reason}` });
  }
}
