import rangeParser from 'range-parser';
import type { ByteRange } from '../storage/export.storage';

/** `content-disposition`'s formatter, typed here so that the build needs no `@types` package. */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const formatContentDisposition = require('content-disposition') as (fileName: string, options: { type: 'attachment' | 'inline' }) => string;

/** One `bytes=` range-spec: `a-b`, `a-` or `-n` (RFC 9110 §14.1.2). */
const SINGLE_RANGE = /^bytes=(\d*)-(\d*)$/;

/**
 * Parses a single-range `Range` header against a size, through `range-parser` (the parser
 * Express uses), so that every HTTP adapter answers ranges alike. Returns `undefined` when the
 * header is absent or not one we serve partially (multiple ranges, other units, a malformed or
 * inverted spec such as `bytes=5-2`: the whole file is sent), and `'unsatisfiable'` when the
 * range lies outside the file. A suffix longer than the file (`bytes=-999999999`) selects the
 * whole file (RFC 9110 §14.1.2: "the entire representation is used").
 * @internal
 */
export function parseRange(header: unknown, size: number): ByteRange | 'unsatisfiable' | undefined {
  if (typeof header !== 'string') return undefined;
  const match = SINGLE_RANGE.exec(header.trim());
  if (!match || (match[1] === '' && match[2] === '')) return undefined;
  let spec = header.trim();
  if (match[1] === '') {
    const suffix = Number(match[2]);
    // range-parser refuses a suffix longer than the file; RFC 9110 serves the whole file.
    if (suffix > size && size > 0) spec = 'bytes=0-';
  } else if (match[2] !== '' && Number(match[2]) < Number(match[1])) {
    // Invalid range-spec (last-pos below first-pos): the header is ignored.
    return undefined;
  }
  const parsed = rangeParser(size, spec);
  if (parsed === -2) return undefined;
  if (parsed === -1 || parsed.length !== 1) return 'unsatisfiable';
  const [{ start, end }] = parsed;
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end)) return 'unsatisfiable';
  return { start, end };
}

/**
 * `Content-Disposition` for a download, formatted by `content-disposition` (the library Express
 * uses). The name is reduced first to its last path part in safe ASCII (no quotes, slashes,
 * control characters or leading dots), so the header is the same plain `filename="…"` on every
 * client.
 * @internal
 */
export function contentDisposition(fileName: string): string {
  const base = fileName.split(/[\\/]/).pop() ?? 'export';
  const ascii = base.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^\.+/, '').slice(0, 120) || 'export';
  return formatContentDisposition(ascii, { type: 'attachment' });
}
