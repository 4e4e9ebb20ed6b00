import type { KubernetesBinding } from '../hook';
import type { KubeObject, LabelSelector } from '../types';

type Labels = Record<string, string>;

function labelsOf(object: KubeObject): Labels {
  return (object.metadata.labels ?? {}) as Labels;
}

export function matchesLabelSelector(labels: Labels, selector: LabelSelector | undefined): boolean {
  if (!selector) return true;
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    if (labels[key] !== value) return false;
  }
  return (selector.matchExpressions ?? []).every(({ key, operator, values = [] }) => {
    const has = Object.hasOwn(labels, key);
    switch (operator) {
      case 'Exists':
        return has;
      case 'DoesNotExist':
        return !has;
      case 'In':
        return has && values.includes(labels[key]!);
      case 'NotIn':
        return !has || !values.includes(labels[key]!);
    }
  });
}

function fieldValue(object: KubeObject, field: string): unknown {
  return field
    .split('.')
    .reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], object);
}

/** The objects a binding would watch, in the operator's snapshot order (namespace, then name). */
export function selectObjects(
  binding: KubernetesBinding<unknown>,
  cluster: readonly KubeObject[],
): KubeObject[] {
  const namespaces = new Map(
    cluster
      .filter((o) => o.apiVersion === 'v1' && o.kind === 'Namespace')
      .map((ns) => [ns.metadata.name, labelsOf(ns)]),
  );
  return cluster
    .filter((o) => o.apiVersion === binding.apiVersion && o.kind === binding.kind)
    .filter((o) => !binding.nameSelector || binding.nameSelector.matchNames.includes(o.metadata.name))
    .filter((o) => {
      const ns = binding.namespace;
      if (!ns) return true;
      const name = o.metadata.namespace ?? '';
      if (ns.nameSelector && !ns.nameSelector.matchNames.includes(name)) return false;
      return !ns.labelSelector || matchesLabelSelector(namespaces.get(name) ?? {}, ns.labelSelector);
    })
    .filter((o) => matchesLabelSelector(labelsOf(o), binding.labelSelector))
    .filter((o) =>
      (binding.fieldSelector?.matchExpressions ?? []).every(({ field, operator, value }) =>
        operator === 'Equals' ? fieldValue(o, field) === value : fieldValue(o, field) !== value,
      ),
    )
    .sort(
      (a, b) =>
        (a.metadata.namespace ?? '').localeCompare(b.metadata.namespace ?? '') ||
        a.metadata.name.localeCompare(b.metadata.name),
    );
}
