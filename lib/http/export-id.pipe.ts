import { Injectable, PipeTransform } from '@nestjs/common';
import { ExportNotFoundException } from '../exceptions/export.exception';

/** The form of `DataExport.id` (`randomUUID()`, 36 characters). */
const EXPORT_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Whether a value can be an export's id. @internal */
export function isExportId(value: unknown): value is string {
  return typeof value === 'string' && EXPORT_ID.test(value);
}

/**
 * Answers an `:id` that cannot be an export's id (a NUL byte, 300 characters, `..`) as an
 * unknown export (404), before any query sees it: PostgreSQL refuses NUL bytes in text with an
 * error of its own.
 * @internal
 */
@Injectable()
export class ParseExportIdPipe implements PipeTransform<unknown, string> {
  transform(value: unknown): string {
    if (!isExportId(value)) throw new ExportNotFoundException();
    return value;
  }
}
