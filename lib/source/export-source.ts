import type { ExportFilters } from '../entities/data-export.entity';
import type { ExportSubject } from '../interfaces/export-principal.interface';
import type { PlannedCategory } from '../metadata/export-category.interface';
import type { CategorySource, NdjsonChunk } from './category-source';
import type { EntitySource } from './entity-source';
import { ExporterRowWriter, exporterFilters, exporterLines } from './exporter-lines';

/**
 * The rows of every category of one export: entity categories from the entity source (one
 * connection, one snapshot), exporter categories from their providers. The archive reads through
 * it alone.
 * @internal
 */
export class ExportSource implements CategorySource {
  private readonly writers = new Map<string, ExporterRowWriter>();

  constructor(
    private readonly entities: EntitySource,
    private readonly subject: ExportSubject,
    private readonly filters: ExportFilters,
  ) {}

  open(): Promise<void> {
    return this.entities.open();
  }

  close(failed = false): Promise<void> {
    return this.entities.close(failed);
  }

  async count(category: PlannedCategory): Promise<number> {
    if (category.kind === 'entity') return this.entities.count(category);
    const count = await category.exporter.count?.(this.subject, exporterFilters(this.filters));
    return typeof count === 'number' && Number.isFinite(count) && count >= 0 ? count : 0;
  }

  ndjson(category: PlannedCategory): AsyncIterable<NdjsonChunk> {
    if (category.kind === 'entity') return this.entities.ndjson(category);
    const writer = new ExporterRowWriter(category);
    this.writers.set(category.name, writer);
    return exporterLines(category, this.subject, this.filters, writer);
  }

  csv(category: PlannedCategory, options: { neutralizeFormulas: boolean }): AsyncIterable<Buffer> | undefined {
    return category.kind === 'entity' ? this.entities.csv(category, options) : undefined;
  }

  learnedSchema(category: PlannedCategory): Record<string, unknown> | undefined {
    if (category.kind !== 'exporter' || category.schema) return undefined;
    return this.writers.get(category.name)?.schema();
  }
}
