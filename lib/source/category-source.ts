import type { PlannedCategory } from '../metadata/export-category.interface';

/**
 * Bytes gathered before one write to the archive: sources hand over NDJSON in pieces of about
 * this size, and the archive writes in chunks of it.
 * @internal
 */
export const ARCHIVE_CHUNK_BYTES = 64 * 1024;

/**
 * A piece of one category's NDJSON: lines, each ended by `\n` (a piece may end inside a line
 * that the next piece finishes), and how many lines end in it.
 * @internal
 */
export interface NdjsonChunk {
  /** UTF-8 bytes that the consumer owns: the source never changes them once handed over. */
  readonly bytes: Buffer;
  /** Lines that end in `bytes`. */
  readonly rows: number;
}

/**
 * The one seam between where rows come from and the archive: a category's rows as NDJSON,
 * whatever produces them (a database that writes the lines itself, rows serialized in the
 * worker, or a source outside any database). The archive writers know only this.
 * @internal
 */
export interface CategorySource {
  /** Rows the category will yield (the progress estimate). */
  count(category: PlannedCategory): Promise<number>;
  /**
   * The category's rows as NDJSON, in a stable order. A consumer that stops early (`return`,
   * or a `for await` left by an exception) ends the read.
   */
  ndjson(category: PlannedCategory): AsyncIterable<NdjsonChunk>;
  /**
   * The JSON Schema of a category's rows that the source learned while reading them (an
   * exporter without a declared schema); `undefined` when the category's own schema applies.
   */
  learnedSchema?(category: PlannedCategory): Record<string, unknown> | undefined;
  /**
   * The category's CSV records written by the source itself, cell for cell what the CSV writer
   * writes from `ndjson()` (formulas neutralized as `options` say), quoted as RFC 4180 has them,
   * with LF record ends and no header; `undefined` when the source does not write them (the CSV
   * writer then reads `ndjson()`). PostgreSQL writes them through `COPY` for plain columns.
   */
  csv?(category: PlannedCategory, options: { neutralizeFormulas: boolean }): AsyncIterable<Buffer> | undefined;
}

/** Characters of serialized lines gathered into one chunk of bytes. */
const CHUNK_CHARS = 64 * 1024;

/**
 * Gathers serialized lines into NDJSON chunks of about 64 KiB: one join and one UTF-8 encoding per
 * chunk, a chunk's worth of text held at a time.
 * @internal
 */
export class LineChunker {
  private lines: string[] = [];
  private chars = 0;

  /** Adds a line; returns a chunk once about 64 KiB have gathered. */
  push(text: string): NdjsonChunk | undefined {
    this.lines.push(text);
    this.chars += text.length + 1;
    return this.chars >= CHUNK_CHARS ? this.flush() : undefined;
  }

  /** The lines gathered so far as a chunk, if any. */
  flush(): NdjsonChunk | undefined {
    if (this.lines.length === 0) return undefined;
    const chunk = { bytes: Buffer.from(`${this.lines.join('\n')}\n`, 'utf8'), rows: this.lines.length };
    this.lines = [];
    this.chars = 0;
    return chunk;
  }
}

/**
 * Serializes batches of rows into NDJSON chunks of about 64 KiB (see `LineChunker`), whatever the
 * batch size; a batch's last lines are sent with it.
 * @internal
 */
export async function* serializeLines<T>(batches: AsyncIterable<T[]>, line: (row: T) => string): AsyncGenerator<NdjsonChunk> {
  const chunker = new LineChunker();
  for await (const batch of batches) {
    for (const row of batch) {
      const chunk = chunker.push(line(row));
      if (chunk) yield chunk;
    }
    const rest = chunker.flush();
    if (rest) yield rest;
  }
}

const NEWLINE = 0x0a;

/** Counts the lines that end in each buffer of NDJSON bytes (as a database writes them). @internal */
export async function* countLines(chunks: AsyncIterable<Buffer>): AsyncGenerator<NdjsonChunk> {
  for await (const bytes of chunks) {
    let rows = 0;
    for (let at = bytes.indexOf(NEWLINE); at !== -1; at = bytes.indexOf(NEWLINE, at + 1)) rows++;
    yield { bytes, rows };
  }
}
