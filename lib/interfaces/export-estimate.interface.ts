import type { ExportFormat } from '../common/export-status.enum';

/** One category of an estimate. @publicApi */
export interface ExportCategoryEstimate {
  /**
   * Rows the export would hold; `null` when it cannot be known beforehand (an `@Exporter()`
   * without `count()`).
   */
  rows: number | null;
  /**
   * `true`: counted (through an index, or the table is small enough to count cheaply);
   * `false`: the database planner's estimate, or the exporter's own `count()`.
   */
  exact: boolean;
  /** Approximate bytes of the category in the archive (before ZIP/gzip compression); `null` with `rows`. */
  bytes: number | null;
}

/**
 * How big an export would be, before it is requested (`ExportService.estimate()`,
 * `GET /exports/estimate`). Obtained from index counts and the database's statistics, never by
 * reading the rows: `bytes` is approximate.
 * @publicApi
 */
export interface ExportEstimate {
  format: ExportFormat;
  /** Per category, in archive order. */
  categories: Record<string, ExportCategoryEstimate>;
  /** Rows of every category whose rows are known. */
  rows: number;
  /** Approximate size of the archive to download, in bytes (compressed for `zip` and `json.gz`). */
  bytes: number;
  /** `true` only when every category's rows were counted. */
  exact: boolean;
}
