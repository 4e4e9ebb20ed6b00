import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { resourcePath, type KubeApi } from './kube-api';

/**
 * What kubelet does for the exporter's projected Secret volume, done by polling the API:
 * the rendered Secrets' keys become files in the documents directory, swapped in
 * atomically through a `..data` symlink (kubelet's AtomicWriter layout), so the exporter
 * never reads a half-written set.
 */

export const DOCUMENT_SECRETS = [
  { name: 'd8-istio-federation-documents', keys: ['public.json', 'federation.json'] },
  { name: 'd8-remote-clusters-public-metadata', keys: ['remote-public-metadata.json'] },
] as const;
export const DOCUMENTS_NAMESPACE = 'd8-istio';

export type DocumentFiles = Record<string, string>;

let generation = 0;

/** Writes `files` as the new content of `dir` in one atomic step (rename of the `..data` link). */
export function writeDocumentsAtomically(dir: string, files: DocumentFiles): void {
  mkdirSync(dir, { recursive: true });
  const dataLink = join(dir, '..data');
  const previous = existsSync(dataLink) ? readlinkSync(dataLink) : undefined;
  const version = `..${new Date().toISOString().replace(/[:.]/g, '_')}.${process.pid}.${++generation}`;
  mkdirSync(join(dir, version));
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, version, name), content);
  const tmpLink = join(dir, '..data_tmp');
  rmSync(tmpLink, { force: true });
  symlinkSync(version, tmpLink);
  renameSync(tmpLink, dataLink);
  for (const name of Object.keys(files)) {
    const userLink = join(dir, name);
    if (!existsSync(userLink)) symlinkSync(join('..data', name), userLink);
  }
  if (previous && previous !== version) rmSync(join(dir, previous), { recursive: true, force: true });
}

/** The documents currently in `dir` (what the exporter serves). */
export function readDocumentsDir(dir: string): DocumentFiles {
  const files: DocumentFiles = {};
  for (const key of DOCUMENT_SECRETS.flatMap((s) => s.keys))
    files[key] = readFileSync(join(dir, key), 'utf8');
  return files;
}

/** The documents as the Secrets hold them now, or undefined while any key is missing. */
export async function readRenderedDocuments(api: KubeApi): Promise<DocumentFiles | undefined> {
  const files: DocumentFiles = {};
  for (const secret of DOCUMENT_SECRETS) {
    const object = await api.get<{ data?: Record<string, string> }>(
      resourcePath('v1', 'secrets', { namespace: DOCUMENTS_NAMESPACE, name: secret.name }),
    );
    for (const key of secret.keys) {
      const value = object?.data?.[key];
      if (value === undefined) return undefined;
      files[key] = Buffer.from(value, 'base64').toString('utf8');
    }
  }
  return files;
}

function digest(files: DocumentFiles): string {
  const hash = createHash('sha256');
  for (const name of Object.keys(files).sort())
    hash
      .update(name)
      .update('\0')
      .update(files[name] ?? '');
  return hash.digest('hex');
}

export class DocumentsSync {
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private paused = false;
  private lastDigest: string | undefined;
  private lastError: string | undefined;
  /** Time of the last write of new content (for convergence figures). */
  lastWrittenAt: number | undefined;
  writes = 0;

  constructor(
    private readonly api: KubeApi,
    readonly dir: string,
    private readonly intervalMs = 500,
  ) {}

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.syncOnce(), this.intervalMs);
    this.timer.unref();
    void this.syncOnce();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** While paused the directory keeps whatever was written last (e.g. a hostile document). */
  pause(): void {
    this.paused = true;
  }

  /** Resumes and rewrites the rendered documents on the next round, even if unchanged. */
  resume(): void {
    this.lastDigest = undefined;
    this.paused = false;
  }

  get hasDocuments(): boolean {
    return this.lastDigest !== undefined || existsSync(join(this.dir, '..data'));
  }

  get error(): string | undefined {
    return this.lastError;
  }

  /** One poll of the Secrets; exported for callers that must not wait for the next tick. */
  async syncOnce(): Promise<boolean> {
    if (this.running || this.paused) return false;
    this.running = true;
    try {
      const files = await readRenderedDocuments(this.api);
      this.lastError = undefined;
      if (!files || this.paused) return false;
      const next = digest(files);
      if (next === this.lastDigest) return false;
      writeDocumentsAtomically(this.dir, files);
      this.lastDigest = next;
      this.lastWrittenAt = Date.now();
      this.writes++;
      return true;
    } catch (error) {
      this.lastError = error instanceof Error ? error.message : String(error);
      return false;
    } finally {
      this.running = false;
    }
  }
}
