import { Injectable } from '@nestjs/common';
import { EXPORTABLE_METADATA, EXPORT_FIELDS_METADATA, EXPORT_FIELD_METADATA } from '../common/export.constants';
import type { ExportableOptions } from './exportable.decorator';
import type { ExportFieldMetadata } from './redact.decorator';

/**
 * The only reader of the library's decorator metadata. Fields decorated on a base entity are
 * seen on its subclasses (the prototype chain); `@Exportable()` is not inherited: a subclass is
 * its own category only when it says so. A `@ChildEntity()` of single-table inheritance would
 * otherwise claim its parent's category (and refuse to boot as a duplicate), while the parent's
 * rows already hold the child's.
 * @internal
 */
@Injectable()
export class ExportMetadataAccessor {
  getExportable(target: Function): ExportableOptions | undefined {
    return Reflect.getOwnMetadata(EXPORTABLE_METADATA, target);
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
