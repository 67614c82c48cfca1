import { Injectable } from '@nestjs/common';
import type { EntityCategory, ExportCategory } from './export-category.interface';

/**
 * Read-only view of every category the export knows, in archive order. Filled at boot by the
 * explorer.
 * @publicApi
 */
@Injectable()
export class ExportRegistry {
  private categories: EntityCategory[] = [];

  /** Every category, ordered by `order` then name. */
  getCategories(): readonly ExportCategory[] {
    return this.categories;
  }

  getCategory(name: string): ExportCategory | undefined {
    return this.getEntityCategory(name);
  }

  getCategoryNames(): string[] {
    return this.categories.map((c) => c.name);
  }

  /** @internal Every category with the plan its rows are read by. */
  getEntityCategories(): readonly EntityCategory[] {
    return this.categories;
  }

  /** @internal */
  getEntityCategory(name: string): EntityCategory | undefined {
    return this.categories.find((c) => c.name === name);
  }

  /** @internal */
  setCategories(categories: EntityCategory[]): void {
    this.categories = [...categories].sort((a, b) => a.order - b.order || a.name.localeCompare(b.name));
  }
}
