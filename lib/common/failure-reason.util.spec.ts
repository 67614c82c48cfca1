import { failureReason } from './failure-reason.util';

describe('failureReason', () => {
  it("keeps an error's class (digits included, as in S3StorageError) and a short code", () => {
    expect(failureReason(Object.assign(new Error('x'), { code: 'ENOSPC' }))).toBe('Error ENOSPC');
    const s3 = Object.assign(new Error('x'), { name: 'S3StorageError', code: 'AccessDenied' });
    expect(failureReason(s3)).toBe('S3StorageError AccessDenied');
  });

  it('drops a name or code that could carry text', () => {
    expect(failureReason({ name: '3rd party', code: 'a b' })).toBe('Error');
    expect(failureReason({ name: 'Error: user@example.com', code: 42 })).toBe('Error 42');
    expect(failureReason(null)).toBe('Error');
  });
});
