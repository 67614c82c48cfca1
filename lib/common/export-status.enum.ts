/**
 * Lifecycle of one export.
 *
 * `pending` → `confirmed` → `processing` → `completed` → `expired`; or `failed`, `cancelled`.
 * @publicApi
 */
export enum ExportStatus {
  /** Requested, awaiting email confirmation. */
  Pending = 'pending',
  /** Confirmed and queued for processing. */
  Confirmed = 'confirmed',
  /** A worker is building the archive. */
  Processing = 'processing',
  /** Ready for download until `expiresAt`. */
  Completed = 'completed',
  /** The download window ended (or the confirmation link expired); the file is gone. */
  Expired = 'expired',
  /** The job gave up; see `error`. */
  Failed = 'failed',
  /** Cancelled before it completed. */
  Cancelled = 'cancelled',
}

/** Archive formats. @publicApi */
export enum ExportFormat {
  /** A ZIP of NDJSON files, schemas, manifest and README. */
  Zip = 'zip',
  /** One streamed JSON document `{ exportVersion, accountId, exportedAt, data, summary }`. */
  Json = 'json',
  /** The JSON document, gzipped (`.json.gz`, `application/gzip`). */
  JsonGzip = 'json.gz',
  /** A ZIP of RFC 4180 CSV files (one per category), schemas, manifest and README (`.csv.zip`). */
  Csv = 'csv',
}

/** Every archive format, in the order they are documented. @publicApi */
export const EXPORT_FORMATS: readonly ExportFormat[] = Object.values(ExportFormat);

/** Statuses that hold the account's single active slot (downloadable completed included). */
export const ACTIVE_EXPORT_STATUSES: readonly ExportStatus[] = [
  ExportStatus.Pending,
  ExportStatus.Confirmed,
  ExportStatus.Processing,
  ExportStatus.Completed,
];

/**
 * What an export is of: the whole account (`'account'`, the owner/admin export) or the data
 * about one member (`'personal'`).
 * @publicApi
 */
export type ExportKind = 'account' | 'personal';

/** Every export kind, in the order the API lists them. @publicApi */
export const EXPORT_KINDS: readonly ExportKind[] = ['account', 'personal'];
