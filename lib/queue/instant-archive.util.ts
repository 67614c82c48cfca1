import type { Logger } from '@nestjs/common';
import { PassThrough, Readable } from 'node:stream';
import type { DataSource } from 'typeorm';
import { writerFor } from '../archive/archive-formats';
import { ExportProcessingError } from '../common/export.error';
import { describeFailure } from '../common/failure-reason.util';
import type { DataExport } from '../entities/data-export.entity';
import type { ExportSubject } from '../interfaces/export-principal.interface';
import type { PlannedCategory } from '../metadata/export-category.interface';
import type { ExportRegistry } from '../metadata/export.registry';
import type { ResolvedExportOptions } from '../options/export-module-options.interface';
import { createEntitySource } from '../source/create-entity-source';
import { ExportSource } from '../source/export-source';
import { ExportRun } from './export-run';

/** What one instant archive is built from. @internal */
export interface InstantArchiveInput {
  readonly dataSource: DataSource;
  readonly options: ResolvedExportOptions;
  readonly registry: ExportRegistry;
  /** The export as the archive describes it (id, account, format, filters); never stored. */
  readonly exportRow: DataExport;
  readonly subject: ExportSubject;
  readonly categories: readonly PlannedCategory[];
  readonly logger: Logger;
}

/**
 * Streams an export's archive as it is written, through the writer a queued export uses (the
 * same entries, manifest, redaction and checksums), from one snapshot of the database, and
 * nothing at rest. The stream ends only when the archive is whole; any failure (a category that
 * cannot be read, nothing moving for `stallTimeout`) destroys it with a message that quotes no
 * row, so a reader never takes a cut archive for a complete one. Destroying the stream (the
 * client went away) stops the read and frees its connection.
 * @internal
 */
export function streamInstantArchive(input: InstantArchiveInput): Readable {
  const { dataSource, options, exportRow: row, subject, categories, logger } = input;
  const filters = row.filters ?? {};
  const writer = writerFor(row.format);
  const output = new PassThrough();
  const run = new ExportRun(options.stallTimeoutMs);
  const stallTimeoutMs = Math.floor((options.stallTimeoutMs * 3) / 4);
  const source = new ExportSource(createEntitySource({ dataSource, subject, filters, batchSize: options.batchSize, stallTimeoutMs }), subject, filters);
  let category: string | undefined;
  let rows = 0;
  // The consumer gave up before the end: the run stops at its next wait.
  output.once('close', () => {
    if (!output.writableFinished) run.abort(new ExportProcessingError('The instant download was closed before it ended.'));
  });
  void (async () => {
    let failed = true;
    try {
      await run.guard(source.open());
      await run.guard(
        writer.write(
          {
            exportRow: row,
            categories,
            source,
            batchSize: options.batchSize,
            exportedAt: row.createdAt,
            compressionLevel: options.compressionLevel,
            signal: run.signal,
            onCategory: (c) => {
              category = c.name;
              run.moved();
            },
            onBatch: async (_c, n) => {
              run.signal.throwIfAborted();
              run.moved();
              rows += n;
            },
            notIncluded: input.registry.getNotIncluded(categories.map((c) => c.name)),
            about: options.about,
          },
          output,
        ),
      );
      failed = false;
      logger.log(`Instant download of account ${row.accountId} sent: ${rows} rows, ${row.format}`);
    } catch (err) {
      const cause = run.reason ?? err;
      const message = describeFailure(cause, category);
      logger.warn(`Instant download of account ${row.accountId} stopped: ${message}`);
      run.abort(cause as Error);
      output.destroy(new ExportProcessingError(message));
    } finally {
      run.end();
      await source.close(failed).catch(() => undefined);
    }
  })();
  return output;
}
