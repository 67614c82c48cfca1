import { maskLast4 } from './record.serializer';
import { describeFailure } from '../common/failure-reason.util';
import { ExportProcessingError } from '../common/export.error';

describe('maskLast4', () => {
  it('keeps the last four characters of values of eight or more', () => {
    expect(maskLast4('sk_live_51H9f3a')).toBe('…9f3a');
    expect(maskLast4(12345678)).toBe('…5678');
  });
  it('masks short values entirely and keeps null', () => {
    expect(maskLast4('1234567')).toBe('…');
    expect(maskLast4('')).toBe('…');
    expect(maskLast4(null)).toBeNull();
  });
});

describe('describeFailure', () => {
  it('never repeats a foreign error message, which may quote row values', () => {
    const err = Object.assign(new Error('invalid input syntax for type integer: "jane@example.com"'), { code: '22P02' });
    const message = describeFailure(err, 'customers');
    expect(message).toBe('Export failed while reading category "customers" (Error 22P02).');
    expect(message).not.toContain('jane');
  });
  it('drops codes and names that are not plain identifiers', () => {
    const err = Object.assign(new Error('x'), { name: 'Bad name with "data"', code: 'secret value with spaces' });
    expect(describeFailure(err)).toBe('Export failed while writing the archive (Error).');
  });
  it('keeps the library’s own messages', () => {
    expect(describeFailure(new ExportProcessingError('Storage is full.'))).toBe('Storage is full.');
  });
});
