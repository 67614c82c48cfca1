import 'reflect-metadata';
import { EXPORT_FIELDS_METADATA, EXPORT_FIELD_METADATA } from '../common/export.constants';
import { ExportField, Redact, RedactFn } from './redact.decorator';

const fieldsOf = (target: Function): unknown => Reflect.getOwnMetadata(EXPORT_FIELDS_METADATA, target.prototype);
const fieldOf = (target: Function, key: string | symbol): unknown =>
  Reflect.getOwnMetadata(EXPORT_FIELD_METADATA, target.prototype, key);

describe('@Redact()', () => {
  it('without options omits the field', () => {
    class Member {
      @Redact() passwordHash!: string;
    }
    expect(fieldOf(Member, 'passwordHash')).toEqual({ redact: { mode: 'omit' } });
  });

  it("with { keep: 'last4' } masks to the last four characters", () => {
    class Member {
      @Redact({ keep: 'last4' }) apiKey!: string;
    }
    expect(fieldOf(Member, 'apiKey')).toEqual({ redact: { mode: 'last4' } });
  });

  it('with { with: fn } keeps the very function', () => {
    const fn: RedactFn = (v) => String(v).replace(/@.*$/, '@…');
    class Member {
      @Redact({ with: fn }) email!: string;
    }
    const meta = fieldOf(Member, 'email') as { redact: { mode: string; fn: RedactFn } };
    expect(meta.redact.mode).toBe('fn');
    expect(meta.redact.fn).toBe(fn);
  });

  it('lists every decorated property once on the prototype, in declaration order, under "data-export:fields"', () => {
    class Member {
      @Redact() a!: string;
      @ExportField({ sensitive: false }) b!: string;
      @Redact({ keep: 'last4' }) @ExportField({ sensitive: false }) c!: string;
      plain!: string;
    }
    expect(EXPORT_FIELDS_METADATA).toBe('data-export:fields');
    expect(EXPORT_FIELD_METADATA).toBe('data-export:field');
    expect(fieldsOf(Member)).toEqual(['a', 'b', 'c']);
    expect(fieldOf(Member, 'plain')).toBeUndefined();
    expect(Reflect.getOwnMetadata(EXPORT_FIELDS_METADATA, Member)).toBeUndefined();
  });

  it('merges with @ExportField() on the same property, whichever comes first', () => {
    class Member {
      @Redact({ keep: 'last4' }) @ExportField({ sensitive: false }) tokenHint!: string;
      @ExportField({ sensitive: false }) @Redact() secretQuestion!: string;
    }
    expect(fieldOf(Member, 'tokenHint')).toEqual({ redact: { mode: 'last4' }, allowSensitiveName: true });
    expect(fieldOf(Member, 'secretQuestion')).toEqual({ redact: { mode: 'omit' }, allowSensitiveName: true });
  });

  it('the outer of two @Redact() on one property wins (decorators apply bottom-up)', () => {
    class Member {
      @Redact() @Redact({ keep: 'last4' }) apiKey!: string;
    }
    expect(fieldOf(Member, 'apiKey')).toEqual({ redact: { mode: 'omit' } });
    expect(fieldsOf(Member)).toEqual(['apiKey']);
  });

  it("a subclass adds its fields to its own list; the base class's list is untouched", () => {
    class Base {
      @Redact() passwordHash!: string;
    }
    class Child extends Base {
      @Redact({ keep: 'last4' }) apiKey!: string;
    }
    expect(fieldsOf(Base)).toEqual(['passwordHash']);
    expect(fieldsOf(Child)).toEqual(['passwordHash', 'apiKey']);
    expect(fieldOf(Base, 'apiKey')).toBeUndefined();
  });

  it('accepts a symbol property key (the accessor leaves it out)', () => {
    const key = Symbol('hidden');
    class Member {
      @Redact() [key]!: string;
    }
    expect(fieldsOf(Member)).toEqual([key]);
    expect(fieldOf(Member, key)).toEqual({ redact: { mode: 'omit' } });
  });
});

describe('@ExportField()', () => {
  it('{ sensitive: false } opts a credential-like name in', () => {
    class Member {
      @ExportField({ sensitive: false }) tokenCount!: number;
    }
    expect(fieldOf(Member, 'tokenCount')).toEqual({ allowSensitiveName: true });
    expect(fieldsOf(Member)).toEqual(['tokenCount']);
  });

  it('without sensitive: false records no opt-in', () => {
    class Member {
      @ExportField({}) pinCode!: string;
    }
    expect(fieldOf(Member, 'pinCode')).toEqual({ allowSensitiveName: false });
  });
});
