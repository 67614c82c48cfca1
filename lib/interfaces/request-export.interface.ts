import type { ExportFormat } from '../common/export-status.enum';
import type { ExportKind } from './export-principal.interface';

/**
 * What a principal asks for. Every field is optional: the default is every category of the
 * account, as ZIP.
 * @publicApi
 */
export interface RequestExportInput {
  /**
   * `'account'` (default): the whole account, by an owner or admin. `'personal'`: only the
   * categories marked `personal`, each filtered to one member: the principal themselves (any
   * role), or `userId` when an owner or admin asks on a member's behalf.
   * @default 'account'
   */
  kind?: ExportKind | string;
  /** With `kind: 'personal'`: the member to export on behalf of (owners and admins only). */
  userId?: string;
  format?: ExportFormat | `${ExportFormat}`;
  categories?: string[];
  /** ISO-8601; rows whose timestamp column is at or after it. */
  since?: string;
  /** ISO-8601; rows whose timestamp column is before it. */
  until?: string;
  includeDeleted?: boolean;
}
