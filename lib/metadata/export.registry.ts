import { Injectable } from '@nestjs/common';
import type { EntityCategory, ExportCategory, PlannedCategory } from './export-category.interface';

/**
 * Read-only view of every category the export knows, in archive order. Filled at boot by the
 * explorer.
 * @publicApi
 */
@Injectable()
export class ExportRegistry {
  private categories: PlannedCategory[] = [];

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
  setCategories(categories: PlannedCategory[]): void {
    this.categories = [...categories].sort((a, b) => a.order - b.order || a.name.localeCompare(b.name));
  }
}
