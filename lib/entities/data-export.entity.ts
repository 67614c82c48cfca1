import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { ExportFormat, ExportStatus } from '../common/export-status.enum';
import { DataExportDownload } from './data-export-download.entity';
import { DataExportEvent } from './data-export-event.entity';
import type { ExportKind } from '../common/export-status.enum';

/** Filters an export was requested with. @publicApi */
export interface ExportFilters {
  categories?: string[];
  since?: string;
  until?: string;
  includeDeleted?: boolean;
}

/** Integer columns read back as numbers on every driver (bigint arrives as a string). */
const numeric = { to: (v: number | null) => v, from: (v: unknown) => (v === null || v === undefined ? null : Number(v)) };

/**
 * One export request and its state. Add it to the host DataSource with `DATA_EXPORT_ENTITIES`.
 * @publicApi
 */
@Entity('data_exports')
@Index('IDX_data_exports_account_created', ['accountId', 'createdAt'])
@Index('IDX_data_exports_status', ['status'])
export class DataExport {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id: string;

  @Column({ type: 'varchar', length: 191 })
  accountId: string;

  @Column({ type: 'varchar', length: 191 })
  requestedBy: string;

  @Column({ type: 'varchar', length: 320, nullable: true })
  requesterEmail: string | null;

  /** `'account'` (the whole account) or `'personal'` (the data about `subjectUserId`). */
  @Column({ type: 'varchar', length: 16, default: 'account' })
  kind: ExportKind;

  /** The member a personal export is about (the requester, or the member asked for on their behalf); `null` for an account export. */
  @Column({ type: 'varchar', length: 191, nullable: true })
  subjectUserId: string | null;

  /** Where a personal export's ready message goes: the member's address; `null` for an account export. */
  @Column({ type: 'varchar', length: 320, nullable: true })
  subjectEmail: string | null;

  @Column({ type: 'varchar', length: 16 })
  status: ExportStatus;

  @Column({ type: 'varchar', length: 8, default: ExportFormat.Zip })
  format: ExportFormat;

  @Column({ type: 'simple-json', nullable: true })
  filters: ExportFilters | null;

  /**
   * Holds the slot while the export occupies it, `null` otherwise: the account id for an account
   * export, a digest of (account, kind, member) for a personal one. A unique index on it lets the
   * database refuse a second active export of one slot.
   */
  @Index('UQ_data_exports_active_slot', { unique: true })
  @Column({ type: 'varchar', length: 191, nullable: true })
  activeSlot: string | null;

  @Column({ type: 'varchar', length: 64, nullable: true })
  currentCategory: string | null;

  @Column({ type: 'bigint', default: 0, transformer: numeric })
  rowsDone: number;

  @Column({ type: 'bigint', nullable: true, transformer: numeric })
  rowsEstimated: number | null;

  @Column({ type: 'integer', default: 0 })
  percent: number;

  /** Rows per category once completed. */
  @Column({ type: 'simple-json', nullable: true })
  counts: Record<string, number> | null;

  /** Size in bytes of the archive a user downloads. */
  @Column({ type: 'bigint', nullable: true, transformer: numeric })
  size: number | null;

  /** SHA-256 (hex) of the archive a user downloads; also its ETag. */
  @Column({ type: 'varchar', length: 64, nullable: true })
  sha256: string | null;

  @Column({ type: 'varchar', length: 255, nullable: true })
  storageKey: string | null;

  /** How the stored file is encrypted at rest (`aes-256-gcm-stream-v1`), or `null` when plain. */
  @Column({ type: 'varchar', length: 32, nullable: true })
  encryption: string | null;

  /** Why it failed; never holds row data or secrets. */
  @Column({ type: 'varchar', length: 1000, nullable: true })
  error: string | null;

  @Column({ type: 'integer', default: 0 })
  attempts: number;

  @Column({ type: 'integer', default: 0 })
  downloadCount: number;

  @Column({ type: Date, precision: 3, nullable: true })
  lastDownloadedAt: Date | null;

  @Column({ type: Date, precision: 3, nullable: true })
  heartbeatAt: Date | null;

  @Column({ type: Date, precision: 3 })
  createdAt: Date;

  @Column({ type: Date, precision: 3, nullable: true })
  confirmedAt: Date | null;

  @Column({ type: Date, precision: 3, nullable: true })
  startedAt: Date | null;

  @Column({ type: Date, precision: 3, nullable: true })
  completedAt: Date | null;

  @Column({ type: Date, precision: 3, nullable: true })
  expiresAt: Date | null;

  /** When a member deleted the completed export early (`ExportService.cancel`), or `null`. */
  @Column({ type: Date, precision: 3, nullable: true })
  deletedAt: Date | null;

  /** User id of the member who deleted it early, or `null`. */
  @Column({ type: 'varchar', length: 191, nullable: true })
  deletedBy: string | null;
}

/**
 * Entities to add to the host's DataSource.
 * @publicApi
 */
export const DATA_EXPORT_ENTITIES = [DataExport, DataExportDownload, DataExportEvent];
