import { isCompressed, safeFileName, uniqueFileName } from './attachment-name.util';
import { randomBytes } from 'node:crypto';

describe('safeFileName', () => {
  it.each([
    ['../x', '_x'],
    ['../../etc/passwd', '_.._etc_passwd'],
    ['/etc/passwd', '_etc_passwd'],
    ['C:\\Windows\\system.ini', 'C__Windows_system.ini'],
    ['a\u0000b\u0007c\nd\u202e.txt', 'a_b_c_d_.txt'],
    ['..', 'file'],
    ['', 'file'],
    ['  .hidden. ', 'hidden'],
    ['CON.txt', '_CON.txt'],
    ['Ünïcödé 文件.txt', 'Ünïcödé 文件.txt'],
  ])('%j becomes %j', (name, safe) => {
    expect(safeFileName(name)).toBe(safe);
  });

  it('caps a long name at 200 UTF-8 bytes, keeping its extension and whole characters', () => {
    const safe = safeFileName(`${'文'.repeat(300)}.png`);
    expect(Buffer.byteLength(safe, 'utf8')).toBeLessThanOrEqual(200);
    expect(safe).toMatch(/^文+\.png$/);
  });
});

describe('uniqueFileName', () => {
  it('numbers repeats within a row, case-insensitively', () => {
    const taken = new Set<string>();
    expect(['a.png', 'A.PNG', 'a.png', 'b'].map((n) => uniqueFileName(n, taken))).toEqual(['a.png', 'A (2).PNG', 'a (3).png', 'b']);
  });
});

describe('isCompressed', () => {
  it('stores by content type, or when a trial deflate saves nothing', () => {
    expect(isCompressed('image/png', Buffer.alloc(0))).toBe(true);
    expect(isCompressed('application/pdf; charset=binary', Buffer.alloc(0))).toBe(true);
    expect(isCompressed('text/plain', Buffer.alloc(4096, 'a'))).toBe(false);
    expect(isCompressed(undefined, randomBytes(64 * 1024))).toBe(true);
    expect(isCompressed(undefined, Buffer.alloc(64 * 1024, 'hello '))).toBe(false);
  });
});
