import { ARCHIVE_CHUNK_BYTES } from './category-source';
import { copyFieldText, CopyCsvParser, CopyCsvRow } from './copy-csv.parser';

/**
 * One piece of a line read through `COPY`: fixed text, a column of text the database wrote
 * (copied as bytes, never NULL), or a column whose text `write` turns into the field's JSON.
 * @internal
 */
export type CopyLineStep =
  | { readonly text: Buffer }
  | { readonly copy: number }
  | { readonly column: number; readonly write: (text: string | null) => string };

/** Room of one output buffer: a chunk's worth and some, for the line that ends it. */
const LINE_BUFFER_BYTES = ARCHIVE_CHUNK_BYTES + 32 * 1024;

/**
 * Output buffers that lines are written into: filled in place, handed on whole (the caller
 * owns each one it takes).
 */
class LineBuffers {
  private buffer = Buffer.allocUnsafe(LINE_BUFFER_BYTES);
  private used = 0;

  bytes(source: Buffer, start: number, end: number): void {
    this.room(end - start);
    this.used += source.copy(this.buffer, this.used, start, end);
  }

  text(value: string): void {
    // UTF-8 takes at most 3 bytes per UTF-16 code unit.
    this.room(3 * value.length);
    this.used += this.buffer.write(value, this.used, 'utf8');
  }

  newline(): void {
    this.room(1);
    this.buffer[this.used++] = 0x0a;
  }

  /** The bytes written so far, once there are at least `least`; `undefined` before. */
  take(least: number): Buffer | undefined {
    if (this.used < least || this.used === 0) return undefined;
    const full = this.buffer.subarray(0, this.used);
    this.buffer = Buffer.allocUnsafe(LINE_BUFFER_BYTES);
    this.used = 0;
    return full;
  }

  /** Makes room for `n` more bytes, moving what is written to a larger buffer when needed. */
  private room(n: number): void {
    if (this.used + n <= this.buffer.length) return;
    const larger = Buffer.allocUnsafe(Math.max(2 * this.buffer.length, this.used + n));
    this.buffer.copy(larger, 0, 0, this.used);
    this.buffer = larger;
  }
}

/**
 * Joins the rows of a `COPY` in the reader's CSV format (`columns` fields per row) into NDJSON
 * lines, one per row, following `steps`. Yields buffers of about 64 KiB that the caller owns.
 * @internal
 */
export async function* joinCopyLines(chunks: AsyncIterable<Buffer>, columns: number, steps: readonly CopyLineStep[]): AsyncGenerator<Buffer> {
  const parser = new CopyCsvParser(columns);
  const out = new LineBuffers();
  const onRow = (row: CopyCsvRow) => {
    for (const step of steps) {
      if ('text' in step) {
        out.bytes(step.text, 0, step.text.length);
      } else if ('write' in step) {
        out.text(step.write(copyFieldText(row, step.column)));
      } else if (row.start[step.copy] === -2) {
        const unescaped = row.unescaped[step.copy]!;
        out.bytes(unescaped, 0, unescaped.length);
      } else {
        out.bytes(row.bytes, row.start[step.copy], row.end[step.copy]);
      }
    }
    out.newline();
  };
  for await (const chunk of chunks) {
    parser.push(chunk, onRow);
    const full = out.take(ARCHIVE_CHUNK_BYTES);
    if (full) yield full;
  }
  parser.end();
  const last = out.take(1);
  if (last) yield last;
}
