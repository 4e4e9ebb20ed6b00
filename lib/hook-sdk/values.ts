import { jsonEqual } from '../util/deep-equal';
import { isRecord } from '../util/guards';
import { splitValuesPath, toJsonPointer } from './json-pointer';
import type { ValuesPatchOperation } from './types';

type JsonObject = Record<string, unknown>;

const isObject: (v: unknown) => v is JsonObject = isRecord;

function lookup(root: unknown, segments: readonly string[]): unknown {
  let node = root;
  for (const segment of segments) {
    if (!isObject(node) || !Object.hasOwn(node, segment)) return undefined;
    node = node[segment];
  }
  return node;
}

/** Read-only view of values (config values, or values before the hook ran). */
export class ReadonlyValues {
  constructor(protected readonly root: JsonObject) {}

  get<T = unknown>(path: string): T | undefined {
    return structuredClone(lookup(this.root, splitValuesPath(path))) as T | undefined;
  }

  has(path: string): boolean {
    return lookup(this.root, splitValuesPath(path)) !== undefined;
  }
}

/**
 * Values with a patch collector. `set` and `remove` emit only `add` and `remove`
 * operations (addon-operator rejects `replace`), and nothing at all when the value
 * would not change, so a hook that recomputes the same state writes no patch.
 */
export class PatchableValues extends ReadonlyValues {
  private readonly operations: ValuesPatchOperation[] = [];

  constructor(
    root: JsonObject,
    private readonly writableRoot: string,
  ) {
    super(structuredClone(root));
  }

  set(path: string, value: unknown): void {
    // JSON has no undefined: setting it means the key goes away.
    if (value === undefined) return this.remove(path);
    const segments = this.writableSegments(path);
    const normalized: unknown = JSON.parse(JSON.stringify(value));
    if (jsonEqual(lookup(this.root, segments), normalized)) return;

    // Walk down to the deepest existing object; the first missing segment gets the
    // whole remaining subtree in one `add` (a strict patch cannot add below a gap).
    let parent: JsonObject = this.root;
    let depth = 0;
    while (depth < segments.length - 1) {
      const next = parent[segments[depth]!];
      if (!isObject(next)) break;
      parent = next;
      depth++;
    }
    let subtree: unknown = normalized;
    for (let i = segments.length - 1; i > depth; i--) subtree = { [segments[i]!]: subtree };
    const key = segments[depth]!;
    if (parent[key] !== undefined && !isObject(parent[key]) && depth < segments.length - 1) {
      throw new Error(`cannot set ${path}: ${segments.slice(0, depth + 1).join('.')} is not an object`);
    }
    parent[key] = subtree;
    // The recorded value must not alias the working copy that later sets/removes mutate.
    this.operations.push({
      op: 'add',
      path: toJsonPointer(segments.slice(0, depth + 1)),
      value: structuredClone(subtree),
    });
  }

  remove(path: string): void {
    const segments = this.writableSegments(path);
    const parent = lookup(this.root, segments.slice(0, -1));
    const key = segments[segments.length - 1]!;
    if (!isObject(parent) || !Object.hasOwn(parent, key)) return;
    delete parent[key];
    this.operations.push({ op: 'remove', path: toJsonPointer(segments) });
  }

  /** The patch, in order, as addon-operator will apply it. */
  patch(): ValuesPatchOperation[] {
    return [...this.operations];
  }

  private writableSegments(path: string): string[] {
    const segments = splitValuesPath(path);
    if (segments[0] !== this.writableRoot || segments.length < 2) {
      throw new Error(`hooks may only write below ${this.writableRoot}.*, not ${path}`);
    }
    return segments;
  }
}
