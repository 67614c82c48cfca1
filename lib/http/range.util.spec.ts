import { contentDisposition, parseRange } from './range.util';

describe('parseRange', () => {
  it.each([
    ['bytes=0-9', 100, { start: 0, end: 9 }],
    ['bytes=90-', 100, { start: 90, end: 99 }],
    ['bytes=90-500', 100, { start: 90, end: 99 }],
    ['bytes=-10', 100, { start: 90, end: 99 }],
    ['bytes=-500', 100, { start: 0, end: 99 }],
    ['bytes=-999999999', 100, { start: 0, end: 99 }],
    ['bytes=-99999999999999999999', 100, { start: 0, end: 99 }],
    ['bytes=99999999999999999999-', 100, 'unsatisfiable'],
    [' bytes=0-0 ', 100, { start: 0, end: 0 }],
    ['bytes=0-', 0, 'unsatisfiable'],
    ['bytes=-5', 0, 'unsatisfiable'],
    ['bytes=0x1-2', 100, undefined],
    ['bytes=100-', 100, 'unsatisfiable'],
    ['bytes=-0', 100, 'unsatisfiable'],
    ['bytes=5-2', 100, undefined],
    ['bytes=0-1,5-6', 100, undefined],
    ['items=0-1', 100, undefined],
    ['bytes=-', 100, undefined],
    [undefined, 100, undefined],
  ])('%p of %p bytes is %p', (header, size, expected) => expect(parseRange(header, size)).toEqual(expected));
});

describe('contentDisposition', () => {
  it.each([
    ['data-export-team-a-2026-11-25.zip', 'data-export-team-a-2026-11-25.zip'],
    ['../../etc/passwd', 'passwd'],
    ['C:\\\\Windows\\\\evil.zip', 'evil.zip'],
    ['a"b\r\nSet-Cookie: x=1.zip', 'a_b_Set-Cookie_x_1.zip'],
    ['..hidden.zip', 'hidden.zip'],
    ['ünïcødé.zip', '_n_c_d_.zip'],
    ['', 'export'],
  ])('%p is sent as filename="%s"', (name, safe) => {
    const header = contentDisposition(name);
    expect(header).toBe(`attachment; filename="${safe}"`);
    expect(header).not.toMatch(/[\r\n]/);
  });
});
