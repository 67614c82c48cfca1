import 'reflect-metadata';
import { EXPORTABLE_METADATA } from '../common/export.constants';
import { Exportable, ExportableOptions, ExportScopeFn } from './exportable.decorator';

describe('@Exportable()', () => {
  it('stores its options on the class under "data-export:exportable"', () => {
    @Exportable({ category: 'tickets', scope: 'teamId', timestamp: 'createdAt', description: 'Support tickets', order: 2 })
    class Ticket {}

    expect(EXPORTABLE_METADATA).toBe('data-export:exportable');
    expect(Reflect.getOwnMetadata(EXPORTABLE_METADATA, Ticket)).toEqual({
      category: 'tickets',
      scope: 'teamId',
      timestamp: 'createdAt',
      description: 'Support tickets',
      order: 2,
    });
  });

  it('stores a scope function as it is', () => {
    const scope: ExportScopeFn = (qb) => qb;
    @Exportable({ category: 'webhooks', scope })
    class Webhook {}

    expect(Reflect.getOwnMetadata(EXPORTABLE_METADATA, Webhook).scope).toBe(scope);
  });

  it('stores a copy: changing the options object afterwards changes nothing', () => {
    const options: ExportableOptions = { category: 'notes', scope: 'teamId' };
    @Exportable(options)
    class Note {}
    options.category = 'changed';

    const stored = Reflect.getOwnMetadata(EXPORTABLE_METADATA, Note);
    expect(stored).not.toBe(options);
    expect(stored.category).toBe('notes');
  });

  it('writes nothing on the prototype or on another class', () => {
    @Exportable({ category: 'a', scope: 'teamId' })
    class A {}
    class B {}

    expect(Reflect.getOwnMetadata(EXPORTABLE_METADATA, A.prototype)).toBeUndefined();
    expect(Reflect.getOwnMetadata(EXPORTABLE_METADATA, B)).toBeUndefined();
  });

  it('does not validate at decoration time: a bad category is stored for the explorer to refuse at boot', () => {
    // The explorer refuses it with ExportMessages.badCategoryName (export.explorer.spec.ts).
    const decorate = () => {
      @Exportable({ category: 'Bad Name', scope: '' })
      class Bad {}
      return Bad;
    };
    const Bad = decorate();
    expect(Reflect.getOwnMetadata(EXPORTABLE_METADATA, Bad)).toEqual({ category: 'Bad Name', scope: '' });
  });
});
