import type { ExportCategory, ExportFieldPlan } from '../registry/export-category.interface';

type LineKind = 'json' | 'text' | 'instant' | 'utc-local';

const JSON_TYPES = new Set<unknown>([
  String,
  'varchar',
  'character varying',
  'text',
  'citext',
  'uuid',
  Number,
  'int',
  'int4',
  'integer',
  'int2',
  'smallint',
  Boolean,
  'bool',
  'boolean',
]);
const BIGINT_TYPES = new Set<unknown>(['bigint', 'int8']);
const INSTANT_TYPES = new Set<unknown>(['timestamptz', 'timestamp with time zone']);
const LOCAL_TIMESTAMP_TYPES = new Set<unknown>([Date, 'timestamp', 'timestamp without time zone']);
const ENUM_TYPES = new Set<unknown>(['enum', 'simple-enum']);
const UTC_ZONES = new Set(['UTC', 'Etc/UTC', 'Etc/GMT', 'GMT', 'Etc/Universal', 'Universal', 'Etc/Zulu', 'Zulu', 'Etc/GMT0', 'GMT0']);

/**
 * `timestamp without time zone` is read by the `pg` driver as local time. Its JSON form equals
 * the stored value with a `Z` only when this process runs in UTC.
 */
function processIsUtc(): boolean {
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  return UTC_ZONES.has(zone);
}

function lineKind(field: ExportFieldPlan, utc: boolean): LineKind | undefined {
  const { column, mask } = field;
  if (mask || column.transformer || column.isArray) return undefined;
  const type = column.type as unknown;
  if (JSON_TYPES.has(type)) return 'json';
  if (BIGINT_TYPES.has(type)) return 'text';
  if (INSTANT_TYPES.has(type)) return 'instant';
  if (LOCAL_TIMESTAMP_TYPES.has(type)) return utc ? 'utc-local' : undefined;
  // TypeORM turns an enum value that looks like one of its numeric members into a number.
  if (ENUM_TYPES.has(type)) return (column.enum ?? []).every((v) => typeof v === 'string') ? 'json' : undefined;
  return undefined;
}

/**
 * A timestamp as `Date#toISOString` writes it, quoted, or `null` (±infinity, and dates past the
 * end of JavaScript's range). The reader's transaction runs in UTC (`SET LOCAL TimeZone`), so a
 * `timestamptz` is formatted in UTC. Years 1–9999 take one comparison and one `to_char`.
 */
function isoExpression(ts: string): string {
  // Astronomical year: PostgreSQL numbers 1 BC as -1, JavaScript as 0.
  const year = `(CASE WHEN extract(year FROM ${ts}) < 0 THEN extract(year FROM ${ts}) + 1 ELSE extract(year FROM ${ts}) END)::int`;
  const wideYear =
    `(CASE WHEN ${year} < 0 THEN '-' || lpad((-${year})::text, 6, '0') ` +
    `WHEN ${year} > 9999 THEN '+' || lpad(${year}::text, 6, '0') ELSE lpad(${year}::text, 4, '0') END)`;
  return (
    `CASE WHEN ${ts} >= '0001-01-01' AND ${ts} < '10000-01-01' THEN '"' || to_char(${ts}, 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') || '"' ` +
    `WHEN ${ts} IS NULL OR NOT isfinite(${ts}) OR ${ts} > '275760-09-13 00:00:00' THEN 'null' ` +
    `ELSE '"' || ${wideYear} || to_char(${ts}, '-MM-DD"T"HH24:MI:SS.MS"Z"') || '"' END`
  );
}

function valueExpression(kind: LineKind, column: string): string {
  switch (kind) {
    case 'json':
      return `COALESCE(to_json(${column})::text, 'null')`;
    case 'text':
      return `COALESCE(to_json(${column}::text)::text, 'null')`;
    case 'instant':
    case 'utc-local':
      return isoExpression(column);
  }
}

/**
 * PostgreSQL can write a category's NDJSON lines itself when every exported field is a plain
 * column whose JSON form it produces byte for byte as the library's serializer does. Node then
 * only joins and compresses the lines, which is what lets an export keep up with `COPY`.
 *
 * A field qualifies when it has no transformer, no mask and is not an array, and its type is a
 * string, uuid, integer, boolean, bigint (as a string), string enum or timestamp (`timestamp
 * without time zone` only when this process runs in UTC, since `pg` reads it as local time).
 * Any other field (json, numeric, float, date, time, bytea, …) sends the whole category through
 * the serializer instead. Equality with the serializer is tested value by value.
 *
 * Returns the statement that makes PostgreSQL write each row's line, in the order of `selectSql` (the
 * category's scoped, ordered SELECT that names the fields `f0…fn`), or `undefined` when a field
 * does not qualify. The key prefixes are literals, as `JSON.stringify` writes them; keys that
 * need escaping in JSON leave the category to the serializer.
 * @internal
 */
export function postgresLinesQuery(category: ExportCategory, selectSql: string): string | undefined {
  if (category.fields.length === 0) return undefined;
  const utc = processIsUtc();
  const parts: string[] = [];
  for (const [i, field] of category.fields.entries()) {
    const kind = lineKind(field, utc);
    const prefix = `${i === 0 ? '{' : ','}${JSON.stringify(field.key)}:`;
    if (!kind || prefix.includes('\\')) return undefined;
    parts.push(`'${prefix.replace(/'/g, "''")}'`, valueExpression(kind, `q."f${i}"`));
  }
  return `SELECT ${parts.join(' || ')} || '}' AS "line" FROM (${selectSql}) q`;
}

