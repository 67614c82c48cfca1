import type { DataSource, ObjectLiteral } from 'typeorm';
import type { ColumnMetadata, EntityCategory, ExportFieldPlan } from '../metadata/export-category.interface';

/** Turns one raw driver row into one JSON line (no trailing newline). @internal */
export type LineSerializer = (raw: ObjectLiteral) => string;

const BIGINT_TYPES = new Set(['bigint', 'int8', 'int64', 'unsigned big int']);

/**
 * Masks a value to `…` plus its last four characters; values shorter than eight characters
 * are masked entirely, since their last four would give most of them away.
 * @internal
 */
export function maskLast4(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  const text = String(value);
  return text.length >= 8 ? `…${text.slice(-4)}` : '…';
}

/**
 * Converts a hydrated value to its archive form: dates as ISO-8601 UTC, bigint as string, binary
 * as base64, `null` kept, everything else as JSON has it.
 * @internal
 */
export function toArchiveValue(value: unknown, column: ColumnMetadata): unknown {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  if (typeof value === 'bigint') return value.toString();
  if (Buffer.isBuffer(value)) return value.toString('base64');
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  if (typeof value === 'number' && BIGINT_TYPES.has(String(column.type))) return String(value);
  return value;
}

/**
 * A piece of a line whose text PostgreSQL writes in part (see `postgresLinePlan`): fixed text, a
 * column holding text the database wrote, or a field the serializer writes from its raw value.
 * @internal
 */
export type LinePart = { readonly text: string } | { readonly segment: string } | { readonly field: number };

/** Writes one field's JSON from its raw driver value. @internal */
export function createFieldWriter(field: ExportFieldPlan, driver: DataSource['driver']): (raw: unknown) => string {
  const { column, mask } = field;
  return (raw: unknown): string => {
    const hydrated = driver.prepareHydratedValue(raw, column);
    let value = toArchiveValue(hydrated, column);
    if (mask) {
      value = mask.mode === 'last4' ? maskLast4(value) : toArchiveValue(mask.fn(hydrated), column);
    }
    return value === undefined ? 'null' : JSON.stringify(value);
  };
}

/**
 * Builds the serializer of one category: hydrates each raw value through the driver (type
 * conversion and column transformers, as TypeORM does for entities), applies redaction, and
 * writes the line with precomputed keys, without building an intermediate object.
 *
 * With `parts`, the database wrote the line's text around some fields (see `postgresLinePlan`):
 * only those fields are serialized here, the rest is joined as it came.
 * @internal
 */
export function createLineSerializer(category: EntityCategory, dataSource: DataSource, parts?: readonly LinePart[]): LineSerializer {
  const { driver } = dataSource;
  const field = (i: number) => ({ key: `f${i}`, write: createFieldWriter(category.fields[i], driver) });
  // Each step appends its text, then the value under its key: written from the raw value, or as
  // the database wrote it.
  const steps: { text: string; key?: string; write?: (raw: unknown) => string }[] = parts
    ? parts.map((part) => {
        if ('text' in part) return { text: part.text };
        if ('segment' in part) return { text: '', key: part.segment };
        return { text: '', ...field(part.field) };
      })
    : category.fields.length === 0
      ? [{ text: '{}' }]
      : [
          ...category.fields.map((f, i) => ({ text: `${i === 0 ? '{' : ','}${JSON.stringify(f.key)}:`, ...field(i) })),
          { text: '}' },
        ];
  return (raw: ObjectLiteral): string => {
    let line = '';
    for (const { text, key, write } of steps) {
      line += text;
      if (key !== undefined) line += write ? write(raw[key]) : (raw[key] as string);
    }
    return line;
  };
}
