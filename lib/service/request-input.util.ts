import { EXPORT_FORMATS, ExportFormat } from '../common/export-status.enum';
import { ExportInvalidRequestException } from '../common/export.exception';
import type { ExportFilters } from '../entities/data-export.entity';
import type { RequestExportInput } from '../interfaces/request-export.interface';
import { EXPORT_KINDS, type ExportKind } from '../interfaces/export-principal.interface';
import { fitsIdColumn } from './principal.util';

/**
 * Checks a request's format, categories and dates, as every caller of `ExportService.request()`
 * gets them checked, and returns the export's format and filters.
 * @throws ExportInvalidRequestException naming what is wrong and what is valid
 * @internal
 */
export function validateRequestInput(input: RequestExportInput, valid: string[]): { format: ExportFormat; filters: ExportFilters } {
  const format = input.format ?? ExportFormat.Zip;
  if (!EXPORT_FORMATS.includes(format as ExportFormat)) {
    const names = EXPORT_FORMATS.map((f) => `"${f}"`).join(' or ');
    throw new ExportInvalidRequestException(`format must be ${names}.`, { validFormats: [...EXPORT_FORMATS] });
  }
  const categories = input.categories;
  if (categories !== undefined) {
    const unknown = Array.isArray(categories) ? categories.filter((c) => !valid.includes(c)) : [];
    if (!Array.isArray(categories) || unknown.length > 0 || categories.length === 0) {
      const what = unknown.length > 0 ? `Unknown categories: ${unknown.map((c) => JSON.stringify(String(c).slice(0, 64))).join(', ')}.` : 'categories must be a non-empty list.';
      throw new ExportInvalidRequestException(`${what} Valid categories: ${valid.join(', ')}.`, { validCategories: valid });
    }
  }
  const since = parseDate('since', input.since);
  const until = parseDate('until', input.until);
  if (since && until && since >= until) {
    throw new ExportInvalidRequestException('"since" must be before "until".');
  }
  const filters: ExportFilters = {};
  if (categories) filters.categories = [...new Set(categories)];
  if (since) filters.since = since.toISOString();
  if (until) filters.until = until.toISOString();
  if (input.includeDeleted === true) filters.includeDeleted = true;
  return { format: format as ExportFormat, filters };
}

/**
 * The kind a request asks for (`account` by default) and, for a personal export, the member it
 * names (`userId`, on their behalf), checked before any principal rule: a `userId` only goes with
 * `kind: 'personal'` and must fit the id columns.
 * @throws ExportInvalidRequestException
 * @internal
 */
export function validateRequestKind(input: RequestExportInput): { kind: ExportKind; userId?: string } {
  const kind = input.kind ?? 'account';
  if (!EXPORT_KINDS.includes(kind as ExportKind)) {
    throw new ExportInvalidRequestException(`kind must be ${EXPORT_KINDS.map((k) => `"${k}"`).join(' or ')}.`, { validKinds: [...EXPORT_KINDS] });
  }
  const userId = input.userId;
  if (userId === undefined || userId === null) return { kind: kind as ExportKind };
  if (kind !== 'personal') throw new ExportInvalidRequestException('"userId" goes with kind "personal": the member whose data to export.');
  if (typeof userId !== 'string' || userId.length === 0 || !fitsIdColumn(userId)) {
    throw new ExportInvalidRequestException('"userId" must be a user id (at most 191 characters).');
  }
  return { kind: 'personal', userId };
}

function parseDate(name: string, value: unknown): Date | undefined {
  if (value === undefined || value === null) return undefined;
  const date = typeof value === 'string' ? new Date(value) : new Date(NaN);
  if (Number.isNaN(date.getTime())) {
    throw new ExportInvalidRequestException(`"${name}" must be an ISO-8601 date.`);
  }
  return date;
}
