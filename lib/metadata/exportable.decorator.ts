import { SetMetadata } from '@nestjs/common';
import type { SelectQueryBuilder } from 'typeorm';
import { EXPORTABLE_METADATA } from '../common/export.constants';
import type { ExportSubject } from '../interfaces/export-principal.interface';

/**
 * A scope function: adds the condition that keeps only the account's rows. Called with the
 * category's query builder (`qb.alias` is the entity's alias) and the subject.
 * @publicApi
 */
export type ExportScopeFn = (
  qb: SelectQueryBuilder<any>,
  subject: ExportSubject,
) => SelectQueryBuilder<any> | void;

/**
 * Options of `@Exportable()`.
 * @publicApi
 */
export interface ExportableOptions {
  /** Category name: the archive holds `<category>.ndjson`. Lowercase letters, digits, `-`, `_`. */
  category: string;
  /**
   * How a row belongs to an account: a column (`'teamId'`), a relation path
   * (`'ticket.teamId'`) or a function `(qb, subject) => qb`.
   */
  scope: string | ExportScopeFn;
  /** Date column that the `since` / `until` filters apply to. */
  timestamp?: string;
  /** Shown in the manifest and README. */
  description?: string;
  /**
   * Position in the archive (ascending; ties by category name).
   * @default 0
   */
  order?: number;
}

/**
 * Marks a TypeORM entity as part of the account's export.
 *
 * @example
 * \@Exportable({ category: 'tickets', scope: 'teamId', timestamp: 'createdAt' })
 * \@Entity()
 * export class Ticket { ... }
 * @publicApi
 */
export function Exportable(options: ExportableOptions): ClassDecorator {
  return SetMetadata(EXPORTABLE_METADATA, { ...options });
}
