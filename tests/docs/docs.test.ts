// docs/ is the user documentation: its schema reference must match the schemas, and every
// example in it must be accepted by the schema it claims to follow.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { parseAllDocuments } from 'yaml';
import { moduleValidators } from '../../lib/hook-sdk/testing/values-schema';
import { generatedDocs, loadCrd } from '../../tools/docs/generate';
import { MODULE_ROOT } from '../support/module';

const DOCS = join(MODULE_ROOT, 'docs');

interface Example {
  file: string;
  object: { apiVersion?: string; kind?: string; spec?: { settings?: unknown } } & Record<string, unknown>;
}

function yamlExamples(): Example[] {
  const examples: Example[] = [];
  for (const file of readdirSync(DOCS).filter((f) => f.endsWith('.md'))) {
    const text = readFileSync(join(DOCS, file), 'utf8');
    for (const match of text.matchAll(/```yaml\n([\s\S]*?)```/g)) {
      for (const document of parseAllDocuments(match[1]!)) {
        expect(document.errors).toEqual([]);
        const object: unknown = document.toJS();
        if (object && typeof object === 'object')
          examples.push({ file, object: object as Example['object'] });
      }
    }
  }
  return examples;
}

function crdValidator(file: string) {
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats(ajv);
  ajv.addFormat('int64', true);
  const validate = ajv.compile(loadCrd(MODULE_ROOT, file).spec.versions[0]!.schema.openAPIV3Schema);
  return (object: unknown) =>
    validate(object) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);
}

describe('user documentation', () => {
  test('the schema reference in docs/ is generated from the current schemas (npm run docs)', () => {
    for (const [path, content] of generatedDocs(MODULE_ROOT)) {
      expect({ path, content: readFileSync(path, 'utf8') }).toEqual({ path, content });
    }
  });

  test('the documentation has the Deckhouse layout', () => {
    expect(readdirSync(DOCS).sort()).toEqual(['CONFIGURATION.md', 'CR.md', 'README.md', 'USAGE.md']);
  });

  test('every ModuleConfig example is accepted by openapi/config-values.yaml', () => {
    const settings = moduleValidators(MODULE_ROOT).configValues;
    const configs = yamlExamples().filter((e) => e.object.kind === 'ModuleConfig');
    expect(configs.length).toBeGreaterThanOrEqual(3);
    for (const { file, object } of configs) {
      expect(object).toMatchObject({ apiVersion: 'deckhouse.io/v1alpha1', metadata: { name: 'istio' } });
      expect({ file, problems: settings.errors(object.spec?.settings) }).toEqual({ file, problems: [] });
    }
  });

  test('every IstioFederation example is accepted by its CRD', () => {
    const errors = crdValidator('istiofederation.yaml');
    const federations = yamlExamples().filter((e) => e.object.kind === 'IstioFederation');
    expect(federations.length).toBeGreaterThanOrEqual(2);
    for (const { file, object } of federations) {
      expect(object.apiVersion).toBe('deckhouse.io/v1alpha1');
      expect({ file, problems: errors(object) }).toEqual({ file, problems: [] });
    }
  });

  test('every IstioMulticluster example is accepted by its CRD', () => {
    const errors = crdValidator('istiomulticluster.yaml');
    const multiclusters = yamlExamples().filter((e) => e.object.kind === 'IstioMulticluster');
    expect(multiclusters.length).toBeGreaterThanOrEqual(1);
    for (const { file, object } of multiclusters) {
      expect(object.apiVersion).toBe('deckhouse.io/v1alpha1');
      expect({ file, problems: errors(object) }).toEqual({ file, problems: [] });
    }
  });

  test('the checks above catch a bad example', () => {
    const settings = moduleValidators(MODULE_ROOT).configValues;
    expect(settings.errors({ federation: { enabled: 'yes' } })).not.toEqual([]);
    expect(crdValidator('istiofederation.yaml')({ spec: { trustDomain: 'b.local' } })).not.toEqual([]);
    expect(crdValidator('istiomulticluster.yaml')({ spec: { enableIngressGateway: true } })).not.toEqual([]);
  });
});
