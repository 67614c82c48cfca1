import type { EntityMetadata } from 'typeorm';
import type { ExportScopeFn } from './exportable.decorator';
import type { ExportFieldMetadata, RedactFn } from './redact.decorator';
import type { CategoryExporter } from './exporter.decorator';
import type { ExportFileResolver } from './export-file.decorator';
import type { ExportAbout } from '../interfaces/export-about.interface';

/** A column's metadata (derived so that no deep import of TypeORM is needed). @internal */
export type ColumnMetadata = EntityMetadata['columns'][number];

/** How a category's rows are tied to the account (its scope) or to a member (`personal`). @internal */
export type ResolvedScope =
  | { kind: 'column'; column: ColumnMetadata }
  | { kind: 'relation'; path: string[]; column: ColumnMetadata }
  | { kind: 'fn'; fn: ExportScopeFn };

/** One exported field of a category, in archive order. @publicApi */
export interface ExportFieldInfo {
  /** Property name: the key in the NDJSON rows. */
  readonly key: string;
  /** How the value is masked, when it is (`@Redact({ keep })`). */
  readonly mask?: { mode: 'last4' } | { mode: 'fn'; fn: RedactFn };
}

/**
 * One category of the archive, as the registry resolved it at boot: what a host may show of it
 * (a settings page listing what an export holds).
 * @publicApi
 */
export interface ExportCategory {
  readonly name: string;
  readonly description?: string;
  readonly order: number;
  /** Whether `since`/`until` filter the category (it has a timestamp). */
  readonly filterable: boolean;
  readonly fields: readonly ExportFieldInfo[];
  /** Fields left out: by `@Redact()` or because their name means a credential. */
  readonly omitted: readonly { key: string; reason: 'redact' | 'sensitive-name' }[];
  /** Purpose, recipients, retention and source, as the category declared them. */
  readonly about?: ExportAbout;
  /** Whether personal exports read it (`@Exportable({ personal })`, `@Exporter(..., { personal: true })`). */
  readonly personal: boolean;
}

/** A field of an entity category: its column too. @internal */
export interface ExportFieldPlan extends ExportFieldInfo {
  readonly column: ColumnMetadata;
}

/** A field whose file goes into the archive (`@ExportFile`), as validated at boot. @internal */
export interface ExportFilePlan {
  readonly key: string;
  readonly resolve: ExportFileResolver;
  readonly maxBytes: number;
  readonly onError: 'skip' | 'fail';
  readonly stallTimeoutMs: number;
}

/** A category of TypeORM entity rows: the plan the sources read it by. @internal */
export interface EntityCategory extends ExportCategory {
  readonly kind: 'entity';
  readonly target: Function;
  readonly metadata: EntityMetadata;
  readonly scope: ResolvedScope;
  /** How a row is tied to one member, when the category is personal (same forms as the scope). */
  readonly personalTie?: ResolvedScope;
  readonly timestamp?: ColumnMetadata;
  readonly fields: readonly ExportFieldPlan[];
  /** Fields whose files go into the archive (`@ExportFile`); absent when none. */
  readonly files?: readonly ExportFilePlan[];
  /** The row keys of the primary key, in order: a row's attachments folder. */
  readonly idKeys?: readonly string[];
}

/** A category whose rows come from an `@Exporter()` provider. @internal */
export interface ExporterCategory extends ExportCategory {
  readonly kind: 'exporter';
  /** The provider's class, for messages. */
  readonly className: string;
  readonly exporter: CategoryExporter<object>;
  /** The declared JSON Schema of a row; without one, it is inferred from the rows written. */
  readonly schema?: Readonly<Record<string, unknown>>;
  /** Each named field's rules: redaction, and whether a credential-like name is exported. */
  readonly fieldRules: Readonly<Record<string, ExportFieldMetadata>>;
  /** What the source leaves out, for "What is not included". */
  readonly note?: string;
}

/** Every category an export reads: entity rows, or an exporter's. @internal */
export type PlannedCategory = EntityCategory | ExporterCategory;
