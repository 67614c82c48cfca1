import archiver from 'archiver';
import type { Writable } from 'node:stream';
import { EXPORT_FORMAT_VERSION } from '../export.constants';
import { ArchiveCategorySummary, ArchiveContext, ArchiveWriter, summarize, writeCategoryRows } from './archive.writer';
import { ChunkedEntryWriter } from './chunked-entry.writer';
import { buildCategorySchema } from './json-schema.util';
import { buildReadme } from './readme.util';

const ZLIB_CHUNK_BYTES = 256 * 1024;

/**
 * Writes the ZIP archive: `README.txt`, `schemas/<category>.schema.json`,
 * `<category>.ndjson` and, last, `manifest.json` with counts and checksums.
 * @internal
 */
export class ZipArchiveWriter extends ArchiveWriter {
  readonly extension = 'zip';
  readonly contentType = 'application/zip';

  async write(ctx: ArchiveContext, output: Writable): Promise<ArchiveCategorySummary[]> {
    // A 256 KiB zlib chunk (Node's default is 16 KiB) means fewer thread-pool round trips.
    const zip = archiver('zip', { zlib: { level: ctx.compressionLevel, memLevel: 9, chunkSize: ZLIB_CHUNK_BYTES }, store: ctx.compressionLevel === 0 });
    let failure: Error | undefined;
    const failed = new Promise<never>((_, reject) => {
      zip.once('error', (err: Error) => reject((failure = err)));
      zip.once('warning', (err: Error) => reject((failure = err)));
      output.once('error', (err: Error) => reject((failure = err)));
    });
    failed.catch(() => undefined);
    zip.pipe(output, { end: true });
    const date = ctx.exportedAt;
    try {
      zip.append(buildReadme(ctx), { name: 'README.txt', date });
      for (const category of ctx.categories) {
        zip.append(`${JSON.stringify(buildCategorySchema(category), null, 2)}\n`, {
          name: `schemas/${category.name}.schema.json`,
          date,
        });
      }
      const summaries: ArchiveCategorySummary[] = [];
      for (const category of ctx.categories) {
        const entry = new ChunkedEntryWriter();
        const file = `${category.name}.ndjson`;
        zip.append(entry.stream, { name: file, date });
        const rows = await Promise.race([writeCategoryRows(ctx, category, entry, '', '\n'), failed]);
        const { bytes, sha256 } = await entry.end();
        summaries.push({
          name: category.name,
          file,
          ...(category.description ? { description: category.description } : {}),
          rows,
          bytes,
          sha256,
          schema: `schemas/${category.name}.schema.json`,
        });
      }
      const row = ctx.exportRow;
      const manifest = {
        exportVersion: EXPORT_FORMAT_VERSION,
        exportId: row.id,
        accountId: row.accountId,
        requestedBy: row.requestedBy,
        exportedAt: ctx.exportedAt.toISOString(),
        format: 'zip',
        filters: row.filters ?? {},
        categories: summaries,
        summary: summarize(summaries),
      };
      zip.append(`${JSON.stringify(manifest, null, 2)}\n`, { name: 'manifest.json', date });
      await Promise.race([zip.finalize(), failed]);
      return summaries;
    } catch (err) {
      zip.abort();
      throw failure ?? err;
    }
  }
}
