import type { DataExportDownload } from '../entities/data-export-download.entity';
import type { DataExport } from '../entities/data-export.entity';
import { ExportStatus } from '../common/export-status.enum';
import { ARCHIVE_MISSING_MESSAGE } from '../common/export.exception';
import type { ExportRequester } from '../notifier/export.notifier';
import type { ExportEndReason, ExportView } from '../interfaces/export-view.interface';

/**
 * The client view of an export row (no storage key, no requester email). Numbers are made
 * numbers here: a row just inserted on PostgreSQL holds the database's defaults as it returned
 * them (bigint as a string), before any transformer. `downloads` is added when given.
 * @internal
 */
export function toExportView(row: DataExport, downloads?: DataExportDownload[]): ExportView {
  const iso = (d: Date | null | undefined) => (d ? d.toISOString() : null);
  const view: ExportView = {
    id: row.id,
    kind: row.kind === 'personal' ? 'personal' : 'account',
    subject: row.kind === 'personal' && row.subjectUserId ? { userId: row.subjectUserId } : null,
    status: row.status,
    format: row.format,
    filters: row.filters ?? {},
    progress: {
      percent: toNumber(row.percent) ?? 0,
      rowsDone: toNumber(row.rowsDone) ?? 0,
      rowsEstimated: toNumber(row.rowsEstimated),
      category: row.currentCategory ?? null,
    },
    counts: row.counts ? Object.fromEntries(Object.entries(row.counts).map(([k, v]) => [k, toNumber(v) ?? 0])) : null,
    size: toNumber(row.size),
    sha256: row.sha256 ?? null,
    error: row.error ?? null,
    requestedBy: row.requestedBy,
    createdAt: row.createdAt.toISOString(),
    confirmedAt: iso(row.confirmedAt),
    startedAt: iso(row.startedAt),
    completedAt: iso(row.completedAt),
    expiresAt: iso(row.expiresAt),
    reason: endReason(row),
    deletedAt: iso(row.deletedAt),
    deletedBy: row.deletedBy ?? null,
    attempts: toNumber(row.attempts) ?? 0,
    downloadCount: toNumber(row.downloadCount) ?? 0,
    lastDownloadedAt: iso(row.lastDownloadedAt),
    notifiedUserId: row.completedAt ? recipientOf(row).userId : null,
  };
  if (downloads) view.downloads = downloads.map((d) => ({ at: d.at.toISOString(), ip: d.ip ?? null }));
  return view;
}

/** Why an expired export ended, read from what its row recorded. */
function endReason(row: DataExport): ExportEndReason | null {
  if (row.status !== ExportStatus.Expired) return null;
  if (row.deletedAt) return 'deleted';
  if (row.error === ARCHIVE_MISSING_MESSAGE) return 'archive-missing';
  if (!row.confirmedAt) return 'unconfirmed';
  return 'expired';
}

function toNumber(value: unknown): number | null {
  if (value === null || value === undefined) return null;
  const n = Number(value);
  return Number.isFinite(n) ? n : null;
}

/** Who asked for an export: the confirmation link and a failure go to them. @internal */
export function requesterOf(row: DataExport): ExportRequester {
  return { userId: row.requestedBy, accountId: row.accountId, email: row.requesterEmail };
}

/**
 * Who the ready message goes to: the member a personal export is about (also when an owner or
 * admin asked on their behalf; `requestedBy` then says who asked), else the requester.
 * @internal
 */
export function recipientOf(row: DataExport): ExportRequester {
  if (row.kind !== 'personal' || !row.subjectUserId || row.subjectUserId === row.requestedBy) {
    return row.kind === 'personal' ? { ...requesterOf(row), email: row.subjectEmail ?? row.requesterEmail } : requesterOf(row);
  }
  return { userId: row.subjectUserId, accountId: row.accountId, email: row.subjectEmail, requestedBy: row.requestedBy };
}
