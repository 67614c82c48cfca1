import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * What an audit record says happened to an export. Lifecycle: `requested`, `confirmed`,
 * `started`, `completed`, `failed`, `requeued`, `downloaded`, `deleted` (a member deleted a
 * completed export early), `expired`, `cancelled`, `instant-downloaded` (an instant download
 * started: its `exportId` is the archive's manifest id, with no `data_exports` row). Operator actions (`ExportAdminService`):
 * `admin.force-expired`, `admin.retried`, `admin.cancelled`, `admin.requested`.
 * @publicApi
 */
export type ExportAuditType =
  | 'requested'
  | 'confirmed'
  | 'started'
  | 'completed'
  | 'failed'
  | 'requeued'
  | 'downloaded'
  | 'deleted'
  | 'expired'
  | 'cancelled'
  | 'instant-downloaded'
  | 'admin.force-expired'
  | 'admin.retried'
  | 'admin.cancelled'
  | 'admin.requested';

/**
 * One record of the audit trail (`data_export_events`): what happened to an export, when, who
 * did it and, for a download, from which address and client. Append-only; the sweeper prunes
 * records older than `audit.retention`. It never holds a token, a link, row data or a key.
 * @publicApi
 */
@Entity('data_export_events')
@Index('IDX_data_export_events_export_at', ['exportId', 'at'])
@Index('IDX_data_export_events_account_at', ['accountId', 'at'])
@Index('IDX_data_export_events_at', ['at'])
export class DataExportEvent {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id: string;

  /** When it happened. */
  @Column({ type: Date, precision: 3 })
  at: Date;

  @Column({ type: 'varchar', length: 32 })
  type: ExportAuditType;

  @Column({ type: 'varchar', length: 36 })
  exportId: string;

  @Column({ type: 'varchar', length: 191 })
  accountId: string;

  /** User id of who did it (a member, or an operator for an admin action), or `'system'` (worker, sweeper). */
  @Column({ type: 'varchar', length: 191 })
  actor: string;

  /** The client address of a download (`req.ip`), or `null`. */
  @Column({ type: 'varchar', length: 64, nullable: true })
  ip: string | null;

  /** The `User-Agent` of a download (first 255 characters), or `null`. */
  @Column({ type: 'varchar', length: 255, nullable: true })
  userAgent: string | null;

  /** A small JSON detail: a download's range, an admin action's reason, a failure's reason. */
  @Column({ type: 'simple-json', nullable: true })
  detail: Record<string, unknown> | null;
}
