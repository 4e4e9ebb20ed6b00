// Istio's CustomResourceDefinitions (istio/api v1.30.3, generated bundle, Apache-2.0) are
// data shared with the project in ../shared/crds, beside every checkout (CI included): the
// one place tests and the end-to-end clusters take them from.
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';

export const ISTIO_CRDS_PATH =
  process.env.ISTIO_CRDS ?? resolve(__dirname, '..', '..', '..', 'shared', 'crds', 'istio-1.30.3-crds.yaml');

export function istioCrdsYaml(): string {
  if (!existsSync(ISTIO_CRDS_PATH)) {
    throw new Error(
      `Istio CRDs not found at ${ISTIO_CRDS_PATH} (expected ../shared beside the checkout, or set ISTIO_CRDS)`,
    );
  }
  return readFileSync(ISTIO_CRDS_PATH, 'utf8');
}

interface Crd {
  kind: string;
  spec: {
    group: string;
    names: { kind: string };
    versions: { name: string; served: boolean; schema?: { openAPIV3Schema?: object } }[];
  };
}

/** The served `version` openAPIV3Schema of each kind, keyed `<group>/<version>/<Kind>`. */
export function istioCrdSchemas(kinds: readonly string[], version = 'v1'): Record<string, object> {
  const schemas: Record<string, object> = {};
  for (const document of parseAllDocuments(istioCrdsYaml())) {
    const crd = document.toJS() as Crd | null;
    if (crd?.kind !== 'CustomResourceDefinition' || !kinds.includes(crd.spec.names.kind)) continue;
    const served = crd.spec.versions.find((v) => v.name === version && v.served);
    if (!served?.schema?.openAPIV3Schema)
      throw new Error(`${crd.spec.names.kind}: no served ${version} schema`);
    schemas[`${crd.spec.group}/${version}/${crd.spec.names.kind}`] = served.schema.openAPIV3Schema;
  }
  for (const kind of kinds) {
    if (!Object.keys(schemas).some((key) => key.endsWith(`/${kind}`)))
      throw new Error(`${kind} not in ${ISTIO_CRDS_PATH}`);
  }
  return schemas;
}
