import { EXPORT_FIELD_METADATA, EXPORT_FIELDS_METADATA } from '../common/export.constants';
import type { ExportFileMetadata } from './export-file.decorator';

/**
 * A custom mask: receives the stored value (as the entity holds it), returns what the archive shows.
 * @publicApi
 */
export type RedactFn = (value: unknown) => unknown;

/**
 * Options of `@Redact()`: none omits the field; `keep: 'last4'` shows `…` and the last four
 * characters; `with` applies a function.
 * @publicApi
 */
export type RedactOptions = { keep: 'last4' } | { with: RedactFn };

/** Field metadata stored by the field decorators. @internal */
export interface ExportFieldMetadata {
  redact?: { mode: 'omit' } | { mode: 'last4' } | { mode: 'fn'; fn: RedactFn };
  /** Set by `@ExportField({ sensitive: false })`: a credential-like name that is not a secret. */
  allowSensitiveName?: boolean;
  /** Set by `@ExportFile()`: the file the field references goes into the archive. */
  file?: ExportFileMetadata;
}

/** Writes field metadata, merging with what other decorators stored on the same field. */
function createFieldDecorator(meta: ExportFieldMetadata): PropertyDecorator {
  return (target: object, propertyKey: string | symbol) => {
    const fields: (string | symbol)[] = Reflect.getMetadata(EXPORT_FIELDS_METADATA, target) ?? [];
    if (!fields.includes(propertyKey)) {
      Reflect.defineMetadata(EXPORT_FIELDS_METADATA, [...fields, propertyKey], target);
    }
    const existing: ExportFieldMetadata =
      Reflect.getMetadata(EXPORT_FIELD_METADATA, target, propertyKey) ?? {};
    Reflect.defineMetadata(EXPORT_FIELD_METADATA, { ...existing, ...meta }, target, propertyKey);
  };
}

/**
 * Keeps a field's value out of the archive.
 *
 * @example
 * \@Redact() @Column() passwordHash: string;                 // omitted
 * \@Redact({ keep: 'last4' }) @Column() apiKey: string;      // "…9f3a"
 * \@Redact({ with: (v) => String(v).replace(/@.*$/, '@…') }) @Column() email: string;
 * @publicApi
 */
export function Redact(options?: RedactOptions): PropertyDecorator {
  if (options && 'keep' in options) {
    return createFieldDecorator({ redact: { mode: 'last4' } });
  }
  if (options && 'with' in options) {
    return createFieldDecorator({ redact: { mode: 'fn', fn: options.with } });
  }
  return createFieldDecorator({ redact: { mode: 'omit' } });
}

/**
 * Options of `@ExportField()`.
 * @publicApi
 */
export interface ExportFieldOptions {
  /**
   * `false` exports a column whose name looks like a credential (`tokenCount`, `secretQuestion`)
   * that secure-by-default redaction would otherwise omit.
   */
  sensitive?: false;
}

/**
 * Per-field export settings that are not redaction.
 *
 * @example
 * \@ExportField({ sensitive: false }) @Column() tokenCount: number;
 * @publicApi
 */
export function ExportField(options: ExportFieldOptions): PropertyDecorator {
  return createFieldDecorator({ allowSensitiveName: options.sensitive === false });
}
