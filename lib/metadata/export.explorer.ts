import { Inject, Injectable, Logger, OnModuleInit, Optional } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import type { DataSource, EntityMetadata } from 'typeorm';
import { ExportRegistryError } from '../common/export.error';
import { ExportMessages } from '../common/export.messages';
import { EXPORT_DATA_SOURCE, EXPORT_RESOLVED_OPTIONS } from '../common/export.internal-constants';
import { validateAbout } from '../options/export-about.util';
import { DataExportDownload } from '../entities/data-export-download.entity';
import { DataExportEvent } from '../entities/data-export-event.entity';
import type { ExportNotIncluded } from '../interfaces/export-about.interface';
import { DataExport } from '../entities/data-export.entity';
import { ExportMetadataAccessor } from './export-metadata.accessor';
import { ExportRegistry } from './export.registry';
import type { ExportableOptions } from './exportable.decorator';
import { EXPORT_EXCLUDED_METADATA, EXPORTER_METADATA } from '../common/export.constants';
import { DEFAULT_FILE_MAX_BYTES, DEFAULT_FILE_STALL_MS, parseByteSize } from './byte-size.util';
import type { ExportFileMetadata } from './export-file.decorator';
import { parseDuration } from '../common/duration.util';
import type { ColumnMetadata, EntityCategory, ExportFilePlan, ExporterCategory, ExportFieldPlan, PlannedCategory, ResolvedScope } from './export-category.interface';
import type { ExporterMetadata } from './exporter.decorator';
import { CATEGORY_NAME, planExporterCategory } from './exporter-category.util';
import { isSensitiveName } from './sensitive-name.util';

/** What the explorer reads of the module's resolved options. */
interface ExportCoverageSettings {
  readonly coverage: { readonly required: boolean; readonly excluded: Readonly<Record<string, string>>; readonly notes: readonly string[] };
}

/**
 * Discovers every `@Exportable` entity of the host DataSource at boot, resolves its scope,
 * timestamp and fields, and refuses to boot on a misconfiguration.
 * @internal
 */
@Injectable()
export class ExportExplorer implements OnModuleInit {
  private readonly logger = new Logger('ExportModule');

  constructor(
    @Inject(EXPORT_DATA_SOURCE) private readonly dataSource: DataSource,
    private readonly accessor: ExportMetadataAccessor,
    private readonly registry: ExportRegistry,
    @Optional() private readonly discovery?: DiscoveryService,
    @Optional() @Inject(EXPORT_RESOLVED_OPTIONS) private readonly settings?: ExportCoverageSettings,
  ) {}

  onModuleInit(): void {
    if (!this.dataSource.hasMetadata(DataExport)) {
      throw new ExportRegistryError(ExportMessages.missingDataExportEntity());
    }
    const categories = this.explore();
    const planned = this.withExporters(categories);
    this.registry.setCategories(planned);
    this.registry.setCoverage(this.coverage(planned));
    const bySensitiveName = categories.flatMap((c) =>
      c.omitted.filter((o) => o.reason === 'sensitive-name').map((o) => `${c.metadata.name}.${o.key}`),
    );
    if (bySensitiveName.length > 0) {
      this.logger.log(
        `Redacted by name (opt a field in with @ExportField({ sensitive: false })): ${bySensitiveName.join(', ')}`,
      );
    }
  }

  explore(): EntityCategory[] {
    const seen = new Map<string, string>();
    const categories: EntityCategory[] = [];
    for (const metadata of this.dataSource.entityMetadatas) {
      if (typeof metadata.target !== 'function') continue;
      const options = this.accessor.getExportable(metadata.target);
      if (!options) continue;
      const category = this.buildCategory(metadata, options);
      const first = seen.get(category.name);
      if (first) {
        throw new ExportRegistryError(ExportMessages.duplicateCategory(category.name, first, metadata.name));
      }
      seen.set(category.name, metadata.name);
      categories.push(category);
    }
    return categories;
  }

  /**
   * Which entities of the DataSource the export covers: those of a category, those excluded on
   * purpose (`@ExportExcluded` or `coverage.excluded`) and the rest, "not covered": reported at
   * boot, or refused with `coverage.required`. The library's own tables are not the account's data.
   */
  private coverage(planned: PlannedCategory[]): Pick<ExportNotIncluded, 'excluded' | 'notCovered' | 'notes'> {
    const options = this.settings?.coverage ?? { required: false, excluded: {}, notes: [] };
    const entities = this.dataSource.entityMetadatas.filter(
      (m) => typeof m.target === 'function' && m.target !== DataExport && m.target !== DataExportDownload && m.target !== DataExportEvent,
    );
    for (const name of Object.keys(options.excluded)) {
      if (!entities.some((m) => m.name === name)) throw new ExportRegistryError(ExportMessages.badExcludedEntity(name));
    }
    const excluded: { name: string; reason: string }[] = [];
    const notCovered: string[] = [];
    for (const metadata of entities) {
      if (this.accessor.getExportable(metadata.target as Function)) continue;
      const marked: { reason?: unknown } | undefined = Reflect.getOwnMetadata(EXPORT_EXCLUDED_METADATA, metadata.target as Function);
      if (marked && (typeof marked.reason !== 'string' || !marked.reason.trim())) {
        throw new ExportRegistryError(ExportMessages.badExcludedReason(metadata.name));
      }
      const reason = (marked?.reason as string | undefined) ?? options.excluded[metadata.name];
      if (reason) excluded.push({ name: metadata.name, reason });
      else notCovered.push(metadata.name);
    }
    if (notCovered.length > 0) {
      if (options.required) throw new ExportRegistryError(ExportMessages.notCovered(notCovered));
      this.logger.warn(ExportMessages.notCovered(notCovered));
    }
    const notes = [...options.notes, ...planned.flatMap((c) => (c.kind === 'exporter' && c.note ? [c.note] : []))];
    return { excluded, notCovered, notes };
  }

  /**
   * The entity categories and every `@Exporter()` provider of the application (any module), with
   * no category name used twice.
   */
  private withExporters(entities: EntityCategory[]): PlannedCategory[] {
    const owners = new Map<string, string>(entities.map((c) => [c.name, c.metadata.name]));
    const exporters: ExporterCategory[] = [];
    for (const wrapper of this.discovery?.getProviders() ?? []) {
      const type = wrapper.metatype;
      const meta: ExporterMetadata | undefined = typeof type === 'function' ? Reflect.getMetadata(EXPORTER_METADATA, type) : undefined;
      if (!meta) continue;
      const className = (type as Function).name || String(wrapper.token);
      if (!wrapper.isDependencyTreeStatic()) throw new ExportRegistryError(ExportMessages.exporterNotStatic(className));
      const category = planExporterCategory(meta, wrapper.instance, className);
      const first = owners.get(category.name);
      if (first) throw new ExportRegistryError(ExportMessages.exporterDuplicate(category.name, first, className));
      owners.set(category.name, className);
      exporters.push(category);
    }
    return [...entities, ...exporters];
  }

  private buildCategory(metadata: EntityMetadata, options: ExportableOptions): EntityCategory {
    const entity = metadata.name;
    if (typeof options.category !== 'string' || !CATEGORY_NAME.test(options.category)) {
      throw new ExportRegistryError(ExportMessages.badCategoryName(entity, options.category));
    }
    if (metadata.primaryColumns.length === 0) {
      throw new ExportRegistryError(ExportMessages.noPrimaryKey(entity));
    }
    const timestamp = options.timestamp ? this.findColumn(metadata, options.timestamp) : undefined;
    if (options.timestamp && !timestamp) {
      throw new ExportRegistryError(ExportMessages.unknownTimestamp(entity, options.timestamp));
    }
    return {
      kind: 'entity',
      name: options.category,
      description: options.description,
      ...(options.about ? { about: validateAbout(`@Exportable on ${entity}: "about"`, options.about) } : {}),
      order: options.order ?? 0,
      target: metadata.target as Function,
      metadata,
      scope: this.resolveTie(metadata, options.scope, 'scope'),
      ...(options.personal !== undefined ? { personalTie: this.resolveTie(metadata, options.personal, 'personal') } : {}),
      personal: options.personal !== undefined,
      timestamp,
      filterable: timestamp !== undefined,
      ...this.planFields(metadata),
    };
  }

  /**
   * Resolves how rows are tied to the account (`scope`) or to a member (`personal`): a column, a
   * relation path ending in a column, or a function; the same forms and checks for both.
   */
  private resolveTie(metadata: EntityMetadata, tie: ExportableOptions['scope'] | undefined, option: 'scope' | 'personal'): ResolvedScope {
    const entity = metadata.name;
    if (typeof tie === 'function') return { kind: 'fn', fn: tie };
    if (typeof tie !== 'string' || tie.length === 0) {
      throw new ExportRegistryError(option === 'scope' ? ExportMessages.missingScope(entity) : ExportMessages.badPersonal(entity));
    }
    const segments = tie.split('.');
    if (segments.length === 1) {
      const column = this.findColumn(metadata, tie);
      if (!column) throw new ExportRegistryError(ExportMessages.unknownScopeColumn(entity, tie, option));
      return { kind: 'column', column };
    }
    let current = metadata;
    const path: string[] = [];
    for (const segment of segments.slice(0, -1)) {
      const relation = current.relations.find((r) => r.propertyPath === segment);
      if (!relation) {
        throw new ExportRegistryError(ExportMessages.unknownScopeRelation(entity, tie, segment, current.name, option));
      }
      path.push(segment);
      current = relation.inverseEntityMetadata;
    }
    const last = segments[segments.length - 1];
    const column = this.findColumn(current, last);
    if (!column) {
      throw new ExportRegistryError(ExportMessages.unknownScopeColumn(`${entity} (via ${current.name})`, tie, option));
    }
    return { kind: 'relation', path, column };
  }

  private planFields(metadata: EntityMetadata): Pick<EntityCategory, 'fields' | 'omitted' | 'files' | 'idKeys'> {
    const target = metadata.target as Function;
    const decorated = new Set(this.accessor.getFieldKeys(target));
    for (const key of decorated) {
      if (!this.findColumn(metadata, key)) {
        const field = this.accessor.getField(target, key);
        const name = field?.file ? '@ExportFile()' : field?.redact ? '@Redact()' : '@ExportField()';
        throw new ExportRegistryError(ExportMessages.fieldNotColumn(metadata.name, key, name));
      }
    }
    const fields: ExportFieldPlan[] = [];
    const omitted: EntityCategory['omitted'][number][] = [];
    const files: ExportFilePlan[] = [];
    for (const column of metadata.columns) {
      const key = fieldKey(column);
      const field = decorated.has(key) ? this.accessor.getField(target, key) : undefined;
      const redact = field?.redact;
      if (field?.file) {
        if (redact) throw new ExportRegistryError(ExportMessages.badExportFile(metadata.name, key, 'it is also @Redact(): a redacted field references no file to export'));
        files.push(planFile(metadata.name, key, field.file));
      }
      if (redact?.mode === 'omit') {
        omitted.push({ key, reason: 'redact' });
      } else if (redact) {
        fields.push({ key, column, mask: redact });
      } else if (!field?.allowSensitiveName && (isSensitiveName(key) || isSensitiveName(column.databaseName))) {
        omitted.push({ key, reason: 'sensitive-name' });
      } else {
        fields.push({ key, column });
      }
    }
    const idKeys = metadata.primaryColumns.map(fieldKey);
    return { fields, omitted, ...(files.length > 0 ? { files, idKeys } : {}) };
  }

  private findColumn(metadata: EntityMetadata, name: string): ColumnMetadata | undefined {
    return metadata.columns.find((c) => c.propertyPath === name) ?? metadata.columns.find((c) => c.databaseName === name);
  }
}

/** Validates an `@ExportFile()`'s options at boot. */
function planFile(entity: string, key: string, file: ExportFileMetadata): ExportFilePlan {
  const bad = (why: string) => new ExportRegistryError(ExportMessages.badExportFile(entity, key, why));
  if (typeof file.resolve !== 'function') throw bad('"resolve" must be a function (row, ctx) => { stream, name } | { url, name } | null');
  const maxBytes = file.maxBytes === undefined ? DEFAULT_FILE_MAX_BYTES : parseByteSize(file.maxBytes);
  if (maxBytes === undefined) throw bad(`"maxBytes" must be a positive number of bytes or a size such as '50MB', not ${JSON.stringify(file.maxBytes)}`);
  const onError = file.onError ?? 'skip';
  if (onError !== 'skip' && onError !== 'fail') throw bad(`"onError" must be 'skip' or 'fail', not ${JSON.stringify(file.onError)}`);
  const stallTimeoutMs = file.stallTimeout === undefined ? DEFAULT_FILE_STALL_MS : parseDuration(file.stallTimeout);
  if (stallTimeoutMs === undefined) throw bad(`"stallTimeout" must be a duration such as '30s', not ${JSON.stringify(file.stallTimeout)}`);
  return { key, resolve: file.resolve as ExportFilePlan['resolve'], maxBytes, onError, stallTimeoutMs };
}

/**
 * The key of a column in the rows: its property path, or for a relation's own join column
 * (no property of its own) its database name, e.g. `ticketId`.
 */
function fieldKey(column: ColumnMetadata): string {
  const relation = column.relationMetadata;
  return relation && column.propertyName === relation.propertyName ? column.databaseName : column.propertyPath;
}
