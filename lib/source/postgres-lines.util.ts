import type { LinePart } from './record.serializer';
import type { EntityCategory, ExportFieldPlan } from '../metadata/export-category.interface';

/**
 * How PostgreSQL writes a value: `string` through `to_json` (escaped), `literal` as its text
 * (integers and booleans are already JSON), `quoted` as its text in quotes (uuid and bigint
 * texts never need escaping), timestamps as ISO-8601 in UTC.
 */
type LineKind = 'string' | 'literal' | 'quoted' | 'timestamp';

const KINDS = new Map<unknown, LineKind>([
  [String, 'string'],
  ['varchar', 'string'],
  ['character varying', 'string'],
  ['text', 'string'],
  ['citext', 'string'],
  [Number, 'literal'],
  ['int', 'literal'],
  ['int4', 'literal'],
  ['integer', 'literal'],
  ['int2', 'literal'],
  ['smallint', 'literal'],
  [Boolean, 'literal'],
  ['bool', 'literal'],
  ['boolean', 'literal'],
  ['uuid', 'quoted'],
  ['bigint', 'quoted'],
  ['int8', 'quoted'],
  ['timestamptz', 'timestamp'],
  ['timestamp with time zone', 'timestamp'],
]);
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
  if (LOCAL_TIMESTAMP_TYPES.has(type)) return utc ? 'timestamp' : undefined;
  // TypeORM turns an enum value that looks like one of its numeric members into a number.
  if (ENUM_TYPES.has(type)) return (column.enum ?? []).every((v) => typeof v === 'string') ? 'string' : undefined;
  return KINDS.get(type);
}

/**
 * A timestamp as `Date#toISOString` writes it, quoted, or `null` (±infinity, and dates past the
 * end of JavaScript's range); with `quoted` false, the bare text or NULL (a CSV cell), a signed
 * year neutralized with `neutralizeSigned`. The reader's transaction runs in UTC (`SET LOCAL
 * TimeZone`), so a `timestamptz` is formatted in UTC. Years 1–9999 take one comparison and one
 * `to_char`.
 */
function isoExpression(ts: string, quoted = true, neutralizeSigned = false): string {
  // Quoted for a JSON line ("…" or null); bare for a CSV cell (its text, or NULL: an empty cell).
  const [open, close, none] = quoted ? [`'"' || `, ` || '"'`, `'null'`] : ['', '', 'NULL'];
  // A year past 9999 or before 1 BC starts with its sign: a text a spreadsheet would run.
  const signed = neutralizeSigned ? `'''' || ` : '';
  // Astronomical year: PostgreSQL numbers 1 BC as -1, JavaScript as 0.
  const year = `(CASE WHEN extract(year FROM ${ts}) < 0 THEN extract(year FROM ${ts}) + 1 ELSE extract(year FROM ${ts}) END)::int`;
  const wideYear =
    `(CASE WHEN ${year} < 0 THEN ${signed}'-' || lpad((-${year})::text, 6, '0') ` +
    `WHEN ${year} > 9999 THEN ${signed}'+' || lpad(${year}::text, 6, '0') ELSE lpad(${year}::text, 4, '0') END)`;
  return (
    `CASE WHEN ${ts} >= '0001-01-01' AND ${ts} < '10000-01-01' THEN ${open}to_char(${ts}, 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')${close} ` +
    `WHEN ${ts} IS NULL OR NOT isfinite(${ts}) OR ${ts} > '275760-09-13 00:00:00' THEN ${none} ` +
    `ELSE ${open}${wideYear} || to_char(${ts}, '-MM-DD"T"HH24:MI:SS.MS"Z"')${close} END`
  );
}

function valueExpression(kind: LineKind, column: string): string {
  switch (kind) {
    case 'string':
      return `COALESCE(to_json(${column})::text, 'null')`;
    case 'literal':
      return `COALESCE(${column}::text, 'null')`;
    case 'quoted':
      return `COALESCE('"' || ${column}::text || '"', 'null')`;
    case 'timestamp':
      return isoExpression(column);
  }
}

/**
 * How PostgreSQL takes part in writing a category's lines. @internal
 * - `whole`: every field qualifies, and each row is one finished line (column `line`), which
 *   `COPY` can send as bytes.
 * - otherwise PostgreSQL writes the text between the fields that do not qualify (columns `s0`,
 *   `s1`, …), and the row carries those fields' raw values (`f<i>`) for the serializer; `parts`
 *   says how to join them.
 */
export type PostgresLinePlan =
  | { readonly whole: true; readonly sql: string }
  | { readonly whole: false; readonly sql: string; readonly parts: readonly LinePart[] };

/**
 * PostgreSQL can write a category's NDJSON lines itself when every exported field is a plain
 * column whose JSON form it produces byte for byte as the library's serializer does. Node then
 * only joins and compresses the lines, which is what lets an export keep up with `COPY`.
 *
 * A field qualifies when it has no transformer, no mask and is not an array, and its type is a
 * string, uuid, integer, boolean, bigint (as a string), string enum or timestamp (`timestamp
 * without time zone` only when this process runs in UTC, since `pg` reads it as local time).
 * When some fields do not (json, numeric, float, date, time, bytea, masks, transformers, …),
 * PostgreSQL still writes the rest of the line around them and only those fields go through the
 * serializer in Node. Equality with the serializer is tested value by value.
 *
 * Returns the statement over `selectSql` (the category's scoped, ordered SELECT that names the
 * fields `f0…fn`), in its order, or `undefined` when no field qualifies. The key prefixes are
 * literals, as `JSON.stringify` writes them; keys that need escaping in JSON leave the category to
 * the serializer.
 * @internal
 */
export function postgresLinePlan(category: EntityCategory, selectSql: string): PostgresLinePlan | undefined {
  if (category.fields.length === 0) return undefined;
  const utc = processIsUtc();
  const columns: string[] = [];
  const parts: LinePart[] = [];
  /** The SQL of the text being gathered, and whether any of it comes from a column. */
  let pieces: string[] = [];
  let text = '';
  let fromColumns = false;
  let segments = 0;
  const closeSegment = () => {
    if (fromColumns) {
      const name = `s${segments++}`;
      columns.push(`${pieces.join(' || ')} AS "${name}"`);
      parts.push({ segment: name });
    } else if (text) {
      parts.push({ text });
    }
    pieces = [];
    text = '';
    fromColumns = false;
  };
  let qualifying = 0;
  for (const [i, field] of category.fields.entries()) {
    const kind = lineKind(field, utc);
    const prefix = `${i === 0 ? '{' : ','}${JSON.stringify(field.key)}:`;
    if (prefix.includes('\\')) return undefined;
    pieces.push(`'${prefix.replace(/'/g, "''")}'`);
    text += prefix;
    if (kind) {
      pieces.push(valueExpression(kind, `q."f${i}"`));
      fromColumns = true;
      qualifying++;
    } else {
      closeSegment();
      columns.push(`q."f${i}" AS "f${i}"`);
      parts.push({ field: i });
    }
  }
  if (qualifying === 0) return undefined;
  pieces.push(`'}'`);
  text += '}';
  if (qualifying === category.fields.length) return { whole: true, sql: `SELECT ${pieces.join(' || ')} AS "line" FROM (${selectSql}) q` };
  closeSegment();
  return { whole: false, sql: `SELECT ${columns.join(', ')} FROM (${selectSql}) q`, parts };
}

/**
 * The text of a CSV cell as the CSV writer's `csvCell` writes it: a text whose first character is
 * `=`, `+`, `-`, `@`, tab or CR gets a leading `'` (with `neutralize`) unless it is the text of a
 * number; timestamps as ISO-8601 UTC; integers, booleans (`true`/`false`), uuids and bigints as
 * their text; NULL (an empty cell) for null and for an empty text.
 */
function csvCellExpression(kind: LineKind, column: string, neutralize: boolean): string {
  switch (kind) {
    case 'string':
      // An empty text is written as NULL is (COPY would quote it): the cells and bytes of the CSV
      // writer's own path.
      return neutralize
        ? `CASE WHEN left(${column}::text, 1) IN ('=', '+', '-', '@', chr(9), chr(13)) ` +
            `AND ${column}::text !~ '^[+-]?([0-9]+([.][0-9]*)?|[.][0-9]+)([eE][+-]?[0-9]+)?$' THEN '''' || ${column}::text ELSE NULLIF(${column}::text, '') END`
        : `NULLIF(${column}::text, '')`;
    case 'literal':
    case 'quoted':
      return `${column}::text`;
    case 'timestamp':
      return isoExpression(column, false, neutralize);
  }
}

/**
 * PostgreSQL can write a category's CSV records itself (through `COPY … (FORMAT csv)`) when every
 * exported field qualifies as for `postgresLinePlan` (plain strings, uuids, integers, booleans,
 * bigints, string enums, timestamps): each cell is then the text the CSV writer would write from
 * the NDJSON value, formula neutralization included. Returns the statement over `selectSql`, or
 * `undefined` when a field does not qualify (the CSV writer then reads the NDJSON lines).
 * @internal
 */
export function postgresCsvPlan(category: EntityCategory, selectSql: string, neutralize: boolean): string | undefined {
  if (category.fields.length === 0) return undefined;
  const utc = processIsUtc();
  const cells: string[] = [];
  for (const [i, field] of category.fields.entries()) {
    const kind = lineKind(field, utc);
    if (!kind) return undefined;
    cells.push(`${csvCellExpression(kind, `q."f${i}"`, neutralize)} AS "c${i}"`);
  }
  return `SELECT ${cells.join(', ')} FROM (${selectSql}) q`;
}

/**
 * `sql` with its `$n` placeholders replaced by quoted literals, for statements that take no
 * parameters (`COPY`). A quoted literal is typed by its context, as a parameter is. A date is
 * written as `dateText` gives it: the `pg` driver's own text for a date parameter, so that the
 * literal means what the parameter would. Returns `undefined` when a value is not a string,
 * number or boolean (or a date, with `dateText`), or when the statement holds text the scanner
 * does not follow (comments, E'' or dollar quoting).
 * @internal
 */
export function inlineParameters(sql: string, params: readonly unknown[], dateText?: (date: Date) => unknown): string | undefined {
  const literals: string[] = [];
  for (const value of params) {
    const text = value instanceof Date && dateText && !Number.isNaN(value.getTime()) ? dateText(value) : undefined;
    if (typeof text === 'string') literals.push(quoteLiteral(text));
    else if (value === null || value === undefined) literals.push('NULL');
    else if (typeof value === 'string' && !value.includes('\0')) literals.push(quoteLiteral(value));
    else if ((typeof value === 'number' && Number.isFinite(value)) || typeof value === 'bigint') literals.push(`'${String(value)}'`);
    else if (typeof value === 'boolean') literals.push(value ? `'true'` : `'false'`);
    else return undefined;
  }
  if (/--|\/\*|[eE]'/.test(sql)) return undefined;
  let out = '';
  let i = 0;
  while (i < sql.length) {
    const c = sql[i];
    if (c === "'" || c === '"') {
      // A quoted literal or identifier, doubled quotes included: copied as it is.
      let j = i + 1;
      while (j < sql.length && !(sql[j] === c && sql[j + 1] !== c)) j += sql[j] === c ? 2 : 1;
      if (j >= sql.length) return undefined;
      out += sql.slice(i, j + 1);
      i = j + 1;
    } else if (c === '$') {
      const digits = /^\$(\d+)/.exec(sql.slice(i, i + 12));
      const literal = digits ? literals[Number(digits[1]) - 1] : undefined;
      if (!digits || literal === undefined) return undefined;
      out += literal;
      i += digits[0].length;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

/** A standard SQL string literal; a backslash makes it an E'' literal with backslashes doubled. */
function quoteLiteral(value: string): string {
  const quoted = `'${value.replace(/'/g, "''")}'`;
  return value.includes('\\') ? ` E${quoted.replace(/\\/g, '\\\\')}` : quoted;
}
