import type { ExportFilters } from '../entities/data-export.entity';
import type { ExportSubject } from '../interfaces/export-principal.interface';
import type { ExporterCategory } from '../metadata/export-category.interface';
import type { ExporterFilters } from '../metadata/exporter.decorator';
import { isSensitiveName } from '../metadata/sensitive-name.util';
import { LineChunker, NdjsonChunk } from './category-source';
import { maskLast4 } from './record.serializer';

/** JSON types a field's values had, for a schema inferred from the rows. */
type JsonType = 'null' | 'boolean' | 'integer' | 'number' | 'string' | 'array' | 'object';

/**
 * JSON writing of an exporter's values: binary as base64 and bigint as a string (dates already
 * write themselves as ISO-8601 UTC, through `toJSON`), at any depth.
 */
function replacer(this: Record<string, unknown>, key: string, value: unknown): unknown {
  const raw = this[key];
  if (raw instanceof Uint8Array) return Buffer.from(raw).toString('base64');
  if (typeof value === 'bigint') return value.toString();
  return value;
}

/** The JSON type a value is written as (see `replacer`). */
function jsonType(value: unknown): JsonType {
  if (value === null) return 'null';
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'null' : 'string';
  if (value instanceof Uint8Array || typeof value === 'bigint') return 'string';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  if (typeof value === 'boolean') return 'boolean';
  if (typeof value === 'object') return 'object';
  return 'string';
}

/**
 * Writes an exporter's rows as NDJSON lines under the rules entity rows follow: fields whose name
 * reads like a credential are left out unless opted in (or given a mask), `redact` leaves out or
 * masks a field, a missing value is `null`. It records the JSON types each field had, for the schema of a
 * category that declared none.
 * @internal
 */
export class ExporterRowWriter {
  private readonly types = new Map<string, Set<JsonType>>();

  constructor(private readonly category: ExporterCategory) {}

  line(row: object): string {
    const out: Record<string, unknown> = {};
    const rules = this.category.fieldRules;
    for (const key of Object.keys(row)) {
      const { redact, allowSensitiveName } = rules[key] ?? {};
      if (redact?.mode === 'omit') continue;
      // A field given a mask is exported masked, whatever its name.
      if (!redact && !allowSensitiveName && isSensitiveName(key)) continue;
      let value = (row as Record<string, unknown>)[key];
      if (redact?.mode === 'last4') value = maskLast4(value instanceof Date ? value.toISOString() : value);
      else if (redact?.mode === 'fn') value = redact.fn(value);
      out[key] = value === undefined ? null : value;
    }
    if (!this.category.schema) this.learn(out);
    return JSON.stringify(out, replacer);
  }

  /** The JSON Schema of the rows written so far, from the types their fields had. */
  schema(): Record<string, unknown> {
    const properties = Object.fromEntries(
      [...this.types].map(([key, types]) => {
        const list = [...types].filter((t) => !(t === 'integer' && types.has('number'))).sort();
        return [key, { type: list.length === 1 ? list[0] : list }];
      }),
    );
    return { type: 'object', properties, 'x-inferred': true };
  }

  /** Records the types of the values written (after redaction and masks). */
  private learn(out: Record<string, unknown>): void {
    for (const [key, value] of Object.entries(out)) {
      let seen = this.types.get(key);
      if (!seen) this.types.set(key, (seen = new Set()));
      seen.add(jsonType(value));
    }
  }
}

/** The export's filters as an exporter receives them. @internal */
export function exporterFilters(filters: ExportFilters): ExporterFilters {
  return {
    ...(filters.since ? { since: new Date(filters.since) } : {}),
    ...(filters.until ? { until: new Date(filters.until) } : {}),
  };
}

/**
 * An exporter's rows as NDJSON chunks of about 64 KiB, read one row at a time. A consumer that
 * stops early ends the exporter's iteration (its `return()` runs).
 * @internal
 */
export async function* exporterLines(
  category: ExporterCategory,
  subject: ExportSubject,
  filters: ExportFilters,
  writer: ExporterRowWriter,
): AsyncGenerator<NdjsonChunk> {
  const chunker = new LineChunker();
  for await (const row of category.exporter.rows(subject, exporterFilters(filters))) {
    const chunk = chunker.push(writer.line(row));
    if (chunk) yield chunk;
  }
  const rest = chunker.flush();
  if (rest) yield rest;
}
