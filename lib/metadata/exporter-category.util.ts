import { ExportRegistryError } from '../common/export.error';
import { ExportMessages } from '../common/export.messages';
import { validateAbout } from '../options/export-about.util';
import type { ExporterCategory, ExportFieldInfo } from './export-category.interface';
import type { CategoryExporter, ExporterMetadata } from './exporter.decorator';
import type { ExportFieldMetadata } from './redact.decorator';
import { isSensitiveName } from './sensitive-name.util';

/** A category name: it becomes a file name. @internal */
export const CATEGORY_NAME = /^[a-z0-9][a-z0-9_-]{0,63}$/;

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
  if (meta.personal !== undefined && typeof meta.personal !== 'boolean') {
    throw new ExportRegistryError(ExportMessages.exporterBadPersonal(className));
  }
  const fieldRules = exporterFieldRules(meta);
  const properties = schema && typeof schema.properties === 'object' && schema.properties !== null ? Object.keys(schema.properties) : [];
  const fields: ExportFieldInfo[] = [];
  const omitted: ExporterCategory['omitted'][number][] = [];
  for (const key of [...new Set([...properties, ...Object.keys(fieldRules)])]) {
    const { redact, allowSensitiveName } = fieldRules[key] ?? {};
    if (redact?.mode === 'omit') omitted.push({ key, reason: 'redact' });
    else if (redact) fields.push({ key, mask: redact });
    else if (!allowSensitiveName && isSensitiveName(key)) omitted.push({ key, reason: 'sensitive-name' });
    else fields.push({ key });
  }
  return {
    kind: 'exporter',
    name: meta.category,
    description: meta.description,
    ...(meta.about ? { about: validateAbout(`@Exporter ${className}: "about"`, meta.about) } : {}),
    ...(typeof meta.note === 'string' && meta.note ? { note: meta.note } : {}),
    order: meta.order ?? 0,
    personal: meta.personal === true,
    // The exporter receives `since` and `until` and applies them.
    filterable: true,
    fields,
    omitted,
    className,
    exporter,
    schema,
    fieldRules,
  };
}

/** The `redact` and `fields` options as one rule per named field, as the field decorators store them. */
function exporterFieldRules(meta: ExporterMetadata): Record<string, ExportFieldMetadata> {
  const rules: Record<string, ExportFieldMetadata> = {};
  for (const [key, option] of Object.entries(meta.redact ?? {})) {
    const redact: ExportFieldMetadata['redact'] =
      option === true ? { mode: 'omit' } : 'keep' in option ? { mode: 'last4' } : { mode: 'fn', fn: option.with };
    rules[key] = { ...rules[key], redact };
  }
  for (const [key, option] of Object.entries(meta.fields ?? {})) {
    rules[key] = { ...rules[key], allowSensitiveName: option?.sensitive === false };
  }
  return rules;
}
