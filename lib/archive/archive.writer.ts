import type { Writable } from 'node:stream';
import type { DataExport } from '../entities/data-export.entity';
import type { ExportAbout, ExportNotIncluded } from '../interfaces/export-about.interface';
import type { PlannedCategory } from '../metadata/export-category.interface';
import type { CategorySource } from '../source/category-source';
import type { ResolvedExportSigning } from '../options/export-module-options.interface';
import { ChunkedEntryWriter } from './chunked-entry.writer';

/** What a writer needs to build one archive. @internal */
export interface ArchiveContext {
  readonly exportRow: DataExport;
  readonly categories: readonly PlannedCategory[];
  /** Where each category's NDJSON comes from. */
  readonly source: CategorySource;
  /** Rows between two `onBatch` reports. */
  readonly batchSize: number;
  readonly exportedAt: Date;
  readonly compressionLevel: number;
  /**
   * Aborted when the run must stop (the storage failed, nothing moved for too long, the worker
   * shuts down): every wait of the writer ends, rejecting with the signal's reason.
   */
  readonly signal?: AbortSignal;
  /** Called when a category starts, so that a failure can name it. */
  readonly onCategory?: (category: PlannedCategory) => void;
  /** Called after each batch; may throw to stop the export (e.g. when it was cancelled). */
  readonly onBatch: (category: PlannedCategory, rows: number) => Promise<void>;
  /** What the archive leaves out, for "What is not included". */
  readonly notIncluded: ExportNotIncluded;
  /** The module's `about`, for categories that do not say their own. */
  readonly about: ExportAbout;
  /** The key that signs the manifest of a ZIP; `undefined`: unsigned. */
  readonly signing?: ResolvedExportSigning;
  /** How CSV cells are written (format `csv`); formulas neutralized and no BOM when absent. */
  readonly csv?: CsvCellOptions;
}

/** The `csv` option as the CSV writer reads it. @internal */
export interface CsvCellOptions {
  readonly neutralizeFormulas: boolean;
  readonly bom: boolean;
}

/** A category's `about`, over the module's; `undefined` when neither says anything. @internal */
export function aboutOf(ctx: ArchiveContext, category: PlannedCategory): ExportAbout | undefined {
  const about = { ...ctx.about, ...category.about };
  return Object.keys(about).length > 0 ? about : undefined;
}

/** `{ about }` for a manifest entry, or nothing when the category has none. @internal */
export function withAbout(ctx: ArchiveContext, category: PlannedCategory): { about?: ExportAbout } {
  const about = aboutOf(ctx, category);
  return about ? { about } : {};
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
  /** `complete`: every row of the category is in the archive. */
  status: 'complete';
  /** Purpose, recipients, retention and source (GDPR Article 15), when known. */
  about?: ExportAbout;
}

/** A file of a ZIP besides the categories' (README.txt, a schema), as the manifest's `files` lists it. @internal */
export interface ArchiveFileSummary {
  path: string;
  bytes: number;
  sha256: string;
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
 * Streams one category's NDJSON from the source into `entry`, reporting every `batchSize`
 * rows. As NDJSON (no separator, `\n` after each line) the source's chunks are queued as they
 * came; otherwise each line's newline gives way to `lineSuffix`, and `separator` goes before
 * every line but the first (a JSON array). Returns the row count.
 * @internal
 */
export async function writeCategoryRows(
  ctx: ArchiveContext,
  category: PlannedCategory,
  entry: ChunkedEntryWriter,
  separator: string,
  lineSuffix = '',
): Promise<number> {
  ctx.onCategory?.(category);
  const asIs = separator === '' && lineSuffix === '\n';
  const before = Buffer.from(separator, 'utf8');
  const after = Buffer.from(lineSuffix, 'utf8');
  const progress = new BatchProgress(ctx, category);
  let lineStart = true;
  for await (const { bytes, rows: ended } of ctx.source.ndjson(category)) {
    if (asIs) {
      progress.add(ended);
      // The source hands each chunk over and never reuses it: queued without a copy.
      if (entry.appendBytes(bytes, true)) await entry.flush();
    } else {
      // Each line is counted here, where its newline is replaced.
      for (let at = 0; at < bytes.length; ) {
        if (lineStart && progress.rows > 0 && entry.appendBytes(before)) await entry.flush();
        const newline = bytes.indexOf(NEWLINE, at);
        const end = newline === -1 ? bytes.length : newline;
        if (end > at && entry.appendBytes(bytes.subarray(at, end))) await entry.flush();
        lineStart = newline !== -1;
        if (newline === -1) break;
        progress.add();
        if (after.length > 0 && entry.appendBytes(after)) await entry.flush();
        at = newline + 1;
      }
    }
    await progress.report();
  }
  return progress.end();
}

/** Counts a category's rows and reports them to `onBatch` once they make a batch. @internal */
export class BatchProgress {
  private reported = 0;
  private pending = 0;

  constructor(
    private readonly ctx: Pick<ArchiveContext, 'batchSize' | 'onBatch'>,
    private readonly category: PlannedCategory,
  ) {}

  /** Rows counted so far, reported or not. */
  get rows(): number {
    return this.reported + this.pending;
  }

  add(rows = 1): void {
    this.pending += rows;
  }

  /** Reports the rows counted since the last report when they make at least a batch. */
  async report(): Promise<void> {
    if (this.pending >= this.ctx.batchSize) await this.flush();
  }

  /** Reports what is left; returns the category's row count. */
  async end(): Promise<number> {
    if (this.pending > 0) await this.flush();
    return this.reported;
  }

  private async flush(): Promise<void> {
    const rows = this.pending;
    this.reported += rows;
    this.pending = 0;
    await this.ctx.onBatch(this.category, rows);
  }
}

/** The manifest's `summary`. @internal */
export function summarize(categories: ArchiveCategorySummary[]): { rows: number; categories: number; byCategory: Record<string, number> } {
  return {
    categories: categories.length,
    rows: categories.reduce((n, c) => n + c.rows, 0),
    byCategory: Object.fromEntries(categories.map((c) => [c.name, c.rows])),
  };
}
