// The schema reference blocks of docs/, generated from openapi/config-values.yaml and
// crds/*.yaml (`npm run docs` writes them; tests/docs/docs.test.ts fails when they are stale).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { fieldsMarkdown, replaceGenerated, type Schema } from './schema-markdown';

interface Crd {
  spec: {
    group: string;
    scope: string;
    names: { kind: string; plural: string };
    versions: { name: string; schema: { openAPIV3Schema: Schema & { example?: unknown } } }[];
  };
}

/** The CRDs documented in docs/CR.md, in the order they appear there. */
export const DOCUMENTED_CRDS = ['istiofederation.yaml', 'istiomulticluster.yaml'];

function yamlBlock(value: unknown): string {
  return ['```yaml', stringify(value, { lineWidth: 0 }).trimEnd(), '```'].join('\n');
}

function configurationReference(root: string): string {
  const schema = parse(readFileSync(join(root, 'openapi', 'config-values.yaml'), 'utf8')) as Schema & {
    'x-examples'?: unknown[];
  };
  const examples = (schema['x-examples'] ?? []).map((settings, index) =>
    [
      `Example ${index + 1}:`,
      '',
      yamlBlock({
        apiVersion: 'deckhouse.io/v1alpha1',
        kind: 'ModuleConfig',
        metadata: { name: 'istio' },
        spec: { version: 1, enabled: true, settings },
      }),
    ].join('\n'),
  );
  return [...fieldsMarkdown(schema), '', ...examples.flatMap((e) => [e, ''])].join('\n');
}

export function loadCrd(root: string, file: string): Crd {
  return parse(readFileSync(join(root, 'crds', file), 'utf8')) as Crd;
}

function crdReference(root: string): string {
  const sections: string[] = [];
  for (const file of DOCUMENTED_CRDS) {
    const crd = loadCrd(root, file);
    for (const version of crd.spec.versions) {
      const schema = version.schema.openAPIV3Schema;
      sections.push(
        `## ${crd.spec.names.kind}`,
        '',
        `\`${crd.spec.group}/${version.name}\`, ${crd.spec.scope.toLowerCase()}-scoped` +
          ` (\`kubectl get ${crd.spec.names.plural}\`).` +
          (schema.description ? ` ${schema.description.trim().replace(/\s*\n\s*/g, ' ')}` : ''),
        '',
        ...fieldsMarkdown(schema),
        '',
        ...(schema.example === undefined ? [] : ['Example:', '', yamlBlock(schema.example), '']),
      );
    }
  }
  return sections.join('\n');
}

/** docs/ file -> its content with every generated block up to date. */
export function generatedDocs(root: string): Map<string, string> {
  const out = new Map<string, string>();
  const update = (file: string, name: string, body: string) => {
    const path = join(root, 'docs', file);
    out.set(path, replaceGenerated(out.get(path) ?? readFileSync(path, 'utf8'), name, body));
  };
  update('CONFIGURATION.md', 'settings', configurationReference(root));
  update('CR.md', 'resources', crdReference(root));
  return out;
}
