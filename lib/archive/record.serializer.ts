import type { DataSource, ObjectLiteral } from 'typeorm';
import type { ColumnMetadata, ExportCategory, ExportFieldPlan } from '../registry/export-category.interface';

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
 * Builds the serializer of one category: hydrates each raw value through the driver (type
 * conversion and column transformers, as TypeORM does for entities), applies redaction, and
 * writes the line with precomputed keys, without building an intermediate object.
 * @internal
 */
export function createLineSerializer(category: ExportCategory, dataSource: DataSource): LineSerializer {
  const { driver } = dataSource;
  const plans = category.fields.map((field: ExportFieldPlan, i) => {
    const rawKey = `f${i}`;
    const prefix = `${i === 0 ? '{' : ','}${JSON.stringify(field.key)}:`;
    const { column, mask } = field;
    return { rawKey, prefix, column, mask };
  });
  return (raw: ObjectLiteral): string => {
    let line = '';
    for (const { rawKey, prefix, column, mask } of plans) {
      const hydrated = driver.prepareHydratedValue(raw[rawKey], column);
      let value = toArchiveValue(hydrated, column);
      if (mask) {
        value = mask.mode === 'last4' ? maskLast4(value) : toArchiveValue(mask.fn(hydrated), column);
      }
      line += prefix + (value === undefined ? 'null' : JSON.stringify(value));
    }
    return plans.length === 0 ? '{}' : `${line}}`;
  };
}
