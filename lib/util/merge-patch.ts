import { jsonEqual } from './deep-equal';
import { isRecord } from './guards';

/**
 * The JSON merge patch (RFC 7386) that turns `keys` of `previous` into those of `next`,
 * or undefined when nothing would change. Objects are diffed key by key (null deletes);
 * arrays and scalars are replaced whole.
 */
export function mergePatchOf<T extends object>(
  previous: T,
  next: T,
  keys: readonly (keyof T & string)[],
): Record<string, unknown> | undefined {
  const patch: Record<string, unknown> = {};
  for (const key of keys) {
    const diff = mergeDiff(previous[key], next[key]);
    if (diff !== NO_CHANGE) patch[key] = diff;
  }
  return Object.keys(patch).length ? patch : undefined;
}

const NO_CHANGE = Symbol('no change');

function mergeDiff(before: unknown, after: unknown): unknown {
  if (jsonEqual(before, after)) return NO_CHANGE;
  if (after === undefined) return null;
  if (!isRecord(before) || !isRecord(after)) return after;
  const diff: Record<string, unknown> = {};
  for (const key of new Set([...Object.keys(before), ...Object.keys(after)])) {
    const d = mergeDiff(before[key], after[key]);
    if (d !== NO_CHANGE) diff[key] = d;
  }
  return diff;
}
