import type { ValidateFunction } from 'ajv';
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { ArchiveProblem as Problem } from './verify.error';
import type { ZipDirectoryEntry } from './zip-file.reader';

const NEWLINE = 0x0a;

/** Reads a stream to its end, keeping nothing. @internal */
export async function drain(stream: Readable): Promise<void> {
  for await (const _ of stream) void _;
}

/**
 * Streams one listed file: its size and sha256, and its rows: NDJSON lines, each an object that
 * its schema accepts; CSV records (quoted newlines included) after the header row.
 * @internal
 */
export async function checkFile(
  stream: Readable,
  entry: ZipDirectoryEntry,
  validate: ValidateFunction | undefined,
): Promise<{ bytes: number; sha256: string; rows?: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  // An attachment is checked by its size and sha256 only, whatever its name.
  const attachment = entry.name.startsWith('attachments/');
  const ndjson = !attachment && entry.name.endsWith('.ndjson');
  const csv = !attachment && entry.name.endsWith('.csv');
  let rows = 0;
  let rest: Buffer = Buffer.alloc(0);
  let quoted = false;
  let records = 0;
  let last = -1;
  const line = (text: Buffer) => {
    rows++;
    let row: unknown;
    try {
      row = JSON.parse(text.toString('utf8'));
    } catch {
      throw new Problem(entry.name, `line ${rows} is not valid JSON`);
    }
    if (!row || typeof row !== 'object' || Array.isArray(row)) throw new Problem(entry.name, `line ${rows} is not a JSON object`);
    if (validate && !validate(row)) {
      const e = validate.errors?.[0];
      throw new Problem(entry.name, `line ${rows} does not match its schema: ${e?.instancePath || '(the row)'} ${e?.message ?? ''}`.trimEnd());
    }
  };
  for await (const data of stream) {
    const chunk = data as Buffer;
    hash.update(chunk);
    bytes += chunk.length;
    if (chunk.length > 0) last = chunk[chunk.length - 1];
    if (ndjson) {
      let at = 0;
      for (let nl = chunk.indexOf(NEWLINE); nl !== -1; nl = chunk.indexOf(NEWLINE, at)) {
        line(rest.length > 0 ? Buffer.concat([rest, chunk.subarray(at, nl)]) : chunk.subarray(at, nl));
        rest = Buffer.alloc(0);
        at = nl + 1;
      }
      if (at < chunk.length) rest = Buffer.concat([rest, chunk.subarray(at)]);
    } else if (csv) {
      for (let i = 0; i < chunk.length; i++) {
        const b = chunk[i];
        if (b === 0x22) quoted = !quoted;
        else if (b === NEWLINE && !quoted) records++;
      }
    }
  }
  if (ndjson && rest.length > 0) throw new Problem(entry.name, `line ${rows + 1} does not end with a newline: the file is cut short`);
  if (csv) {
    if (quoted) throw new Problem(entry.name, 'ends inside a quoted cell: the file is cut short');
    if (bytes > 0 && last !== NEWLINE) records++;
  }
  return { bytes, sha256: hash.digest('hex'), rows: ndjson ? rows : csv ? Math.max(0, records - 1) : undefined };
}
