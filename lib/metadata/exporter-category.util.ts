import { ExportRegistryError } from '../common/export.error';
import { ExportMessages } from '../common/export.messages';
import type { ExporterCategory, ExportFieldInfo } from './export-category.interface';
import type { CategoryExporter, ExporterMetadata } from './exporter.decorator';
import { isSensitiveName } from './sensitive-name.util';

const CATEGORY_NAME = /^[a-z0-9][a-z0-9_-]{0,63}$/;

/**
 * The category of an `@Exporter()` provider, checked: its name, its `rows()` method and its
 * schema. Fields are what the declared schema (or the field options) names; what a row holds
 * beyond them is written under the same rules (redaction by name included).
 * @internal
 */
export function planExporterCategory(meta: ExporterMetadata, instance: unknown, className: string): ExporterCategory {
  if (typeof meta.category !== 'string' || !CATEGORY_NAME.test(meta.category)) {
    throw new ExportRegistryError(ExportMessages.exporterBadName(className, meta.category));
  }
  const exporter = instance as CategoryExporter<object> | undefined;
  if (!exporter || typeof exporter.rows !== 'function') throw new ExportRegistryError(ExportMessages.exporterNoRows(className));
  const schema = meta.schema;
  if (schema !== undefined && (schema === null || typeof schema !== 'object' || Array.isArray(schema))) {
    throw new ExportRegistryError(ExportMessages.exporterBadSchema(className));
  }
  const fieldOptions = meta.fields ?? {};
  const properties = schema && typeof schema.properties === 'object' && schema.properties !== null ? Object.keys(schema.properties) : [];
  const keys = [...new Set([...properties, ...Object.keys(fieldOptions)])];
  const fields: ExportFieldInfo[] = [];
  const omitted: ExporterCategory['omitted'][number][] = [];
  for (const key of keys) {
    const options = fieldOptions[key];
    if (options?.redact === true) omitted.push({ key, reason: 'redact' });
    else if (options?.redact === 'last4') fields.push({ key, mask: { mode: 'last4' } });
    else if (typeof options?.redact === 'function') fields.push({ key, mask: { mode: 'fn', fn: options.redact } });
    else if (options?.sensitive !== false && isSensitiveName(key)) omitted.push({ key, reason: 'sensitive-name' });
    else fields.push({ key });
  }
  return {
    kind: 'exporter',
    name: meta.category,
    description: meta.description,
    order: meta.order ?? 0,
    // The exporter receives `since` and `until` and applies them.
    filterable: true,
    fields,
    omitted,
    className,
    exporter,
    schema,
    fieldOptions,
  };
}
