import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { MODULE_ROOT } from './module';

type Schema = {
  type?: string;
  properties?: Record<string, Schema>;
  items?: Schema;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
};

function statusSchemaOf(file: string): Schema {
  const crd = parse(readFileSync(join(MODULE_ROOT, 'crds', file), 'utf8')) as {
    spec: { versions: { schema: { openAPIV3Schema: Schema } }[] };
  };
  return crd.spec.versions[0]!.schema.openAPIV3Schema.properties!.status!;
}
const statusSchema = statusSchemaOf('istiofederation.yaml');
/** IstioMulticluster's: `prunedStatusPaths(status, MULTICLUSTER_STATUS_SCHEMA)`. */
export const MULTICLUSTER_STATUS_SCHEMA = statusSchemaOf('istiomulticluster.yaml');

/**
 * Paths of an IstioFederation status that the API server would prune: fields the CRD's
 * structural schema does not declare (outside x-kubernetes-preserve-unknown-fields). A status
 * with such a field would be rewritten on every run, since the hook never reads it back.
 */
export function prunedStatusPaths(status: unknown, schema: Schema = statusSchema, path = 'status'): string[] {
  if (schema['x-kubernetes-preserve-unknown-fields']) return [];
  if (Array.isArray(status))
    return status.flatMap((item, i) =>
      schema.items ? prunedStatusPaths(item, schema.items, `${path}[${i}]`) : [],
    );
  if (typeof status !== 'object' || status === null) return [];
  return Object.entries(status).flatMap(([key, value]) => {
    const declared = schema.properties?.[key];
    return declared ? prunedStatusPaths(value, declared, `${path}.${key}`) : [`${path}.${key}`];
  });
}
