import { readFileSync, readlinkSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Logger } from '../../lib/hook-sdk/logger';
import { DOCUMENT_FILES, parseDocumentSet, type RawDocuments } from './document-set';
import type { ExporterMetrics } from './metrics';
import { RenderedDocuments } from './rendered-documents';

/** Kubernetes' atomic writer points this link at a fresh, immutable directory on every update. */
export const KUBERNETES_DATA_LINK = '..data';

/** Upper bound for one document file; larger files are refused unread. */
const MAX_FILE_BYTES = 4 * 1024 * 1024;
/** Retries when the directory changes while it is being read. */
const READ_ATTEMPTS = 3;

type FileKey = keyof typeof DOCUMENT_FILES;
const FILE_KEYS = Object.keys(DOCUMENT_FILES) as FileKey[];

export type DirectoryRead =
  { ok: true; signature: string; raw: RawDocuments } | { ok: false; signature: string; error: string };

function dataLinkTarget(dir: string): string | undefined {
  try {
    return readlinkSync(join(dir, KUBERNETES_DATA_LINK));
  } catch {
    return undefined;
  }
}

function plainSignature(dir: string): string {
  return FILE_KEYS.map((key) => {
    try {
      const stat = statSync(join(dir, DOCUMENT_FILES[key]));
      return `${stat.ino}:${stat.size}:${stat.mtimeMs}`;
    } catch {
      return 'missing';
    }
  }).join('|');
}

/** Cheap fingerprint of the directory's content, compared on every poll. */
export function directorySignature(dir: string, target = dataLinkTarget(dir)): string {
  return target === undefined ? `files:${plainSignature(dir)}` : `data:${target}`;
}

function readFiles(base: string): { ok: true; raw: RawDocuments } | { ok: false; error: string } {
  const raw: Partial<RawDocuments> = {};
  for (const key of FILE_KEYS) {
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
  return { ok: true, raw: raw as RawDocuments };
}

/**
 * Reads the three documents as one consistent set. With a `..data` link, the files are read
 * from the link's target, which Kubernetes never modifies in place; without one, from the
 * directory itself. Either way the read is retried when the directory changed meanwhile
 * (e.g. the kubelet swapped the link and removed the old target while we were reading).
 */
export function readDocumentDirectory(dir: string): DirectoryRead {
  let last: DirectoryRead = { ok: false, signature: '', error: 'not read' };
  for (let attempt = 0; attempt < READ_ATTEMPTS; attempt++) {
    const target = dataLinkTarget(dir);
    const signature = directorySignature(dir, target);
    const files = readFiles(target === undefined ? dir : resolve(dir, target));
    last = files.ok ? { ok: true, signature, raw: files.raw } : { ok: false, signature, error: files.error };
    if (directorySignature(dir) === signature) return last;
  }
  return last;
}

export type ReloadOutcome = 'unchanged' | 'loaded' | 'rejected';

/** The three documents as read from a source, or why they could not be read. */
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
    this.logger.info('documents loaded', {
      clusterUUID: set.public.clusterUUID,
      publicServices: set.federation.publicServices.length,
      ingressGateways: set.federation.ingressGateways.length,
      remotes: set.remotes.size,
      rootCertificates: set.spiffeBundle.keys.length,
    });
    for (const rejected of rejectedRemotes) {
      this.logger.warn('remote peer entry rejected', {
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
    private readonly store: DocumentStore,
  ) {}

  /** Re-reads the directory when it changed since the last attempt, or always when forced. */
  reload(force = false): ReloadOutcome {
    if (!force && this.signature !== undefined && directorySignature(this.dir) === this.signature) {
      return 'unchanged';
    }
    const read = readDocumentDirectory(this.dir);
    this.signature = read.signature;
    return this.store.offer(read);
  }
}
