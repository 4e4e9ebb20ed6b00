import type { KubeObject } from '../../lib/hook-sdk';
import type { KubeOperation } from '../../lib/hook-sdk/types';

/** IstioFederation objects and a minimal API server: status merge patches applied as the apiserver would. */
export function istioFederation(
  name: string,
  spec: { trustDomain: string; metadataEndpoint: string; ca?: string; insecureSkipVerify?: boolean },
  generation = 1,
): KubeObject {
  const metadata = {
    ...(spec.ca !== undefined ? { ca: spec.ca } : {}),
    ...(spec.insecureSkipVerify ? { insecureSkipVerify: true } : {}),
  };
  return {
    apiVersion: 'deckhouse.io/v1alpha1',
    kind: 'IstioFederation',
    metadata: { name, generation, uid: `uid-${name}` },
    spec: { trustDomain: spec.trustDomain, metadataEndpoint: spec.metadataEndpoint, metadata },
  };
}

export function applyMergePatch(target: unknown, patch: unknown): unknown {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) return patch;
  const result: Record<string, unknown> =
    typeof target === 'object' && target !== null && !Array.isArray(target)
      ? { ...(target as Record<string, unknown>) }
      : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = applyMergePatch(result[key], value);
  }
  return result;
}

/** Applies the hook's status patches; anything else the fetch hook must never emit. */
export function applyStatusPatches(
  cluster: readonly KubeObject[],
  operations: readonly KubeOperation[],
  kind = 'IstioFederation',
): KubeObject[] {
  let next = [...cluster];
  for (const op of operations) {
    // Events on condition transitions (status/events.ts) create objects elsewhere: checked by their own tests.
    if (op.operation === 'CreateIfNotExists' && op.object.kind === 'Event') continue;
    if (op.operation !== 'MergePatch' || op.subresource !== 'status' || op.kind !== kind) {
      throw new Error(`unexpected operation ${JSON.stringify(op)}`);
    }
    // A federation deleted during a fetch must not fail the task (and retry forever).
    if (op.ignoreMissingObject !== true) throw new Error('a status patch must set ignoreMissingObject');
    const patch = op.mergePatch as { status?: unknown };
    if (Object.keys(patch).join() !== 'status') throw new Error('a status patch may only touch .status');
    next = next.map((o) =>
      o.kind === op.kind && o.metadata.name === op.name ? (applyMergePatch(o, patch) as KubeObject) : o,
    );
  }
  return next;
}

export function statusOf(cluster: readonly KubeObject[], name: string): Record<string, unknown> {
  return (cluster.find((o) => o.metadata.name === name)?.status ?? {}) as Record<string, unknown>;
}
