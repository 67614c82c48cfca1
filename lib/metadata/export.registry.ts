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
  private coverage: Pick<ExportNotIncluded, 'excluded' | 'notCovered' | 'notes'> = { excluded: [], notCovered: [], notes: [] };

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

  /** The categories a personal export reads (marked `personal`), in archive order. */
  getPersonalCategoryNames(): string[] {
    return this.categories.filter((c) => c.personal).map((c) => c.name);
  }

  /**
   * What an export of `categories` (all by default) leaves out: entities excluded on purpose and
   * not covered, the categories not asked for, redacted fields, and the host's notes (the
   * archive's "What is not included"). For a personal export (`personal`), the categories that
   * are not personal are listed as the account's own.
   */
  getNotIncluded(categories: readonly string[] = this.getCategoryNames(), personal = false): ExportNotIncluded {
    const asked = new Set(categories);
    return {
      ...this.coverage,
      // A personal export never reads the account's other categories: they are not "not requested".
      notRequested: this.categories.filter((c) => !asked.has(c.name) && (!personal || c.personal)).map((c) => c.name),
      ...(personal ? { accountOnly: this.categories.filter((c) => !c.personal).map((c) => c.name) } : {}),
      redactedFields: this.categories
        .filter((c) => asked.has(c.name))
        .flatMap((c) => c.omitted.map((o) => ({ category: c.name, field: o.key, reason: o.reason }))),
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
  setCoverage(coverage: Pick<ExportNotIncluded, 'excluded' | 'notCovered' | 'notes'>): void {
    this.coverage = coverage;
  }

  /** @internal */
  setCategories(categories: PlannedCategory[]): void {
    this.categories = [...categories].sort((a, b) => a.order - b.order || a.name.localeCompare(b.name));
  }
}
