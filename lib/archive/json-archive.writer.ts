import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { EXPORT_FORMAT_VERSION } from '../common/export.constants';
import { AttachmentsWriter } from './attachments.writer';
import { ArchiveCategorySummary, ArchiveContext, ArchiveWriter, summarize, withAbout, writeCategoryRows } from './archive.writer';
import { ChunkedEntryWriter } from './chunked-entry.writer';

/**
 * Writes format `json`: one document
 * `{ exportVersion, exportId, accountId, exportedAt, filters, data: { <category>: [rows] }, summary }`,
 * streamed row by row.
 * @internal
 */
export class JsonArchiveWriter extends ArchiveWriter {
  readonly extension = 'json';
  readonly contentType = 'application/json';

  async write(ctx: ArchiveContext, output: Writable): Promise<ArchiveCategorySummary[]> {
    const doc = new ChunkedEntryWriter(ctx.signal);
    const piping = pipeline(doc.stream, output);
    piping.catch(() => undefined);
    const row = ctx.exportRow;
    const head = JSON.stringify({
      exportVersion: EXPORT_FORMAT_VERSION,
      exportId: row.id,
      accountId: row.accountId,
      kind: row.kind === 'personal' ? 'personal' : 'account',
      ...(row.kind === 'personal' && row.subjectUserId ? { subject: { userId: row.subjectUserId } } : {}),
      requestedBy: row.requestedBy,
      exportedAt: ctx.exportedAt.toISOString(),
      format: row.format,
      filters: row.filters ?? {},
    });
    const summaries: ArchiveCategorySummary[] = [];
    // Files are referenced here (by URL where resolve gives one), never embedded.
    const attachments = new AttachmentsWriter(ctx, undefined, new Date(0));
    try {
      await doc.write(`${head.slice(0, -1)},"data":{`);
      for (const [i, category] of ctx.categories.entries()) {
        await doc.write(`${i === 0 ? '' : ','}\n${JSON.stringify(category.name)}:[\n`);
        // Rows are hashed with the whole document; per-category checksums belong to the ZIP.
        const rowsCtx = AttachmentsWriter.has(category) ? { ...ctx, source: attachments.source(category) } : ctx;
        const rows = await writeCategoryRows(rowsCtx, category, doc, ',\n');
        await attachments.writeFiles();
        await doc.write('\n]');
        summaries.push({ name: category.name, file: `data.${category.name}`, rows, bytes: 0, sha256: '', status: 'complete', ...withAbout(ctx, category) });
      }
      const about = Object.fromEntries(summaries.flatMap((c) => (c.about ? [[c.name, c.about]] : [])));
      await doc.write(`},"summary":${JSON.stringify(summarize(summaries))},"about":${JSON.stringify(about)},"notIncluded":${JSON.stringify(ctx.notIncluded)}${
        ctx.categories.some((c) => AttachmentsWriter.has(c)) ? `,"attachments":${JSON.stringify(attachments.attachments)},"missing":${JSON.stringify(attachments.missing)}` : ''
      }}\n`);
      await doc.end();
      await piping;
      return summaries;
    } catch (err) {
      doc.stream.destroy(err as Error);
      throw err;
    }
  }
}

/**
 * Writes format `json.gz`: the JSON document through gzip, at the module's compression level.
 * What is stored, hashed and downloaded are the gzipped bytes.
 * @internal
 */
export class GzipJsonArchiveWriter extends ArchiveWriter {
  readonly extension = 'json.gz';
  readonly contentType = 'application/gzip';

  async write(ctx: ArchiveContext, output: Writable): Promise<ArchiveCategorySummary[]> {
    const gzip = createGzip({ level: ctx.compressionLevel });
    const piping = pipeline(gzip, output);
    piping.catch(() => undefined);
    try {
      const summaries = await new JsonArchiveWriter().write(ctx, gzip);
      await piping;
      return summaries;
    } catch (err) {
      gzip.destroy(err as Error);
      throw err;
    }
  }
}
