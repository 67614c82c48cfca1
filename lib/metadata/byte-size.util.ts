const UNITS: Record<string, number> = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 };

/** `@ExportFile`'s default `maxBytes`: 50 MiB. @internal */
export const DEFAULT_FILE_MAX_BYTES = 50 * 1024 ** 2;
/** `@ExportFile`'s default `stallTimeout`. @internal */
export const DEFAULT_FILE_STALL_MS = 60_000;

/**
 * Parses a size: a positive integer of bytes, or `'50MB'`, `'512KB'`, `'2GB'` (binary units:
 * 1 MB = 1024² bytes). `undefined` when it is not one.
 * @internal
 */
export function parseByteSize(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value > 0 ? value : undefined;
  if (typeof value !== 'string') return undefined;
  const match = /^(\d+(?:\.\d+)?)\s*(b|kb|mb|gb)$/i.exec(value.trim());
  if (!match) return undefined;
  const bytes = Math.floor(Number(match[1]) * UNITS[match[2].toLowerCase()]);
  return bytes > 0 ? bytes : undefined;
}
