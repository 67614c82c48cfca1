import * as fc from 'fast-check';
import { JsonDocumentError, JsonDocumentReader } from './json-document.reader';

/** Reads `text` in pieces of `size` bytes (UTF-8 characters split across pieces too). */
function read(text: string, size: number): { top: Record<string, unknown>; rows: [string, unknown][]; categories: string[] } {
  const rows: [string, unknown][] = [];
  const categories: string[] = [];
  const reader = new JsonDocumentReader((category, row) => rows.push([category, row]), (category) => categories.push(category));
  const bytes = Buffer.from(text, 'utf8');
  for (let at = 0; at < bytes.length; at += size) reader.write(bytes.subarray(at, at + size));
  return { top: reader.end(), rows, categories };
}

const ROWS = {
  users: [{ id: 1, name: 'Zoë "quoted" \\ back', tags: ['a', { b: [null, true, false] }], n: -1.5e3 }, { id: 2, name: '{not:a}[brace]', emoji: '😀\u2028', empty: {} }],
  none: [],
  odd: [{ '': '', 'key with "quote"': 'x,y:z' }],
};
const DOC = { exportVersion: '1', exportId: 'e', filters: { since: null }, data: ROWS, summary: { categories: 3, rows: 3, byCategory: { users: 2, none: 0, odd: 1 } }, list: [1, 'two', { three: 3 }] };

describe('JsonDocumentReader', () => {
  it.each([1, 2, 3, 7, 64, 1 << 20])('hands over every row and keeps the rest, in pieces of %i bytes', (size) => {
    for (const text of [JSON.stringify(DOC), JSON.stringify(DOC, null, 2), `\n ${JSON.stringify(DOC, null, '\t')}\r\n`]) {
      const { top, rows, categories } = read(text, size);
      expect(categories).toEqual(['users', 'none', 'odd']);
      expect(rows).toEqual([...ROWS.users.map((r) => ['users', r]), ['odd', ROWS.odd[0]]]);
      expect(top).toEqual({ ...DOC, data: {} });
    }
  });

  it.each([
    ['cut short', JSON.stringify(DOC).slice(0, -1)],
    ['cut inside a string', '{"exportVersion":"1'],
    ['trailing data', `${JSON.stringify(DOC)}x`],
    ['two documents', `${JSON.stringify(DOC)}{}`],
    ['a missing comma', '{"a":1 "b":2}'],
    ['a trailing comma', '{"a":[1,],"b":2}'],
    ['a bad literal', '{"a":nul}'],
    ['a bad number', '{"a":01}'],
    ['a raw control character', '{"a":"x\ny"}'],
    ['an array document', '[1,2]'],
    ['data not an object', '{"data":[1]}'],
    ['a category not an array', '{"data":{"users":{}}}'],
    ['a missing colon', '{"a" 1}'],
  ])('refuses %s', (_, text) => {
    expect(() => read(text, 3)).toThrow(JsonDocumentError);
  });
});

describe('JsonDocumentReader against JSON.parse', () => {
  it('reads any document of the export shape as JSON.parse does, whatever the pieces and spacing', () => {
    const value = fc.jsonValue().map((v) => JSON.parse(JSON.stringify(v)) as unknown);
    const key = fc.oneof(fc.string(), fc.constantFrom('__proto__', 'constructor', ''));
    const row = fc.dictionary(key, value);
    const doc = fc.record({
      top: fc.dictionary(key.filter((k) => k !== 'data'), value),
      data: fc.dictionary(key, fc.array(row, { maxLength: 4 }), { maxKeys: 4 }),
    });
    fc.assert(
      fc.property(doc, fc.integer({ min: 1, max: 40 }), fc.constantFrom(undefined, 1, '\t'), ({ top, data }, size, space) => {
        const text = JSON.stringify({ ...top, data }, null, space);
        const parsed = JSON.parse(text) as { data: Record<string, unknown[]> };
        const { top: kept, rows, categories } = read(text, size);
        expect(categories).toEqual(Object.keys(parsed.data));
        expect(rows).toEqual(Object.entries(parsed.data).flatMap(([c, list]) => list.map((r) => [c, r])));
        expect(kept).toEqual({ ...parsed, data: {} });
      }),
      { numRuns: 300 },
    );
  });
});
