import { readFileSync, readlinkSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Logger } from '../../lib/hook-sdk/logger';
import { DOCUMENT_FILES, parseDocumentSet, type DocumentKey, type RawDocuments } from './document-set';
import type { ExporterMetrics } from './metrics';
import { RenderedDocuments } from './rendered-documents';

/** Kubernetes' atomic writer points this link at a fresh, immutable directory on every update. */
export const KUBERNETES_DATA_LINK = '..data';

/** Upper bound for one document file; larger files are refused unread. */
const MAX_FILE_BYTES = 4 * 1024 * 1024;
/** Retries when the directory changes while it is being read. */
const READ_ATTEMPTS = 3;

export type DirectoryRead =
  { ok: true; signature: string; raw: RawDocuments } | { ok: false; signature: string; error: string };

function dataLinkTarget(dir: string): string | undefined {
  try {
    return readlinkSync(join(dir, KUBERNETES_DATA_LINK));
  } catch {
    return undefined;
  }
}

function plainSignature(dir: string, keys: readonly DocumentKey[]): string {
  return keys
    .map((key) => {
      try {
        const stat = statSync(join(dir, DOCUMENT_FILES[key]));
        return `${stat.ino}:${stat.size}:${stat.mtimeMs}`;
      } catch {
        return 'missing';
      }
    })
    .join('|');
}

/** Cheap fingerprint of the directory's content (the files of `keys`), compared on every poll. */
export function directorySignature(
  dir: string,
  keys: readonly DocumentKey[],
  target = dataLinkTarget(dir),
): string {
  return target === undefined ? `files:${plainSignature(dir, keys)}` : `data:${target}`;
}

function readFiles(
  base: string,
  keys: readonly DocumentKey[],
): { ok: true; raw: RawDocuments } | { ok: false; error: string } {
  const raw: Partial<Record<DocumentKey, string>> = {};
  for (const key of keys) {
    const path = join(base, DOCUMENT_FILES[key]);
    try {
      if (statSync(path).size > MAX_FILE_BYTES)
        return { ok: false, error: `${DOCUMENT_FILES[key]} is too large` };
      raw[key] = readFileSync(path, 'utf8');
    } catch (error) {
      return {
        ok: false,
        error: `${DOCUMENT_FILES[key]}: ${(error as NodeJS.ErrnoException).code ?? 'unreadable'}`,
      };
    }
  }
  // `keys` always holds public (documentKeys).
  return { ok: true, raw: raw as RawDocuments };
}

/**
 * Reads the documents of `keys` as one consistent set. With a `..data` link, the files are read
 * from the link's target, which Kubernetes never modifies in place; without one, from the
 * directory itself. Either way the read is retried when the directory changed meanwhile
 * (e.g. the kubelet swapped the link and removed the old target while we were reading).
 */
export function readDocumentDirectory(dir: string, keys: readonly DocumentKey[]): DirectoryRead {
  let last: DirectoryRead = { ok: false, signature: '', error: 'not read' };
  for (let attempt = 0; attempt < READ_ATTEMPTS; attempt++) {
    const target = dataLinkTarget(dir);
    const signature = directorySignature(dir, keys, target);
    const files = readFiles(target === undefined ? dir : resolve(dir, target), keys);
    last = files.ok ? { ok: true, signature, raw: files.raw } : { ok: false, signature, error: files.error };
    if (directorySignature(dir, keys) === signature) return last;
  }
  return last;
}

export type ReloadOutcome = 'unchanged' | 'loaded' | 'rejected';

/** The documents as read from a source, or why they could not be read. */
export type DocumentsRead = { ok: true; raw: RawDocuments } | { ok: false; error: string };

/**
 * Holds the document set being served. A new set replaces it only when it is valid as a
 * whole; otherwise the last valid set stays in force and the failure is logged and counted.
 * Sources (a directory, a watched Secret) offer what they read.
 */
export class DocumentStore {
  private rendered: RenderedDocuments | undefined;

  constructor(
    private readonly logger: Logger,
    private readonly metrics: ExporterMetrics,
    private readonly now: () => Date = () => new Date(),
  ) {}

  get current(): RenderedDocuments | undefined {
    return this.rendered;
  }

  /** Validates `read` and serves it when valid. */
  offer(read: DocumentsRead): Exclude<ReloadOutcome, 'unchanged'> {
    const parsed = read.ok ? parseDocumentSet(read.raw) : read;
    if (!parsed.ok) {
      this.metrics.reloads.inc({ result: 'failure' });
      this.logger.warn(
        this.rendered
          ? 'documents rejected, serving the previous set'
          : 'documents rejected, none loaded yet',
        { error: parsed.error },
      );
      return 'rejected';
    }
    const { set, rejectedRemotes } = parsed.value;
    this.rendered = new RenderedDocuments(set);
    this.metrics.reloads.inc({ result: 'success' });
    this.metrics.lastReload.set(this.now().getTime() / 1000);
    this.metrics.documentsValid.set(1);
    this.metrics.rejectedRemotes.set(rejectedRemotes.length);
    const gateways = set.federation?.ingressGateways ?? set.multicluster?.ingressGateways ?? [];
    this.logger.info('documents loaded', {
      clusterUUID: set.public.clusterUUID,
      ingressGateways: gateways.length,
      rootCertificates: set.spiffeBundle.keys.length,
      ...(set.federation
        ? { publicServices: set.federation.publicServices.length, remotes: set.peers.federation?.size ?? 0 }
        : {}),
      ...(set.multicluster ? { multiclusterRemotes: set.peers.multicluster?.size ?? 0 } : {}),
    });
    for (const rejected of rejectedRemotes) {
      this.logger.warn('remote peer entry rejected', {
        list: rejected.list,
        clusterUUID: rejected.clusterUUID.slice(0, 128),
        error: rejected.reason,
      });
    }
    return 'loaded';
  }
}

/** The documents directory (a mounted Secret volume), polled by signature. */
export class DocumentDirectory {
  private signature: string | undefined;

  constructor(
    private readonly dir: string,
    private readonly keys: readonly DocumentKey[],
    private readonly store: DocumentStore,
  ) {}

  /** Re-reads the directory when it changed since the last attempt, or always when forced. */
  reload(force = false): ReloadOutcome {
    if (
      !force &&
      this.signature !== undefined &&
      directorySignature(this.dir, this.keys) === this.signature
    ) {
      return 'unchanged';
    }
    const read = readDocumentDirectory(this.dir, this.keys);
    this.signature = read.signature;
    return this.store.offer(read);
  }
}
