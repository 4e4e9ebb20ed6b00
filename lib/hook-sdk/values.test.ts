import fc from 'fast-check';
import { applyValuesPatchStrictly } from './testing/harness';
import { PatchableValues } from './values';

const initial = () => ({
  global: { discovery: { clusterDomain: 'cluster-a.local' } },
  istio: { internal: { a: 1 } },
});

describe('PatchableValues', () => {
  it('emits add for a new path, creating missing parents in one operation', () => {
    const values = new PatchableValues(initial(), 'istio');
    values.set('istio.internal.federation.publicServices', [{ hostname: 'x' }]);
    expect(values.patch()).toEqual([
      { op: 'add', path: '/istio/internal/federation', value: { publicServices: [{ hostname: 'x' }] } },
    ]);
    expect(values.get('istio.internal.federation.publicServices')).toEqual([{ hostname: 'x' }]);
  });

  it('emits nothing when the value is unchanged, regardless of key order', () => {
    const values = new PatchableValues({ istio: { internal: { kp: { pub: 'p', priv: 'q' } } } }, 'istio');
    values.set('istio.internal.kp', { priv: 'q', pub: 'p' });
    expect(values.patch()).toEqual([]);
  });

  it('replaces an existing value with add, never replace', () => {
    const values = new PatchableValues(initial(), 'istio');
    values.set('istio.internal.a', 2);
    expect(values.patch()).toEqual([{ op: 'add', path: '/istio/internal/a', value: 2 }]);
  });

  it('treats setting undefined as removing the key', () => {
    const values = new PatchableValues(initial(), 'istio');
    values.set('istio.internal.a', undefined);
    values.set('istio.internal.missing', undefined);
    expect(values.patch()).toEqual([{ op: 'remove', path: '/istio/internal/a' }]);
  });

  it('removes only what exists', () => {
    const values = new PatchableValues(initial(), 'istio');
    values.remove('istio.internal.missing');
    values.remove('istio.internal.a');
    values.remove('istio.internal.a');
    expect(values.patch()).toEqual([{ op: 'remove', path: '/istio/internal/a' }]);
  });

  it('escapes JSON-pointer characters in keys', () => {
    const values = new PatchableValues({ istio: {} }, 'istio');
    values.set('istio.a/b~c', true);
    expect(values.patch()).toEqual([{ op: 'add', path: '/istio/a~1b~0c', value: true }]);
  });

  it('refuses writes outside the module values and through scalars', () => {
    const values = new PatchableValues(initial(), 'istio');
    expect(() => values.set('global.discovery.clusterDomain', 'x')).toThrow(/only write below istio/);
    expect(() => values.set('istio', {})).toThrow(/only write below istio/);
    expect(() => values.set('istio.internal.a.b', 1)).toThrow(/not an object/);
  });

  it('does not let callers mutate its state through returned values', () => {
    const values = new PatchableValues({ istio: { list: [1] } }, 'istio');
    values.get<number[]>('istio.list')!.push(2);
    expect(values.get('istio.list')).toEqual([1]);
  });

  it('produces a patch that, applied strictly, yields exactly its own view (property)', () => {
    const key = fc.constantFrom('a', 'b', 'c');
    const path = fc.array(key, { minLength: 1, maxLength: 3 }).map((p) => ['istio', ...p].join('.'));
    const leaf = fc.oneof(
      fc.integer(),
      fc.string(),
      fc.constant(null),
      fc.array(fc.integer(), { maxLength: 2 }),
    );
    const op = fc.oneof(
      fc.record({ kind: fc.constant('set' as const), path, value: leaf }),
      fc.record({ kind: fc.constant('remove' as const), path }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 12 }), (ops) => {
        const start = { istio: { a: { b: 1 } } };
        const values = new PatchableValues(start, 'istio');
        for (const o of ops) {
          try {
            if (o.kind === 'set') values.set(o.path, o.value);
            else values.remove(o.path);
          } catch (error) {
            // Writing through a scalar is refused; anything else is a bug.
            expect((error as Error).message).toMatch(/not an object/);
          }
        }
        const applied = applyValuesPatchStrictly(start, values.patch());
        expect(applied).toEqual({ istio: values.get('istio') });
      }),
    );
  });
});
