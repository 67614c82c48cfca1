import type { DataExport } from '../entities/data-export.entity';
import type { ExportRequester } from '../notifier/export.notifier';
import type { ExportView } from './export-view.interface';

/** The client view of an export row (no storage key, no requester email). @internal */
export function toExportView(row: DataExport): ExportView {
  const iso = (d: Date | null | undefined) => (d ? d.toISOString() : null);
  return {
    id: row.id,
    status: row.status,
    format: row.format,
    filters: row.filters ?? {},
    progress: {
      percent: row.percent ?? 0,
      rowsDone: row.rowsDone ?? 0,
      rowsEstimated: row.rowsEstimated ?? null,
      category: row.currentCategory ?? null,
    },
    counts: row.counts ?? null,
    size: row.size ?? null,
    sha256: row.sha256 ?? null,
    error: row.error ?? null,
    requestedBy: row.requestedBy,
    createdAt: row.createdAt.toISOString(),
    confirmedAt: iso(row.confirmedAt),
    startedAt: iso(row.startedAt),
    completedAt: iso(row.completedAt),
    expiresAt: iso(row.expiresAt),
    downloadCount: row.downloadCount ?? 0,
    lastDownloadedAt: iso(row.lastDownloadedAt),
  };
}

/** Who to notify about an export. @internal */
export function requesterOf(row: DataExport): ExportRequester {
  return { userId: row.requestedBy, accountId: row.accountId, email: row.requesterEmail };
}
