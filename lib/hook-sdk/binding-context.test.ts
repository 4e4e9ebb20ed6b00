import { currentSnapshotItems, InputError, parseBindingContexts, triggersOf } from './binding-context';

describe('binding contexts', () => {
  const group = (binding: string, items: unknown[]) => ({
    binding,
    type: 'Group',
    groupName: 'main',
    snapshots: { secrets: items.map((filterResult) => ({ filterResult })) },
  });

  it('takes the newest snapshots of a batched array of Group contexts', () => {
    const contexts = parseBindingContexts([group('secrets', [1]), group('tick', [1, 2])]);
    expect(currentSnapshotItems(contexts)).toEqual({ secrets: [{ filterResult: 1 }, { filterResult: 2 }] });
    expect(triggersOf(contexts)).toEqual([
      { binding: 'secrets', type: 'Group' },
      { binding: 'tick', type: 'Group' },
    ]);
  });

  it('reads before/after-Helm contexts, which have no type', () => {
    const contexts = parseBindingContexts([{ binding: 'beforeHelm', snapshots: { secrets: [] } }]);
    expect(currentSnapshotItems(contexts)).toEqual({ secrets: [] });
    expect(triggersOf(contexts)).toEqual([{ binding: 'beforeHelm' }]);
  });

  it('uses Synchronization objects when a context carries no snapshots', () => {
    const contexts = parseBindingContexts([
      { binding: 'secrets', type: 'Synchronization', objects: [{ filterResult: 'x' }] },
      { binding: 'secrets', type: 'Event', watchEvent: 'Added', filterResult: 'y' },
    ]);
    expect(currentSnapshotItems(contexts)).toEqual({ secrets: [{ filterResult: 'x' }] });
    expect(triggersOf(contexts)[1]).toEqual({ binding: 'secrets', type: 'Event', watchEvent: 'Added' });
  });

  it.each([
    [{ binding: 'x' }, /JSON array/],
    [[{ type: 'Group' }], /no "binding"/],
    [[{ binding: 'x', snapshots: [] }], /"snapshots" must be an object/],
    [[{ binding: 'x', snapshots: { a: {} } }], /snapshot a is not an array/],
    [[{ binding: 'x', objects: {} }], /"objects" must be an array/],
  ])('rejects malformed input %j', (document, message) => {
    expect(() => parseBindingContexts(document)).toThrow(InputError);
    expect(() => parseBindingContexts(document)).toThrow(message);
  });
});
