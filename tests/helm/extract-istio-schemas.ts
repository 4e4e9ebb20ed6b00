// Regenerates istio-1.30.3-schemas.json: the openAPIV3Schema of the served v1 version of
// the Istio kinds the chart renders, taken from the Istio API project's generated CRD
// bundle (istio/api v1.30.3, kubernetes/customresourcedefinitions.gen.yaml, Apache-2.0).
//   npx bun tests/helm/extract-istio-schemas.ts /work/shared/crds/istio-1.30.3-crds.yaml
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';

const KINDS = ['ServiceEntry', 'DestinationRule', 'Gateway'];
const VERSION = 'v1';

interface CrdVersion {
  name: string;
  served: boolean;
  schema?: { openAPIV3Schema?: unknown };
}
interface Crd {
  kind: string;
  spec: { group: string; names: { kind: string }; versions: CrdVersion[] };
}

const bundle = process.argv[2];
if (!bundle) throw new Error('usage: extract-istio-schemas.ts <istio CRD bundle>');
const schemas: Record<string, unknown> = {};
for (const document of parseAllDocuments(readFileSync(bundle, 'utf8'))) {
  const crd = document.toJS() as Crd | null;
  if (crd?.kind !== 'CustomResourceDefinition' || !KINDS.includes(crd.spec.names.kind)) continue;
  const version = crd.spec.versions.find((v) => v.name === VERSION && v.served);
  if (!version?.schema?.openAPIV3Schema)
    throw new Error(`${crd.spec.names.kind}: no served ${VERSION} schema`);
  schemas[`${crd.spec.group}/${VERSION}/${crd.spec.names.kind}`] = version.schema.openAPIV3Schema;
}
for (const kind of KINDS) {
  if (!Object.keys(schemas).some((key) => key.endsWith(`/${kind}`)))
    throw new Error(`${kind} not in ${bundle}`);
}
writeFileSync(join(__dirname, 'istio-1.30.3-schemas.json'), JSON.stringify(schemas, null, 1) + '\n');
