/** Field delimiter, quote and row end of the `COPY … TO STDOUT` format the reader asks for. */
export const COPY_DELIMITER = 0x02;
export const COPY_QUOTE = 0x01;
const NEWLINE = 0x0a;

/**
 * One parsed row, valid only during the callback that receives it: field `i` is the bytes
 * `bytes[start[i]…end[i])`, `null` when `start[i]` is -1, or `unescaped[i]` when it is -2 (a
 * quoted field holding a doubled quote, copied without the doubling).
 * @internal
 */
export interface CopyCsvRow {
  bytes: Buffer;
  readonly start: Int32Array;
  readonly end: Int32Array;
  readonly unescaped: (Buffer | undefined)[];
}

/** The bytes of one field of `row`, or `null`; for fields the caller turns into text. @internal */
export function copyFieldText(row: CopyCsvRow, i: number): string | null {
  const start = row.start[i];
  if (start === -1) return null;
  if (start === -2) return row.unescaped[i]!.toString('utf8');
  return row.bytes.toString('utf8', start, row.end[i]);
}

/**
 * Splits the output of `COPY … TO STDOUT WITH (FORMAT csv, DELIMITER E'\x02', QUOTE E'\x01')`
 * into rows of a known number of fields, chunk by chunk, without copying unquoted fields. In this
 * format a value is written as it is, unless it is empty or holds the delimiter, the quote, a
 * carriage return or a newline: then it is quoted, with quotes inside doubled. NULL is an
 * unquoted empty field. Rows end with a newline. A row cut by a chunk's end is kept and parsed
 * again with the next chunk. The bytes are UTF-8: the three control bytes never occur inside a
 * multi-byte character.
 * @internal
 */
export class CopyCsvParser {
  private rest?: Buffer;
  private readonly row: CopyCsvRow;

  constructor(private readonly columns: number) {
    this.row = { bytes: Buffer.alloc(0), start: new Int32Array(columns), end: new Int32Array(columns), unescaped: new Array(columns) };
  }

  /** Calls `onRow` for every row that `chunk` completes. */
  push(chunk: Buffer, onRow: (row: CopyCsvRow) => void): void {
    let at = 0;
    if (this.rest) {
      // The row cut by the last chunk's end: joined with as much of this chunk as completes it,
      // a line at a time (a quoted field can hold newlines), so that the chunk is not copied.
      for (let end = chunk.indexOf(NEWLINE); ; end = chunk.indexOf(NEWLINE, end + 1)) {
        const joined = Buffer.concat([this.rest, chunk.subarray(0, end === -1 ? chunk.length : end + 1)]);
        this.row.bytes = joined;
        const next = this.parseRow(joined, 0);
        if (next !== -1) {
          onRow(this.row);
          at = next - this.rest.length;
          this.rest = undefined;
          break;
        }
        if (end === -1) {
          this.rest = joined;
          return;
        }
      }
    }
    const row = this.row;
    row.bytes = chunk;
    while (at < chunk.length) {
      const next = this.parseRow(chunk, at);
      if (next === -1) break;
      onRow(row);
      at = next;
    }
    if (at < chunk.length) this.rest = Buffer.from(chunk.subarray(at));
  }

  /** Checks that the output ended on a row's end. */
  end(): void {
    if (this.rest) throw new Error(`COPY output ended inside a row (${this.rest.length} bytes left)`);
  }

  /** Parses the row at `at` into `this.row`; returns the offset after its newline, or -1 when the row is incomplete. */
  private parseRow(bytes: Buffer, at: number): number {
    const { start, end, unescaped } = this.row;
    let p = at;
    for (let i = 0; i < this.columns; i++) {
      const terminator = i === this.columns - 1 ? NEWLINE : COPY_DELIMITER;
      if (p >= bytes.length) return -1;
      if (bytes[p] === COPY_QUOTE) {
        // Quoted: up to the quote that is not doubled.
        let q = p + 1;
        let doubled = false;
        for (;;) {
          q = bytes.indexOf(COPY_QUOTE, q);
          if (q === -1 || q + 1 >= bytes.length) return -1;
          if (bytes[q + 1] !== COPY_QUOTE) break;
          doubled = true;
          q += 2;
        }
        if (doubled) {
          start[i] = -2;
          unescaped[i] = unquote(bytes.subarray(p + 1, q));
        } else {
          start[i] = p + 1;
          end[i] = q;
        }
        p = q + 1;
        if (bytes[p] !== terminator) throw new Error(`Unexpected byte after a quoted COPY field (column ${i + 1})`);
      } else {
        // Unquoted: it cannot hold the delimiter or a newline, so its end is the next terminator.
        const stop = bytes.indexOf(terminator, p);
        if (stop === -1) return -1;
        if (stop === p) {
          start[i] = -1;
        } else {
          start[i] = p;
          end[i] = stop;
        }
        p = stop;
      }
      p++;
    }
    return p;
  }
}

/** A quoted field's content with its doubled quotes made single. */
function unquote(content: Buffer): Buffer {
  const out = Buffer.allocUnsafe(content.length);
  let n = 0;
  for (let i = 0; i < content.length; i++) {
    out[n++] = content[i];
    if (content[i] === COPY_QUOTE) i++;
  }
  return out.subarray(0, n);
}
