import { Injectable, SetMetadata } from '@nestjs/common';
import { EXPORTER_METADATA } from '../common/export.constants';
import type { ExportAbout } from '../interfaces/export-about.interface';
import type { ExportSubject } from '../interfaces/export-principal.interface';
import type { ExportFieldOptions, RedactOptions } from './redact.decorator';

/** The filters of the export, as an exporter receives them. @publicApi */
export interface ExporterFilters {
  /** Only rows created or changed at or after this instant (the request's `since`). */
  readonly since?: Date;
  /** Only rows before this instant (the request's `until`). */
  readonly until?: Date;
}

/**
 * A source of one category's rows that is not a TypeORM entity of the DataSource: a payment
 * provider's records, settings computed from several tables, a remote API. Decorate the provider
 * with `@Exporter(category)` and list it in any module's `providers`; its own dependencies are
 * injected as usual.
 * @publicApi
 */
export interface CategoryExporter<Row extends object = Record<string, unknown>> {
  /**
   * The subject's rows, in a stable order, as an async iterable (an `async *rows()` generator, or
   * a stream of objects). Read one at a time: a generator that pages through a remote API keeps
   * one page in memory. Stopping early (the export was cancelled or failed) calls its `return()`.
   */
  rows(subject: ExportSubject, filters: ExporterFilters): AsyncIterable<Row>;
  /** How many rows `rows()` will yield, for progress and the estimate (optional). */
  count?(subject: ExportSubject, filters: ExporterFilters): Promise<number> | number;
}

/** Options of `@Exporter()`. @publicApi */
export interface ExporterOptions {
  /** Shown in the manifest and README. */
  readonly description?: string;
  /** Purpose, recipients, retention and source of the category's data (GDPR Article 15). */
  readonly about?: ExportAbout;
  /**
   * What this source leaves out, for "What is not included" ("Card numbers: held by the payment
   * provider; we keep the last four digits").
   */
  readonly note?: string;
  /**
   * Position in the archive among all categories (ascending; ties by name).
   * @default 0
   */
  readonly order?: number;
  /**
   * Whether personal exports read it too: `rows()` then gets `subject.kind === 'personal'` and
   * must yield only the rows about `subject.userId`. Without it, the category is in account
   * exports only.
   * @default false
   */
  readonly personal?: boolean;
  /**
   * JSON Schema of one row. Without it, the schema is inferred from the rows the export wrote
   * (the JSON types each field had) and says so (`"x-inferred": true`).
   */
  readonly schema?: Record<string, unknown>;
  /**
   * Fields kept out or masked, as `@Redact()` does for a column: `true` leaves the field out,
   * `{ keep: 'last4' }` keeps "…" and its last four characters, `{ with: fn }` shows what `fn`
   * returns. A masked field is exported masked even when its name reads like a credential.
   */
  readonly redact?: Readonly<Record<string, true | RedactOptions>>;
  /**
   * Per-field settings that are not redaction, as `@ExportField()` gives a column:
   * `{ sensitive: false }` exports a field whose name reads like a credential.
   */
  readonly fields?: Readonly<Record<string, ExportFieldOptions>>;
}

/** What `@Exporter()` records on the class. @internal */
export interface ExporterMetadata extends ExporterOptions {
  readonly category: string;
}

/**
 * Marks a provider as the source of the category `category` (the archive holds
 * `<category>.ndjson`): its rows get what entity rows get (the value rules, redaction by name,
 * masks, a schema, counts and checksums in the manifest, progress, cancellation).
 *
 * @example
 * \@Exporter('billing', { description: 'Invoices held by the payment provider' })
 * export class BillingExporter implements CategoryExporter {
 *   constructor(private readonly stripe: StripeClient) {}
 *   async *rows(subject: ExportSubject) {
 *     for await (const invoice of this.stripe.invoices(subject.accountId)) yield invoice;
 *   }
 * }
 * @publicApi
 */
export function Exporter(category: string, options: ExporterOptions = {}): ClassDecorator {
  return (target) => {
    // Injectable unless the class says so itself (with a scope, which the explorer then checks):
    // `@Injectable()`'s watermark, as Nest's own decorators read it.
    if (!Reflect.hasOwnMetadata(INJECTABLE_WATERMARK, target)) Injectable()(target);
    SetMetadata(EXPORTER_METADATA, { ...options, category } satisfies ExporterMetadata)(target);
  };
}

/** Nest's mark of an `@Injectable()` class (`INJECTABLE_WATERMARK` of `@nestjs/common`). */
const INJECTABLE_WATERMARK = '__injectable__';
