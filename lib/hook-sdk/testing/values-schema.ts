import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv, { type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { parse } from 'yaml';

type Schema = Record<string, unknown>;

const EXTENSION_KEYWORDS = [
  'x-extend',
  'x-examples',
  'x-required-for-helm',
  'x-description',
  'x-doc-default',
];

/**
 * addon-operator closes every object schema whose `additionalProperties` is undefined
 * (go-openapi AdditionalPropertiesTransformer). Mirrors its recursion: properties whose
 * additionalProperties is unset, and items; plus local definitions, which the operator
 * inlines before transforming.
 */
function closeObjects(schema: Schema): Schema {
  // A $ref is closed where it points to (the definition), as the operator inlines it first.
  if (schema.$ref) return schema;
  if (schema.additionalProperties === undefined) schema.additionalProperties = false;
  const properties = (schema.properties ?? {}) as Record<string, Schema>;
  for (const property of Object.values(properties)) {
    if (property.additionalProperties === undefined) closeObjects(property);
  }
  if (schema.items && typeof schema.items === 'object') closeObjects(schema.items as Schema);
  for (const definition of Object.values((schema.definitions ?? {}) as Record<string, Schema>)) {
    if (definition.additionalProperties === undefined) closeObjects(definition);
  }
  return schema;
}

/** x-extend: the values schema extends the config-values schema (properties, definitions, required). */
function extend(values: Schema, config: Schema): Schema {
  return {
    ...values,
    properties: { ...(config.properties as object), ...(values.properties as object) },
    definitions: { ...(config.definitions as object), ...(values.definitions as object) },
    required: [
      ...new Set([...((config.required as string[]) ?? []), ...((values.required as string[]) ?? [])]),
    ],
  };
}

export interface ModuleSchemas {
  configValues: Schema;
  values: Schema;
}

export function loadModuleSchemas(moduleRoot: string): ModuleSchemas {
  const read = (file: string) => parse(readFileSync(join(moduleRoot, 'openapi', file), 'utf8')) as Schema;
  const configValues = read('config-values.yaml');
  const values = extend(read('values.yaml'), structuredClone(configValues));
  return { configValues: closeObjects(configValues), values: closeObjects(values) };
}

function newAjv(useDefaults: boolean): Ajv {
  const ajv = new Ajv({
    allErrors: true,
    useDefaults,
    strict: true,
    strictTypes: false,
    allowUnionTypes: true,
  });
  addFormats(ajv);
  for (const keyword of EXTENSION_KEYWORDS) ajv.addKeyword(keyword);
  return ajv;
}

export interface SchemaValidator {
  /** Error messages; empty when valid. Does not modify `data`. */
  errors(data: unknown): string[];
  /** A copy of `data` with schema defaults applied, as addon-operator does. */
  withDefaults<T>(data: T): T;
}

function validatorFor(schema: Schema): SchemaValidator {
  const check: ValidateFunction = newAjv(false).compile(structuredClone(schema));
  const fill: ValidateFunction = newAjv(true).compile(structuredClone(schema));
  return {
    errors(data) {
      if (check(data)) return [];
      return (check.errors ?? []).map(
        (e) =>
          `${e.instancePath || '/'} ${e.message ?? 'is invalid'}${e.params ? ' ' + JSON.stringify(e.params) : ''}`,
      );
    },
    withDefaults(data) {
      const copy = structuredClone(data);
      fill(copy);
      return copy;
    },
  };
}

export function moduleValidators(moduleRoot: string): {
  configValues: SchemaValidator;
  values: SchemaValidator;
} {
  const schemas = loadModuleSchemas(moduleRoot);
  return { configValues: validatorFor(schemas.configValues), values: validatorFor(schemas.values) };
}
