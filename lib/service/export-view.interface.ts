import type { ExportFilters } from '../entities/data-export.entity';
import type { ExportFormat, ExportStatus } from '../enums/export-status.enum';

/**
 * What clients see of an export (HTTP responses, events). Never holds a secret.
 * @publicApi
 */
export interface ExportView {
  id: string;
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
  downloadCount: number;
  lastDownloadedAt: string | null;
  /**
   * A fresh signed link while the export is completed and downloadable; present only in
   * `ExportService.get()` / `list()` answers, never in events.
   */
  downloadUrl?: string;
}
