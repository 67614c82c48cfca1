import { Injectable } from '@nestjs/common';
import type { ExportCategory } from './export-category.interface';

/**
 * Read-only view of every category the export knows, in archive order. Filled at boot by the
 * explorer.
 * @publicApi
 */
@Injectable()
export class ExportRegistry {
  private categories: ExportCategory[] = [];

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

  /** @internal */
  setCategories(categories: ExportCategory[]): void {
    this.categories = [...categories].sort((a, b) => a.order - b.order || a.name.localeCompare(b.name));
  }
}
