import { ExportInvalidRequestException } from '../common/export.exception';
import { parseExportQuery } from './export-query.util';

describe('parseExportQuery', () => {
  it('reads a request\'s fields from a query string', () => {
    expect(parseExportQuery({})).toEqual({});
    expect(parseExportQuery(undefined)).toEqual({});
    expect(parseExportQuery({ format: 'json', since: '2026-01-01T00:00:00Z', until: '2026-02-01T00:00:00Z', includeDeleted: 'true' })).toEqual({
      format: 'json',
      since: '2026-01-01T00:00:00Z',
      until: '2026-02-01T00:00:00Z',
      includeDeleted: true,
    });
    expect(parseExportQuery({ includeDeleted: 'false' })).toEqual({ includeDeleted: false });
  });

  it('takes categories repeated, comma-listed or both, and leaves an empty list for the request rules to refuse', () => {
    expect(parseExportQuery({ categories: ['tickets', 'messages,customers'] })).toEqual({ categories: ['tickets', 'messages', 'customers'] });
    expect(parseExportQuery({ categories: ' tickets , messages ' })).toEqual({ categories: ['tickets', 'messages'] });
    expect(parseExportQuery({ categories: '' })).toEqual({ categories: [] });
  });

  it.each([
    [{ accountId: 'other' }, /Unknown query parameter "accountId"/],
    [{ includeDeleted: 'yes' }, /includeDeleted must be true or false/],
    [{ format: ['zip', 'json'] }, /format must be given once/],
    [{ since: { gt: '2026' } }, /since must be given once/],
    [{ categories: { a: 'b' } }, /categories must be category names/],
    [{ categories: ['a', { b: 1 }] }, /categories must be category names/],
  ])('refuses %j', (query, message) => {
    expect(() => parseExportQuery(query as Record<string, unknown>)).toThrow(ExportInvalidRequestException);
    expect(() => parseExportQuery(query as Record<string, unknown>)).toThrow(message);
  });
});
