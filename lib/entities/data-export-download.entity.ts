import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * One download of an export's archive: a GET of its link that started sending bytes (a HEAD
 * does not count). Shown in the export's view as `downloads`.
 * @publicApi
 */
@Entity('data_export_downloads')
@Index('IDX_data_export_downloads_export_at', ['exportId', 'at'])
export class DataExportDownload {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id: string;

  /** The export downloaded (`DataExport.id`). */
  @Column({ type: 'varchar', length: 36 })
  exportId: string;

  /** When the download started. */
  @Column({ type: Date, precision: 3 })
  at: Date;

  /** The client address the request came from (`req.ip`: mind Express's `trust proxy`), or `null` when unknown. */
  @Column({ type: 'varchar', length: 64, nullable: true })
  ip: string | null;
}
