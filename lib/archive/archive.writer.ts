import type { Writable } from 'node:stream';
import type { DataSource } from 'typeorm';
import type { DataExport } from '../entities/data-export.entity';
import type { ExportCategory } from '../registry/export-category.interface';
import type { ExportReader } from '../source/export.reader';
import { ChunkedEntryWriter } from './chunked-entry.writer';

/** What a writer needs to build one archive. @internal */
export interface ArchiveContext {
  readonly exportRow: DataExport;
  readonly categories: readonly ExportCategory[];
  readonly reader: ExportReader;
  readonly dataSource: DataSource;
  readonly exportedAt: Date;
  readonly compressionLevel: number;
  /**
   * Aborted when the run must stop (the storage failed, nothing moved for too long, the worker
   * shuts down): every wait of the writer ends, rejecting with the signal's reason.
   */
  readonly signal?: AbortSignal;
  /** Called when a category starts, so that a failure can name it. */
  readonly onCategory?: (category: ExportCategory) => void;
  /** Called after each batch; may throw to stop the export (e.g. when it was cancelled). */
  readonly onBatch: (category: ExportCategory, rows: number) => Promise<void>;
}

/** Per-category result, as written to the manifest. @publicApi */
export interface ArchiveCategorySummary {
  name: string;
  file: string;
  description?: string;
  rows: number;
  bytes: number;
  sha256: string;
  schema?: string;
}

/**
 * Writes an export's archive to a stream. Implementations stream: they never hold a whole
 * category in memory.
 * @internal
 */
export abstract class ArchiveWriter {
  abstract readonly extension: string;
  abstract readonly contentType: string;
  /**
   * Writes the archive into `output` and ends it; rejects (leaving `output` unended) on error,
   * when `output` is destroyed, or when `ctx.signal` is aborted.
   */
  abstract write(ctx: ArchiveContext, output: Writable): Promise<ArchiveCategorySummary[]>;
}

const NEWLINE = 0x0a;

/**
 * Streams one category's rows as serialized lines into `entry`, `separator` between rows.
 * Returns the row count.
 * @internal
 */
export async function writeCategoryRows(
  ctx: ArchiveContext,
  category: ExportCategory,
  entry: ChunkedEntryWriter,
  separator: string,
  lineSuffix = '',
): Promise<number> {
  ctx.onCategory?.(category);
  const source = ctx.reader.lines(category, true);
  let rows = 0;
  if ('ndjson' in source) {
    // NDJSON lines read through COPY: counted by their newlines, reported every batchSize rows.
    // As NDJSON they are written as they came; otherwise each newline gives way to the
    // suffix, and the separator goes before every line but the first.
    const asIs = separator === '' && lineSuffix === '\n';
    const before = Buffer.from(separator, 'utf8');
    const after = Buffer.from(lineSuffix, 'utf8');
    let lineStart = true;
    let unreported = 0;
    for await (const chunk of source.ndjson) {
      if (asIs) {
        for (let at = chunk.indexOf(NEWLINE); at !== -1; at = chunk.indexOf(NEWLINE, at + 1)) unreported++;
        // The reader hands each chunk over and never reuses it: queued without a copy.
        if (entry.appendBytes(chunk, true)) await entry.flush();
      } else {
        for (let at = 0; at < chunk.length; ) {
          if (lineStart && rows + unreported > 0 && entry.appendBytes(before)) await entry.flush();
          const newline = chunk.indexOf(NEWLINE, at);
          const end = newline === -1 ? chunk.length : newline;
          if (end > at && entry.appendBytes(chunk.subarray(at, end))) await entry.flush();
          lineStart = newline !== -1;
          if (newline === -1) break;
          unreported++;
          if (after.length > 0 && entry.appendBytes(after)) await entry.flush();
          at = newline + 1;
        }
      }
      if (unreported >= ctx.reader.batchSize) {
        rows += unreported;
        await ctx.onBatch(category, unreported);
        unreported = 0;
      }
    }
    rows += unreported;
    if (unreported > 0) await ctx.onBatch(category, unreported);
    return rows;
  }
  const { batches, line } = source;
  for await (const batch of batches) {
    for (const raw of batch) {
      if (entry.append(line(raw), rows === 0 ? '' : separator, lineSuffix)) await entry.flush();
      rows++;
    }
    await ctx.onBatch(category, batch.length);
  }
  return rows;
}

/** The manifest's `summary`. @internal */
export function summarize(categories: ArchiveCategorySummary[]): { rows: number; categories: number; byCategory: Record<string, number> } {
  return {
    categories: categories.length,
    rows: categories.reduce((n, c) => n + c.rows, 0),
    byCategory: Object.fromEntries(categories.map((c) => [c.name, c.rows])),
  };
}
