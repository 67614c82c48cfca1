import type { ExportFormat } from '../common/export-status.enum';

/**
 * What a principal asks for. Every field is optional: the default is every category, as ZIP.
 * @publicApi
 */
export interface RequestExportInput {
  format?: ExportFormat | `${ExportFormat}`;
  categories?: string[];
  /** ISO-8601; rows whose timestamp column is at or after it. */
  since?: string;
  /** ISO-8601; rows whose timestamp column is before it. */
  until?: string;
  includeDeleted?: boolean;
}
