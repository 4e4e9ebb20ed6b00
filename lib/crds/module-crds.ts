/**
 * The module's own CustomResourceDefinitions, inlined into the hook executable at build time
 * (hooks may run chrooted, with nothing but the executable): crds/*.yaml is their one source.
 */
import { parseAllDocuments } from 'yaml';
import istioFederation from '../../crds/istiofederation.yaml' with { type: 'text' };
import istioMulticluster from '../../crds/istiomulticluster.yaml' with { type: 'text' };
import type { KubeObject } from '../hook-sdk/types';

const SOURCES: Record<string, string> = {
  'crds/istiofederation.yaml': istioFederation,
  'crds/istiomulticluster.yaml': istioMulticluster,
};

/** The CRDs in `text`; anything that is not a v1 CRD with a name is a build defect, so it throws. */
export function crdsFromYaml(text: string, source = 'CRD file'): KubeObject[] {
  return parseAllDocuments(text).flatMap((document) => {
    if (document.errors.length > 0) throw new Error(`${source}: ${document.errors[0]!.message}`);
    const object = document.toJS() as Partial<KubeObject> | null;
    if (object === null) return [];
    if (
      object.apiVersion !== 'apiextensions.k8s.io/v1' ||
      object.kind !== 'CustomResourceDefinition' ||
      typeof object.metadata?.name !== 'string'
    ) {
      throw new Error(`${source}: not an apiextensions.k8s.io/v1 CustomResourceDefinition with a name`);
    }
    return [object as KubeObject];
  });
}

export function moduleCrds(): KubeObject[] {
  return Object.entries(SOURCES).flatMap(([source, text]) => crdsFromYaml(text, source));
}
