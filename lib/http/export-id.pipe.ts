import { Injectable, PipeTransform } from '@nestjs/common';
import { ExportNotFoundException } from '../common/export.exception';

import { isExportId } from '../common/export-id.util';

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
