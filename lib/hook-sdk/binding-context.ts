import type { Bindings, HookDefinition, Snapshots, Trigger } from './hook';
import type { BindingContext, SnapshotItem } from './types';
import { isRecord } from '../util/guards';

/** Thrown for input that addon-operator would never send: an internal fault. */
export class InputError extends Error {}

/** Validates the BINDING_CONTEXT_PATH document: a JSON array of binding contexts. */
export function parseBindingContexts(document: unknown): BindingContext[] {
  if (!Array.isArray(document)) throw new InputError('binding context must be a JSON array');
  return document.map((context, i) => {
    if (!isRecord(context) || typeof context.binding !== 'string') {
      throw new InputError(`binding context #${i} has no "binding" name`);
    }
    if (context.snapshots !== undefined && !isRecord(context.snapshots)) {
      throw new InputError(`binding context #${i}: "snapshots" must be an object`);
    }
    for (const [name, items] of Object.entries(context.snapshots ?? {})) {
      if (!Array.isArray(items))
        throw new InputError(`binding context #${i}: snapshot ${name} is not an array`);
    }
    if (context.objects !== undefined && !Array.isArray(context.objects)) {
      throw new InputError(`binding context #${i}: "objects" must be an array`);
    }
    return context as unknown as BindingContext;
  });
}

/**
 * The state the hook acts on. Contexts of one run are ordered; snapshots carry the full
 * current state of every binding in the group, so the newest context that has them
 * wins. A Synchronization context without snapshots still carries its binding's objects.
 */
export function currentSnapshotItems(contexts: readonly BindingContext[]): Record<string, SnapshotItem[]> {
  const items: Record<string, SnapshotItem[]> = {};
  for (const context of contexts) {
    if (context.snapshots) Object.assign(items, context.snapshots);
    else if (context.type === 'Synchronization' && context.objects) items[context.binding] = context.objects;
  }
  return items;
}

export function typedSnapshots<B extends Bindings>(
  hook: HookDefinition<B>,
  items: Record<string, SnapshotItem[]>,
): Snapshots<B> {
  const result: Record<string, unknown[]> = {};
  for (const [name, binding] of Object.entries(hook.kubernetes ?? {})) {
    result[name] = (items[name] ?? []).map((item) => binding.parse(item.filterResult));
  }
  return result as Snapshots<B>;
}

export function triggersOf(contexts: readonly BindingContext[]): Trigger[] {
  return contexts.map(({ binding, type, watchEvent }) => ({
    binding,
    ...(type ? { type } : {}),
    ...(watchEvent ? { watchEvent } : {}),
  }));
}
