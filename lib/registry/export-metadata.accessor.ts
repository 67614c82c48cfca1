import { Injectable } from '@nestjs/common';
import { EXPORTABLE_METADATA, EXPORT_FIELDS_METADATA, EXPORT_FIELD_METADATA } from '../export.constants';
import type { ExportableOptions } from '../decorators/exportable.decorator';
import type { ExportFieldMetadata } from '../decorators/redact.decorator';

/**
 * The only reader of the library's decorator metadata. Walks the prototype chain, so fields
 * decorated on a base entity are seen on its subclasses.
 * @internal
 */
@Injectable()
export class ExportMetadataAccessor {
  getExportable(target: Function): ExportableOptions | undefined {
    return Reflect.getMetadata(EXPORTABLE_METADATA, target);
  }

  /** Property keys that carry field metadata, base classes included. */
  getFieldKeys(target: Function): string[] {
    const keys: (string | symbol)[] = Reflect.getMetadata(EXPORT_FIELDS_METADATA, target.prototype) ?? [];
    return keys.filter((k): k is string => typeof k === 'string');
  }

  getField(target: Function, key: string): ExportFieldMetadata | undefined {
    return Reflect.getMetadata(EXPORT_FIELD_METADATA, target.prototype, key);
  }
}
