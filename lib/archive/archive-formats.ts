import { ExportFormat } from '../common/export-status.enum';
import type { ArchiveWriter } from './archive.writer';
import { CsvArchiveWriter } from './csv-archive.writer';
import { GzipJsonArchiveWriter, JsonArchiveWriter } from './json-archive.writer';
import { ZipArchiveWriter } from './zip-archive.writer';

/** What a download of each format is: its file extension and content type. @internal */
export const ARCHIVE_TYPES: Readonly<Record<ExportFormat, { readonly extension: string; readonly contentType: string }>> = {
  [ExportFormat.Zip]: { extension: 'zip', contentType: 'application/zip' },
  [ExportFormat.Json]: { extension: 'json', contentType: 'application/json' },
  [ExportFormat.JsonGzip]: { extension: 'json.gz', contentType: 'application/gzip' },
  [ExportFormat.Csv]: { extension: 'csv.zip', contentType: 'application/zip' },
};

/** The writer of an export's format (ZIP for a format this version does not know). @internal */
export function writerFor(format: ExportFormat | string): ArchiveWriter {
  if (format === ExportFormat.Json) return new JsonArchiveWriter();
  if (format === ExportFormat.JsonGzip) return new GzipJsonArchiveWriter();
  if (format === ExportFormat.Csv) return new CsvArchiveWriter();
  return new ZipArchiveWriter();
}
