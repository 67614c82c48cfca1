import { ExportError } from './export.error';
import { ExportMessages } from './export.messages';

/**
 * An error's class and code (`Error ENOSPC`, `QueryFailedError 57014`): the only parts of a
 * foreign error (a driver's, a storage's) safe to store and show, since its message can quote
 * row values, paths or credentials.
 * @internal
 */
export function failureReason(err: unknown): string {
  const e = err as { name?: unknown; code?: unknown } | null;
  const name = typeof e?.name === 'string' && /^[A-Za-z][A-Za-z0-9]{0,39}$/.test(e.name) ? e.name : 'Error';
  const code = typeof e?.code === 'string' || typeof e?.code === 'number' ? String(e.code) : '';
  return /^[A-Za-z0-9_.-]{1,32}$/.test(code) ? `${name} ${code}` : name;
}

/**
 * A failure message safe to store and show: our own messages as they are; for anything else
 * (driver errors can quote row values) only the error's class and code.
 * @internal
 */
export function describeFailure(err: unknown, category?: string): string {
  if (err instanceof ExportError) return err.message;
  const reason = failureReason(err);
  return category ? ExportMessages.categoryFailed(category, reason) : ExportMessages.archiveFailed(reason);
}
