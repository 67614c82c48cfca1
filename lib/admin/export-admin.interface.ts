import type { ExportStatus } from '../common/export-status.enum';
import type { ExportAuditType } from '../entities/data-export-event.entity';
import type { ExportKind } from '../interfaces/export-principal.interface';
import type { ExportView } from '../interfaces/export-view.interface';
import type { RequestExportInput } from '../interfaces/request-export.interface';

/**
 * Who performs an admin action: the operator's user id, or an object with it (and, for
 * `requestFor`, the address the ready message of an account export goes to, and the role the
 * request is checked with: `'owner'` by default). Recorded as the audit record's `actor`.
 * @publicApi
 */
export type ExportActor = string | { userId: string; email?: string; role?: string };

/** Filters of `ExportAdminService.list`. @publicApi */
export interface ExportAdminListQuery {
  status?: ExportStatus | `${ExportStatus}`;
  accountId?: string;
  kind?: ExportKind;
  /** Requested at or after (a Date or an ISO-8601 string). */
  from?: Date | string;
  /** Requested before (a Date or an ISO-8601 string). */
  to?: Date | string;
  /** Items per page, 1 to 200. @default 50 */
  limit?: number;
  /** The `nextCursor` of the previous page. */
  cursor?: string;
}

/** An export as an operator sees it: its view (never a download link) and its account. @publicApi */
export interface ExportAdminItem extends Omit<ExportView, 'downloadUrl'> {
  accountId: string;
}

/** One page of `ExportAdminService.list`, newest first. @publicApi */
export interface ExportAdminPage {
  items: ExportAdminItem[];
  /** Pass it as `cursor` for the next page; `null` on the last one. */
  nextCursor: string | null;
}

/** What `ExportAdminService.requestFor` takes: a request, the account (and member) it is for. @publicApi */
export interface ExportAdminRequestInput extends Omit<RequestExportInput, 'kind' | 'userId'> {
  accountId: string;
  /** The member a personal export is about (through `ExportPolicy.resolveSubject`); none for an account export. */
  userId?: string;
  /** Skips the policy's request rules (cooldown, custom refusals); the reason is recorded in the audit trail. */
  override?: { reason: string };
}

/** One record of the audit trail. @publicApi */
export interface ExportAuditRecord {
  /** ISO-8601. */
  at: string;
  type: ExportAuditType;
  /** User id of who did it, `'system'` (worker, sweeper) or `'anonymous'` (a download by link alone). */
  actor: string;
  exportId: string;
  accountId: string;
  ip?: string;
  userAgent?: string;
  detail?: Record<string, unknown>;
}
