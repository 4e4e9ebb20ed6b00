// Renders an OpenAPI schema (module settings, a CRD version) as a Markdown reference: one
// nested bullet per field with its type, default, limits and description. The docs embed
// this output between markers, so the reference cannot drift from the schemas
// (tests/docs/docs.test.ts regenerates it and compares).

export interface Schema {
  type?: string;
  description?: string;
  default?: unknown;
  enum?: unknown[];
  pattern?: string;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  format?: string;
  required?: string[];
  properties?: Record<string, Schema>;
  items?: Schema;
  additionalProperties?: Schema | boolean;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
}

function code(value: unknown): string {
  return `\`${typeof value === 'string' ? value : JSON.stringify(value)}\``;
}

function oneLine(text: string): string {
  return text.trim().replace(/\s*\n\s*/g, ' ');
}

function typeOf(schema: Schema): string {
  if (schema.type === 'array') return `array of ${schema.items ? typeOf(schema.items) : 'any'}`;
  if (schema.type === 'object' && typeof schema.additionalProperties === 'object' && !schema.properties) {
    return `map of ${typeOf(schema.additionalProperties)}`;
  }
  return schema.type ?? 'any';
}

function facts(schema: Schema, required: boolean): string[] {
  const out = [typeOf(schema)];
  if (required) out.push('required');
  if (schema.format) out.push(`format ${schema.format}`);
  if (schema.enum) out.push(`one of ${schema.enum.map(code).join(', ')}`);
  if (schema.default !== undefined && !isEmptyObject(schema.default))
    out.push(`default ${code(schema.default)}`);
  if (schema.minimum !== undefined || schema.maximum !== undefined) {
    out.push(`${schema.minimum ?? '…'}–${schema.maximum ?? '…'}`);
  }
  if (schema.minLength !== undefined) out.push(`at least ${plural(schema.minLength, 'character')}`);
  if (schema.maxLength !== undefined) out.push(`at most ${plural(schema.maxLength, 'character')}`);
  if (schema.pattern) out.push(`pattern ${code(schema.pattern)}`);
  return out;
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

function isEmptyObject(value: unknown): boolean {
  return typeof value === 'object' && value !== null && Object.keys(value).length === 0;
}

/** The fields of `schema` (an object schema) as nested Markdown bullets. */
export function fieldsMarkdown(schema: Schema, depth = 0): string[] {
  const lines: string[] = [];
  const indent = '  '.repeat(depth);
  const required = new Set(schema.required ?? []);
  for (const [name, field] of Object.entries(schema.properties ?? {})) {
    const description = field.description ? ` — ${oneLine(field.description)}` : '';
    lines.push(`${indent}- **\`${name}\`** (${facts(field, required.has(name)).join('; ')})${description}`);
    const nested = field.type === 'array' ? field.items : field;
    if (nested?.properties) lines.push(...fieldsMarkdown(nested, depth + 1));
  }
  return lines;
}

const BEGIN = (name: string) => `<!-- BEGIN GENERATED ${name}: npm run docs -->`;
const END = (name: string) => `<!-- END GENERATED ${name} -->`;

/** Replaces the block between the markers named `name` with `body`; throws if they are missing. */
export function replaceGenerated(document: string, name: string, body: string): string {
  const begin = document.indexOf(BEGIN(name));
  const end = document.indexOf(END(name));
  if (begin < 0 || end < begin) throw new Error(`markers for ${name} not found`);
  return `${document.slice(0, begin)}${BEGIN(name)}\n${body.trimEnd()}\n${document.slice(end)}`;
}
