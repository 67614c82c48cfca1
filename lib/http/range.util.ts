import type { ByteRange } from '../storage/export.storage';

/**
 * Parses a single-range `Range` header against a size. Returns `undefined` when the header is
 * absent or not one we serve partially (multiple ranges, other units: the whole file is sent),
 * and `'unsatisfiable'` when the range lies outside the file.
 * @internal
 */
export function parseRange(header: unknown, size: number): ByteRange | 'unsatisfiable' | undefined {
  if (typeof header !== 'string') return undefined;
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match || (match[1] === '' && match[2] === '')) return undefined;
  if (size === 0) return 'unsatisfiable';
  if (match[1] === '') {
    const suffix = Number(match[2]);
    if (!Number.isSafeInteger(suffix) || suffix === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(match[1]);
  const last = match[2] === '' ? Infinity : Number(match[2]);
  // `bytes=5-2` is not a valid range: the header is ignored (RFC 9110 §14.1.1).
  if (!Number.isSafeInteger(start) || last < start) return undefined;
  if (start >= size) return 'unsatisfiable';
  return { start, end: Math.min(last, size - 1) };
}

/**
 * `Content-Disposition` for a download: an ASCII-only quoted file name (no quotes, slashes,
 * control characters or path parts) plus the RFC 5987 form.
 * @internal
 */
export function contentDisposition(fileName: string): string {
  const base = fileName.split(/[\\/]/).pop() ?? 'export';
  const ascii = base.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^\.+/, '').slice(0, 120) || 'export';
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(ascii)}`;
}
