import { SetMetadata } from '@nestjs/common';
import type { SelectQueryBuilder } from 'typeorm';
import { EXPORT_EXCLUDED_METADATA, EXPORTABLE_METADATA } from '../common/export.constants';
import type { ExportAbout } from '../interfaces/export-about.interface';
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
  /**
   * How a row is tied to one member, for personal exports (`POST /exports { kind: 'personal' }`):
   * the column holding the member's user id (`'authorId'`), a relation path
   * (`'ticket.requesterId'`) or a function `(qb, subject) => qb` keeping `subject.userId`'s rows.
   * A personal export reads only the categories that have it, each within the account's scope
   * and filtered to the member. Without it, the category is in account exports only.
   */
  personal?: string | ExportScopeFn;
  /** Date column that the `since` / `until` filters apply to. */
  timestamp?: string;
  /** Shown in the manifest and README. */
  description?: string;
  /** Purpose, recipients, retention and source of the category's data (GDPR Article 15). */
  about?: ExportAbout;
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
 * \@Exportable({ category: 'tickets', scope: 'teamId', personal: 'requesterId', timestamp: 'createdAt' })
 * \@Entity()
 * export class Ticket { ... }
 * @publicApi
 */
export function Exportable(options: ExportableOptions): ClassDecorator {
  return SetMetadata(EXPORTABLE_METADATA, { ...options });
}

/** Options of `@ExportExcluded()`. @publicApi */
export interface ExportExcludedOptions {
  /** Why the entity's rows are not in the export; the archive shows it to the person. */
  reason: string;
}

/**
 * Leaves an entity out of the export on purpose, saying why: the archive lists it under "What is
 * not included", and the coverage check (`coverage.required`) counts it as covered.
 *
 * @example
 * \@ExportExcluded({ reason: 'Sessions expire after 24 h and hold no data about you' })
 * \@Entity()
 * export class Session { ... }
 * @publicApi
 */
export function ExportExcluded(options: ExportExcludedOptions): ClassDecorator {
  return SetMetadata(EXPORT_EXCLUDED_METADATA, { reason: options?.reason });
}
