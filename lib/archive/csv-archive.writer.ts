import { once } from 'node:events';
import { StringDecoder } from 'node:string_decoder';
import { stringify, Stringifier } from 'csv-stringify';
import { stringify as stringifySync } from 'csv-stringify/sync';
import { ExportProcessingError } from '../common/export.error';
import { ExportMessages } from '../common/export.messages';
import type { PlannedCategory } from '../metadata/export-category.interface';
import { type ArchiveContext, BatchProgress, type CsvCellOptions } from './archive.writer';
import type { ChunkedEntryWriter } from './chunked-entry.writer';
import { csvCell } from './csv-cell.util';
import { ZipArchiveWriter } from './zip-archive.writer';

/**
 * RFC 4180 as csv-stringify writes it: CRLF record ends, and a cell with a CR or a LF quoted too
 * (the cells PostgreSQL's COPY quotes: both paths write the same bytes).
 */
const STRINGIFY_OPTIONS = { record_delimiter: '\r\n', quoted_match: /[\r\n]/, eof: true } as const;

/** The `csv` option's defaults, for a context that does not carry it. */
const CSV_DEFAULTS: CsvCellOptions = { neutralizeFormulas: true, bom: false };

/**
 * Writes format `csv`: a ZIP like the NDJSON one (`README.txt`, `schemas/`, `manifest.json`)
 * whose rows are `<category>.csv`, RFC 4180 files written by csv-stringify.
 * @internal
 */
export class CsvArchiveWriter extends ZipArchiveWriter {
  override readonly extension = 'csv.zip';
  protected override readonly format = 'csv';

  protected override fileOf(category: PlannedCategory): string {
    return `${category.name}.csv`;
  }

  protected override writeRows(ctx: ArchiveContext, category: PlannedCategory, entry: ChunkedEntryWriter): Promise<number> {
    return writeCategoryCsv(ctx, category, entry);
  }

  protected override manifestExtras(ctx: ArchiveContext): Record<string, unknown> {
    const { neutralizeFormulas, bom } = ctx.csv ?? CSV_DEFAULTS;
    return { csv: { encoding: 'utf-8', bom, delimiter: ',', quote: '"', recordDelimiter: '\r\n', header: true, neutralizeFormulas } };
  }
}

/**
 * Streams one category as CSV into `entry`: the header row (the field keys, in the schema's
 * order), then one record per NDJSON line of the source. Each line is the row as the NDJSON
 * archive holds it (redaction, masks and value rules applied once, by the source), parsed and
 * written cell by cell (see `csvCell`) through csv-stringify with CRLF record ends; a cell with a
 * line break, a comma or a quote is quoted. An exporter's header is its declared fields, then
 * the other keys of its first row; a later row with a field outside the header fails the export
 * rather than lose the value. Where the source writes an entity category's records itself
 * (`CategorySource.csv`: PostgreSQL's COPY), they are taken as they come instead, each record
 * ended with CRLF. Returns the row count, reporting every `batchSize` rows.
 * @internal
 */
export async function writeCategoryCsv(ctx: ArchiveContext, category: PlannedCategory, entry: ChunkedEntryWriter): Promise<number> {
  ctx.onCategory?.(category);
  const { neutralizeFormulas, bom } = ctx.csv ?? CSV_DEFAULTS;
  if (bom) entry.append('\uFEFF');
  const records = category.kind === 'entity' ? ctx.source.csv?.(category, { neutralizeFormulas }) : undefined;
  if (records) return writeSourceRecords(ctx, category, entry, records, neutralizeFormulas);
  const csv: Stringifier = stringify(STRINGIFY_OPTIONS);
  // Records come out as strings, encoded straight into the entry's chunk (no Buffer per record),
  // and go to the entry as they come, with the archive's backpressure.
  csv.setEncoding('utf8');
  const pumped = (async () => {
    for await (const text of csv) if (entry.append(text as string)) await entry.flush();
  })();
  pumped.catch(() => undefined);
  const broken = pumped.then(() => new Promise<never>(() => undefined));
  broken.catch(() => undefined);
  const put = async (cells: string[]): Promise<void> => {
    if (!csv.write(cells)) await Promise.race([once(csv, 'drain'), broken]);
  };

  const declared = category.fields.map((f) => f.key);
  // An exporter's header waits for its first row (see above).
  let columns: string[] | undefined = category.kind === 'entity' ? declared : undefined;
  const known = new Set(declared);
  const writeHeader = () => put(columns!.map((key) => csvCell(key, neutralizeFormulas)));
  if (columns) await writeHeader();

  const record = async (line: string): Promise<void> => {
    const row = JSON.parse(line) as Record<string, unknown>;
    if (category.kind === 'exporter') {
      if (!columns) {
        columns = [...declared, ...Object.keys(row).filter((k) => !known.has(k))];
        columns.forEach((k) => known.add(k));
        await writeHeader();
      }
      for (const key of Object.keys(row)) {
        if (!known.has(key)) throw new ExportProcessingError(ExportMessages.csvUnknownField(category.name, key));
      }
    }
    await put(columns!.map((key) => csvCell(Object.hasOwn(row, key) ? row[key] : null, neutralizeFormulas)));
  };

  const decoder = new StringDecoder('utf8');
  let rest = '';
  const progress = new BatchProgress(ctx, category);
  try {
    for await (const { bytes } of ctx.source.ndjson(category)) {
      const text = rest + decoder.write(bytes);
      let at = 0;
      for (let newline = text.indexOf('\n'); newline !== -1; newline = text.indexOf('\n', at)) {
        await record(text.slice(at, newline));
        progress.add();
        at = newline + 1;
      }
      rest = text.slice(at);
      await progress.report();
    }
    rest += decoder.end();
    if (rest !== '') {
      await record(rest);
      progress.add();
    }
    const rows = await progress.end();
    // An exporter without rows: its declared fields, if any (else the file is empty).
    if (!columns && declared.length > 0) {
      columns = declared;
      await writeHeader();
    }
    csv.end();
    await pumped;
    return rows;
  } catch (err) {
    csv.destroy();
    throw err;
  }
}

const QUOTE = 0x22;
const LF = 0x0a;
const CR = 0x0d;

/**
 * Writes a category whose CSV records the source wrote itself (PostgreSQL's `COPY`): the header
 * row through csv-stringify, then the records as they came, each record's LF end made CRLF. A LF
 * inside a quoted cell is data and stays; quotes are followed across chunks. Returns the row
 * count, reporting every `batchSize` rows.
 */
async function writeSourceRecords(
  ctx: ArchiveContext,
  category: PlannedCategory,
  entry: ChunkedEntryWriter,
  records: AsyncIterable<Buffer>,
  neutralizeFormulas: boolean,
): Promise<number> {
  const header = category.fields.map((f) => csvCell(f.key, neutralizeFormulas));
  if (entry.append(stringifySync([header], STRINGIFY_OPTIONS))) await entry.flush();
  let quoted = false;
  const progress = new BatchProgress(ctx, category);
  for await (const bytes of records) {
    const out = Buffer.allocUnsafe(2 * bytes.length);
    let used = 0;
    for (let i = 0; i < bytes.length; i++) {
      const byte = bytes[i];
      if (byte === QUOTE) quoted = !quoted;
      else if (byte === LF && !quoted) {
        out[used++] = CR;
        progress.add();
      }
      out[used++] = byte;
    }
    if (entry.appendBytes(out.subarray(0, used), true)) await entry.flush();
    await progress.report();
  }
  return progress.end();
}
