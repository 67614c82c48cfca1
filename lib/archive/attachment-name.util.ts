import { deflateRawSync } from 'node:zlib';

/** Longest name of an attachment, in UTF-8 bytes (most file systems allow 255). */
const MAX_NAME_BYTES = 200;
/** Characters no file name may hold on Windows, macOS or Linux, and the controls (C0, DEL, C1). */
const RESERVED = /[\u0000-\u001f\u007f-\u009f<>:"/\\|?*\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
/** Names Windows reserves for devices, whatever their extension. */
const DEVICE = /^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?$/i;

/** Cuts `text` to at most `bytes` UTF-8 bytes, never inside a character. */
function cutUtf8(text: string, bytes: number): string {
  let out = '';
  let used = 0;
  for (const ch of text) {
    const size = Buffer.byteLength(ch, 'utf8');
    if (used + size > bytes) break;
    out += ch;
    used += size;
  }
  return out;
}

/**
 * A file name safe to extract anywhere: one path segment (no `/`, `\`, `..`, drive or absolute
 * path), no control, bidirectional-override or reserved characters (each becomes `_`), no leading
 * or trailing dots or spaces, no Windows device name, at most 200 UTF-8 bytes with the extension
 * kept; non-ASCII letters are kept (NFC). An empty result becomes `file`.
 * @internal
 */
export function safeFileName(name: unknown): string {
  let safe = String(name ?? '').normalize('NFC').replace(RESERVED, '_');
  safe = safe.replace(/^[\s.]+/, '').replace(/[\s.]+$/, '');
  if (safe === '') safe = 'file';
  if (DEVICE.test(safe)) safe = `_${safe}`;
  if (Buffer.byteLength(safe, 'utf8') > MAX_NAME_BYTES) {
    const dot = safe.lastIndexOf('.');
    const ext = dot > 0 && safe.length - dot <= 16 ? safe.slice(dot) : '';
    safe = cutUtf8(safe.slice(0, safe.length - ext.length), MAX_NAME_BYTES - Buffer.byteLength(ext, 'utf8')).replace(/[\s.]+$/, '') + ext;
  }
  return safe;
}

/**
 * Gives each name of a row a distinct one (compared case-insensitively, as macOS and Windows
 * do): a repeated `a.png` becomes `a (2).png`.
 * @internal
 */
export function uniqueFileName(name: string, taken: Set<string>): string {
  let candidate = name;
  const dot = name.lastIndexOf('.');
  const [stem, ext] = dot > 0 ? [name.slice(0, dot), name.slice(dot)] : [name, ''];
  for (let n = 2; taken.has(candidate.toLowerCase()); n++) {
    const suffix = ` (${n})`;
    candidate = cutUtf8(stem, MAX_NAME_BYTES - Buffer.byteLength(suffix + ext, 'utf8')) + suffix + ext;
  }
  taken.add(candidate.toLowerCase());
  return candidate;
}

const COMPRESSED_TYPES =
  /^(image\/(png|jpe?g|gif|webp|avif|hei[cf]|jp2|jxl)|video\/.*|audio\/(mpeg|mp4|aac|ogg|opus|webm|flac)|font\/woff2?|application\/(pdf|zip|gzip|x-gzip|x-7z-compressed|x-rar-compressed|vnd\.rar|x-bzip2|x-xz|zstd|x-zstd|epub\+zip|java-archive|vnd\.openxmlformats-officedocument\..*|vnd\.oasis\.opendocument\..*))$/i;

/**
 * Whether a file is better stored than deflated: its content type is an already-compressed one
 * (images, video, most audio, PDF, archives, Office documents), or, without one that says so,
 * deflating its first bytes (up to 64 KiB, at level 1) saves less than 3 %.
 * @internal
 */
export function isCompressed(contentType: string | undefined, head: Buffer): boolean {
  const type = contentType?.split(';')[0].trim();
  if (type && COMPRESSED_TYPES.test(type)) return true;
  if (head.length < 512) return false;
  return deflateRawSync(head, { level: 1 }).length > head.length * 0.97;
}
