import { Injectable } from '@nestjs/common';
import type { ExportNotIncluded } from '../interfaces/export-about.interface';
import type { EntityCategory, ExportCategory, PlannedCategory } from './export-category.interface';

/**
 * Read-only view of every category the export knows, in archive order. Filled at boot by the
 * explorer.
 * @publicApi
 */
@Injectable()
export class ExportRegistry {
  private categories: PlannedCategory[] = [];
  private coverage: Omit<ExportNotIncluded, 'redactedFields'> = { excluded: [], notCovered: [], notes: [] };

  /** Every category, ordered by `order` then name. */
  getCategories(): readonly ExportCategory[] {
    return this.categories;
  }

  getCategory(name: string): ExportCategory | undefined {
    return this.categories.find((c) => c.name === name);
  }

  getCategoryNames(): string[] {
    return this.categories.map((c) => c.name);
  }

  /**
   * What an export of every category leaves out: entities excluded on purpose and not covered,
   * redacted fields, and the host's notes (the archive's "What is not included").
   */
  getNotIncluded(): ExportNotIncluded {
    return {
      ...this.coverage,
      redactedFields: this.categories.flatMap((c) => c.omitted.map((o) => ({ category: c.name, field: o.key, reason: o.reason }))),
    };
  }

  /** @internal Every category with the plan its rows are read by, in archive order. */
  getPlannedCategories(): readonly PlannedCategory[] {
    return this.categories;
  }

  /** @internal The categories of entity rows. */
  getEntityCategories(): EntityCategory[] {
    return this.categories.filter((c): c is EntityCategory => c.kind === 'entity');
  }

  /** @internal */
  getEntityCategory(name: string): EntityCategory | undefined {
    return this.getEntityCategories().find((c) => c.name === name);
  }

  /** @internal */
  setCoverage(coverage: Omit<ExportNotIncluded, 'redactedFields'>): void {
    this.coverage = coverage;
  }

  /** @internal */
  setCategories(categories: PlannedCategory[]): void {
    this.categories = [...categories].sort((a, b) => a.order - b.order || a.name.localeCompare(b.name));
  }
}
