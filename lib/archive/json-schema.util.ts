import type { ColumnMetadata, EntityCategory, ExportFieldPlan, PlannedCategory } from '../metadata/export-category.interface';

type JsonSchema = Record<string, unknown>;

const INTEGER = ['int', 'int2', 'int4', 'integer', 'smallint', 'mediumint', 'tinyint', 'smallserial', 'serial'];
const BIGINT = ['bigint', 'int8', 'int64', 'bigserial', 'unsigned big int'];
const NUMBER = ['float', 'float4', 'float8', 'double', 'double precision', 'real'];
const DECIMAL = ['decimal', 'numeric', 'dec', 'money'];
const BOOLEAN = ['boolean', 'bool'];
const DATETIME = ['datetime', 'datetime2', 'timestamp', 'timestamptz', 'timestamp without time zone', 'timestamp with time zone', 'smalldatetime', 'datetimeoffset'];
const DATE = ['date'];
const BINARY = ['blob', 'bytea', 'binary', 'varbinary', 'longblob', 'mediumblob', 'tinyblob', 'image'];
const JSON_TYPES = ['json', 'jsonb', 'simple-json'];

/**
 * Schema of a JSON column, from the property's TypeScript type (`design:type`): `tags: string[]`
 * is an array. TypeScript emits `Object` for an interface, a record, `unknown`, `any` and (with
 * strictNullChecks) any union with `null`, so that promises nothing: any JSON value (`{}`).
 */
function jsonValueSchema(column: ColumnMetadata): JsonSchema {
  const target = column.target;
  const designType: unknown =
    typeof target === 'function' ? Reflect.getMetadata('design:type', target.prototype, column.propertyName) : undefined;
  if (designType === Array) return { type: 'array' };
  if (designType === String) return { type: 'string' };
  if (designType === Number) return { type: 'number' };
  if (designType === Boolean) return { type: 'boolean' };
  return {};
}

/** JSON Schema of one column's archive value (before nullability). */
function valueSchema(column: ColumnMetadata): JsonSchema {
  // A `type: Date` column (the constructor) holds a timestamp, not a calendar date.
  if (column.type === Date) return { type: 'string', format: 'date-time' };
  const type = typeof column.type === 'function' ? column.type.name.toLowerCase() : String(column.type).toLowerCase();
  if (column.enum && column.enum.length > 0) return { enum: [...column.enum] };
  // TypeORM stores a simple-array as comma-separated text and reads it back as strings.
  if (type === 'simple-array') return { type: 'array', items: { type: 'string' } };
  if (column.isArray) return { type: 'array' };
  if (type === 'uuid') return { type: 'string', format: 'uuid' };
  if (BIGINT.includes(type) || DECIMAL.includes(type)) return { type: 'string', pattern: '^-?[0-9]+(\\.[0-9]+)?$' };
  if (INTEGER.includes(type)) return { type: 'integer' };
  if (NUMBER.includes(type) || type === 'number') return { type: 'number' };
  if (BOOLEAN.includes(type)) return { type: 'boolean' };
  if (DATETIME.includes(type)) return { type: 'string', format: 'date-time' };
  if (DATE.includes(type)) return { type: 'string', format: 'date' };
  if (BINARY.includes(type)) return { type: 'string', contentEncoding: 'base64' };
  if (JSON_TYPES.includes(type)) return jsonValueSchema(column);
  return { type: 'string' };
}

/** `schema` that also allows `null`. */
function orNull(schema: JsonSchema): JsonSchema {
  if (typeof schema.type === 'string') return { ...schema, type: [schema.type, 'null'] };
  if (schema.enum) return { ...schema, enum: [...(schema.enum as unknown[]), null] };
  return schema;
}

const SIZE: JsonSchema = { type: ['integer', 'null'], minimum: 0 };
const TEXT_OR_NULL: JsonSchema = { type: ['string', 'null'] };

/** An `@ExportFile` field: null, a file in the archive, a URL, a missing file, or (JSON formats) a file not included. */
const FILE_FIELD: JsonSchema = {
  description: 'A file: in the archive (path), referenced by URL, missing (see the manifest), or not included in this format.',
  anyOf: [
    { type: 'null' },
    { type: 'object', properties: { path: { type: 'string' }, size: SIZE, contentType: TEXT_OR_NULL }, required: ['path', 'size', 'contentType'], additionalProperties: false },
    { type: 'object', properties: { url: { type: 'string' }, size: SIZE, expiresAt: TEXT_OR_NULL }, required: ['url', 'size', 'expiresAt'], additionalProperties: false },
    { type: 'object', properties: { missing: { type: 'string' } }, required: ['missing'], additionalProperties: false },
    {
      type: 'object',
      properties: { name: { type: 'string' }, size: SIZE, contentType: TEXT_OR_NULL, notIncluded: { type: 'string' } },
      required: ['name', 'notIncluded'],
      additionalProperties: false,
    },
  ],
};

function fieldSchema(field: ExportFieldPlan, category?: EntityCategory): JsonSchema {
  if (category?.files?.some((f) => f.key === field.key)) return FILE_FIELD;
  // A mask function replaces the value with one of the field's own type, or blanks it (null).
  if (field.mask?.mode === 'fn') return { description: 'Masked by a custom function.', ...orNull(valueSchema(field.column)) };
  const base: JsonSchema =
    field.mask?.mode === 'last4'
      ? { type: 'string', description: 'Masked: "…" and the last 4 characters.' }
      : valueSchema(field.column);
  const withComment: JsonSchema = field.column.comment ? { description: field.column.comment, ...base } : base;
  return field.column.isNullable ? orNull(withComment) : withComment;
}

/**
 * JSON Schema (2020-12) of one category's rows, from the entity's column metadata. Redacted
 * fields are absent.
 * @internal
 */
export function buildCategorySchema(category: EntityCategory): JsonSchema {
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: `schemas/${category.name}.schema.json`,
    title: category.name,
    ...(category.description ? { description: category.description } : {}),
    type: 'object',
    properties: Object.fromEntries(category.fields.map((f) => [f.key, fieldSchema(f, category)])),
    required: category.fields.map((f) => f.key),
    additionalProperties: false,
  };
}

/**
 * JSON Schema (2020-12) of any category's rows: an entity's from its columns; an exporter's as
 * it declared it, or as `learned` from the rows written (marked `"x-inferred": true`).
 * `undefined` for an exporter without a declared schema, before its rows are written.
 * @internal
 */
export function buildSchema(category: PlannedCategory, learned?: JsonSchema): JsonSchema | undefined {
  if (category.kind === 'entity') return buildCategorySchema(category);
  const body = category.schema ?? learned;
  if (!body) return undefined;
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: `schemas/${category.name}.schema.json`,
    title: category.name,
    ...(category.description ? { description: category.description } : {}),
    ...body,
  };
}
