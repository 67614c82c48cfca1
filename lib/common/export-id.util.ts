/** The form of `DataExport.id` (`randomUUID()`, 36 characters). */
const EXPORT_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Whether a value can be an export's id. Anything else (a NUL byte, 300 characters, `..`) is an
 * unknown export before any query sees it: PostgreSQL refuses NUL bytes in text with an error
 * of its own.
 * @internal
 */
export function isExportId(value: unknown): value is string {
  return typeof value === 'string' && EXPORT_ID.test(value);
}
