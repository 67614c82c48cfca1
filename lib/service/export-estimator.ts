import { Inject, Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { ExportFormat } from '../common/export-status.enum';
import { EXPORT_DATA_SOURCE } from '../common/export.internal-constants';
import { withTimeout } from '../common/timeout.util';
import type { ExportFilters } from '../entities/data-export.entity';
import type { ExportCategoryEstimate, ExportEstimate } from '../interfaces/export-estimate.interface';
import type { ExportKind, ExportSubject } from '../interfaces/export-principal.interface';
import type { EntityCategory, ExporterCategory, PlannedCategory } from '../metadata/export-category.interface';
import { ExportRegistry } from '../metadata/export.registry';
import { estimateEntityRows } from '../source/entity-estimate.util';
import { exporterFilters } from '../source/exporter-lines';

/**
 * Deflate's output over NDJSON/JSON input, as a fraction: what typical exported rows (ids,
 * timestamps, short texts) compress to at the default level (the bench's messages: 0.24). An
 * approximation by nature.
 * @internal
 */
export const COMPRESSION_RATIO = 0.25;
/** Bytes of an exporter row, which no database statistics describe. */
const EXPORTER_LINE_BYTES = 200;
/** How long an exporter's `count()` may take before its rows are reported unknown. */
const EXPORTER_COUNT_TIMEOUT_MS = 1500;
/** README, manifest and schemas of a ZIP, and its entry headers: a fixed part and a part per category. */
const ZIP_FIXED_BYTES = 2500;
const ZIP_CATEGORY_BYTES = 900;
/** The JSON document's head and summary, and per category its key and brackets. */
const JSON_FIXED_BYTES = 400;
const JSON_CATEGORY_BYTES = 60;

/**
 * Estimates an export before it is requested: rows per category from index counts or the
 * planner, sizes from the database's statistics (see `estimateEntityRows`), `count()` of
 * `@Exporter()` categories. The caller has checked the principal and the input.
 * @internal
 */
@Injectable()
export class ExportEstimator {
  constructor(
    @Inject(EXPORT_DATA_SOURCE) private readonly dataSource: DataSource,
    private readonly registry: ExportRegistry,
  ) {}

  /** The categories an export of this kind with these filters reads, in archive order (a personal export: the personal ones). */
  categories(filters: ExportFilters, kind: ExportKind = 'account'): PlannedCategory[] {
    const all = this.registry.getPlannedCategories().filter((c) => kind !== 'personal' || c.personal);
    const wanted = filters.categories;
    return wanted && wanted.length > 0 ? all.filter((c) => wanted.includes(c.name)) : [...all];
  }

  async estimate(subject: ExportSubject, format: ExportFormat, filters: ExportFilters): Promise<ExportEstimate> {
    const planned = this.categories(filters, subject.kind);
    const entities = planned.filter((c): c is EntityCategory => c.kind === 'entity');
    // Exporters answer on their own (a remote API, say): asked alongside the database.
    const exporterCounts = new Map(
      planned.filter((c): c is ExporterCategory => c.kind === 'exporter').map((c) => [c.name, this.exporterCount(c, subject, filters)] as const),
    );
    const counted = await estimateEntityRows(this.dataSource, subject, filters, entities);
    const categories: Record<string, ExportCategoryEstimate> = {};
    let rows = 0;
    let lineBytes = 0;
    let exact = true;
    for (const category of planned) {
      let estimate: ExportCategoryEstimate;
      if (category.kind === 'entity') {
        const e = counted.get(category.name)!;
        estimate = { rows: e.rows, exact: e.exact, bytes: e.rows * e.lineBytes };
      } else {
        const count = await exporterCounts.get(category.name);
        estimate = count === undefined ? { rows: null, exact: false, bytes: null } : { rows: count, exact: false, bytes: count * EXPORTER_LINE_BYTES };
      }
      categories[category.name] = estimate;
      rows += estimate.rows ?? 0;
      lineBytes += estimate.bytes ?? 0;
      exact &&= estimate.exact;
    }
    return { format, categories, rows, bytes: archiveBytes(format, lineBytes, rows, planned.length), exact };
  }

  /** An exporter's own count; `undefined` without one, or when it fails, is not a count, or takes too long. */
  private async exporterCount(category: ExporterCategory, subject: ExportSubject, filters: ExportFilters): Promise<number | undefined> {
    if (!category.exporter.count) return undefined;
    const count = await withTimeout(Promise.resolve(category.exporter.count(subject, exporterFilters(filters))), EXPORTER_COUNT_TIMEOUT_MS).catch(() => undefined);
    return typeof count === 'number' && Number.isFinite(count) && count >= 0 ? Math.round(count) : undefined;
  }
}

/** The archive's approximate size from its rows' NDJSON bytes. */
function archiveBytes(format: ExportFormat, lineBytes: number, rows: number, categories: number): number {
  if (format === ExportFormat.Zip) return Math.round(lineBytes * COMPRESSION_RATIO + ZIP_FIXED_BYTES + ZIP_CATEGORY_BYTES * categories);
  // In the JSON document each line ends in ",\n" rather than "\n".
  const json = lineBytes + rows + JSON_FIXED_BYTES + JSON_CATEGORY_BYTES * categories;
  return Math.round(format === ExportFormat.JsonGzip ? json * COMPRESSION_RATIO : json);
}
