import 'reflect-metadata';
import { Exportable } from './exportable.decorator';
import { ExportField, Redact } from './redact.decorator';
import { EXPORTABLE_METADATA, EXPORT_FIELDS_METADATA, EXPORT_FIELD_METADATA } from '../common/export.constants';
import { ExportMetadataAccessor } from './export-metadata.accessor';

describe('ExportMetadataAccessor', () => {
  const accessor = new ExportMetadataAccessor();

  describe('getExportable', () => {
    it('reads what @Exportable() stored', () => {
      const scope = () => undefined;
      @Exportable({ category: 'tickets', scope, timestamp: 'createdAt', order: 1 })
      class Ticket {}

      expect(accessor.getExportable(Ticket)).toEqual({ category: 'tickets', scope, timestamp: 'createdAt', order: 1 });
    });

    it('reads the "data-export:exportable" key, and only that key', () => {
      class ByHand {}
      Reflect.defineMetadata(EXPORTABLE_METADATA, { category: 'by-hand', scope: 'teamId' }, ByHand);
      class OtherKey {}
      Reflect.defineMetadata('exportable', { category: 'other', scope: 'teamId' }, OtherKey);

      expect(accessor.getExportable(ByHand)).toEqual({ category: 'by-hand', scope: 'teamId' });
      expect(accessor.getExportable(OtherKey)).toBeUndefined();
    });

    it('is undefined for an undecorated class', () => {
      class Plain {}
      expect(accessor.getExportable(Plain)).toBeUndefined();
    });

    it("a subclass does not inherit its base class's @Exportable(); its own decorator makes it a category", () => {
      @Exportable({ category: 'users', scope: 'teamId' })
      class User {}
      class Admin extends User {}
      @Exportable({ category: 'owners', scope: 'teamId' })
      class Owner extends User {}

      expect(accessor.getExportable(Admin)).toBeUndefined();
      expect(accessor.getExportable(Owner)).toEqual({ category: 'owners', scope: 'teamId' });
      expect(accessor.getExportable(User)).toEqual({ category: 'users', scope: 'teamId' });
    });
  });

  describe('getFieldKeys / getField', () => {
    it('reads the keys and per-field metadata the field decorators stored', () => {
      const mask = (v: unknown) => `${String(v).slice(0, 1)}…`;
      class Member {
        @Redact() passwordHash!: string;
        @Redact({ keep: 'last4' }) apiKey!: string;
        @Redact({ with: mask }) email!: string;
        @ExportField({ sensitive: false }) tokenCount!: number;
        name!: string;
      }

      expect(accessor.getFieldKeys(Member)).toEqual(['passwordHash', 'apiKey', 'email', 'tokenCount']);
      expect(accessor.getField(Member, 'passwordHash')).toEqual({ redact: { mode: 'omit' } });
      expect(accessor.getField(Member, 'apiKey')).toEqual({ redact: { mode: 'last4' } });
      expect(accessor.getField(Member, 'email')).toEqual({ redact: { mode: 'fn', fn: mask } });
      expect(accessor.getField(Member, 'tokenCount')).toEqual({ allowSensitiveName: true });
      expect(accessor.getField(Member, 'name')).toBeUndefined();
    });

    it('reads "data-export:fields" and "data-export:field" from the prototype', () => {
      class ByHand {}
      Reflect.defineMetadata(EXPORT_FIELDS_METADATA, ['secret'], ByHand.prototype);
      Reflect.defineMetadata(EXPORT_FIELD_METADATA, { redact: { mode: 'omit' } }, ByHand.prototype, 'secret');
      class OnTheClass {}
      Reflect.defineMetadata(EXPORT_FIELDS_METADATA, ['secret'], OnTheClass);

      expect(accessor.getFieldKeys(ByHand)).toEqual(['secret']);
      expect(accessor.getField(ByHand, 'secret')).toEqual({ redact: { mode: 'omit' } });
      expect(accessor.getFieldKeys(OnTheClass)).toEqual([]);
    });

    it('is empty for a class without field decorators', () => {
      class Plain {
        name!: string;
      }
      expect(accessor.getFieldKeys(Plain)).toEqual([]);
      expect(accessor.getField(Plain, 'name')).toBeUndefined();
    });

    it('sees fields decorated on a base class from its subclass, and not the other way round', () => {
      abstract class Audited {
        @Redact() createdByIp!: string;
      }
      class Ticket extends Audited {
        @Redact({ keep: 'last4' }) apiKey!: string;
      }

      expect(accessor.getFieldKeys(Ticket)).toEqual(['createdByIp', 'apiKey']);
      expect(accessor.getField(Ticket, 'createdByIp')).toEqual({ redact: { mode: 'omit' } });
      expect(accessor.getFieldKeys(Audited)).toEqual(['createdByIp']);
      expect(accessor.getField(Audited, 'apiKey')).toBeUndefined();
    });

    it('leaves symbol keys out', () => {
      const hidden = Symbol('hidden');
      class Member {
        @Redact() [hidden]!: string;
        @Redact() passwordHash!: string;
      }
      expect(accessor.getFieldKeys(Member)).toEqual(['passwordHash']);
    });
  });
});
