import { constants as fsConstants, type Stats } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { errorText } from '../../util/errors';
import type { FetchResult } from './transport-types';

/**
 * Only regular files (symlinks to them included: mounted ConfigMaps are symlinks). A FIFO
 * or a device would block the read, and so the hook and its queue, forever. The type is
 * checked before opening (opening a FIFO for reading waits for a writer) and again on the
 * open descriptor, which is opened non-blocking, in case the path was swapped in between.
 */
export async function readLocalDocument(url: URL, maxBytes: number): Promise<FetchResult> {
  let path: string;
  try {
    path = fileURLToPath(url);
  } catch (error) {
    return {
      ok: false,
      reason: 'InvalidDocument',
      message: `invalid file URL ${url.href}: ${errorText(error)}`,
    };
  }
  let handle;
  try {
    const kind = nonRegularKind(await stat(path));
    if (kind) return notRegular(url, kind);
    handle = await open(path, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK);
  } catch (error) {
    return { ok: false, reason: 'Unreachable', message: `cannot open ${url.href}: ${errorText(error)}` };
  }
  try {
    const kind = nonRegularKind(await handle.stat());
    if (kind) return notRegular(url, kind);
    // Read one byte past the cap: enough to know the file is too large, never more.
    const buffer = Buffer.alloc(maxBytes + 1);
    let length = 0;
    while (length < buffer.length) {
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, length);
      if (bytesRead === 0) break;
      length += bytesRead;
    }
    if (length > maxBytes) return tooLarge(url.href, maxBytes);
    return { ok: true, body: buffer.subarray(0, length) };
  } catch (error) {
    return { ok: false, reason: 'Unreachable', message: `cannot read ${url.href}: ${errorText(error)}` };
  } finally {
    await handle.close();
  }
}

function nonRegularKind(stats: Stats): string | undefined {
  if (stats.isFile()) return undefined;
  if (stats.isDirectory()) return 'a directory';
  if (stats.isFIFO()) return 'a FIFO';
  if (stats.isCharacterDevice()) return 'a character device';
  if (stats.isBlockDevice()) return 'a block device';
  if (stats.isSocket()) return 'a socket';
  return 'not a regular file';
}

function notRegular(url: URL, kind: string): FetchResult {
  return {
    ok: false,
    reason: 'InvalidDocument',
    message: `${url.href} is ${kind}; only regular files are read`,
  };
}

function tooLarge(where: string, maxBytes: number): FetchResult {
  return { ok: false, reason: 'TooLarge', message: `${where}: response exceeds ${maxBytes} bytes` };
}
