import type { ExportFilters } from '../entities/data-export.entity';
import type { ExportFormat, ExportStatus } from '../common/export-status.enum';
import type { ExportKind } from './export-principal.interface';

/**
 * Why an `expired` export ended: `deleted` early by a member (see `deletedBy`), its download
 * window `expired`, `unconfirmed` before its confirmation link lapsed, or its stored archive
 * went missing (`archive-missing`).
 * @publicApi
 */
export type ExportEndReason = 'deleted' | 'expired' | 'unconfirmed' | 'archive-missing';

/** One download of an export's archive. @publicApi */
export interface ExportDownloadRecord {
  /** ISO-8601 time the download started. */
  at: string;
  /** The client address of the request (`req.ip`), or `null` when unknown. */
  ip: string | null;
}

/**
 * What clients see of an export (HTTP responses, events). Never holds a secret. Every number
 * is a JSON number on every database.
 * @publicApi
 */
export interface ExportView {
  id: string;
  /** `'account'` (the whole account) or `'personal'` (the data about `subject.userId`). */
  kind: ExportKind;
  /** The member a personal export is about; `null` for an account export. */
  subject: { userId: string } | null;
  status: ExportStatus;
  format: ExportFormat;
  filters: ExportFilters;
  progress: { percent: number; rowsDone: number; rowsEstimated: number | null; category: string | null };
  counts: Record<string, number> | null;
  size: number | null;
  sha256: string | null;
  error: string | null;
  /** User id of the requester. */
  requestedBy: string;
  createdAt: string;
  confirmedAt: string | null;
  startedAt: string | null;
  completedAt: string | null;
  expiresAt: string | null;
  /** Why an `expired` export ended; `null` in every other status. */
  reason: ExportEndReason | null;
  /** When a member deleted the completed export early, or `null`. */
  deletedAt: string | null;
  /** User id of the member who deleted it early, or `null`. */
  deletedBy: string | null;
  /** Runs started for this export (a retried run counts again). */
  attempts: number;
  /** Downloads started, in all (HEAD requests are not counted). */
  downloadCount: number;
  lastDownloadedAt: string | null;
  /**
   * User id the ready message was sent to once the export completed: the member, for a personal
   * export (also one asked for on their behalf), else the requester; `null` before completion.
   */
  notifiedUserId: string | null;
  /**
   * The latest downloads (at most 100, oldest first), with time and client address; present
   * only in `ExportService.get()` / `list()` / `cancel()` answers, never in events.
   */
  downloads?: ExportDownloadRecord[];
  /**
   * A fresh signed link while the export is completed and downloadable; present only in
   * `ExportService.get()` / `list()` answers, never in events.
   */
  downloadUrl?: string;
}
