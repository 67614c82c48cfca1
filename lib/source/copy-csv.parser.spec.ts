import { copyFieldText, CopyCsvParser, CopyCsvRow } from './copy-csv.parser';

const Q = '\u0001';
const D = '\u0002';

/** What PostgreSQL writes for a value in `FORMAT csv, DELIMITER E'\x02', QUOTE E'\x01'`. */
function field(value: string | null): string {
  if (value === null) return '';
  if (value === '' || /[\u0001\u0002\r\n]/.test(value)) return `${Q}${value.replace(/\u0001/g, Q + Q)}${Q}`;
  return value;
}

function parseAll(chunks: Buffer[], columns: number): (string | null)[][] {
  const parser = new CopyCsvParser(columns);
  const rows: (string | null)[][] = [];
  const onRow = (row: CopyCsvRow) => rows.push(Array.from({ length: columns }, (_, i) => copyFieldText(row, i)));
  for (const chunk of chunks) parser.push(chunk, onRow);
  parser.end();
  return rows;
}

describe('CopyCsvParser', () => {
  const rows: (string | null)[][] = [
    ['{"id":1,"body":', 'plain é 中 😀', ',"n":2}'],
    ['{"id":2,"body":', null, ',"n":3}'],
    ['{"id":3,"body":', '', ',"n":4}'],
    ['{"id":4,"body":', `quote ${Q} and ${Q}${Q} doubled`, ',"n":5}'],
    ['{"id":5,"body":', `delimiter ${D} newline \n return \r end`, ',"n":6}'],
    ['{"id":6,"body":', Q, ',"n":7}'],
    ['{"id":7,"body":', '\\.', null],
    ['{"id":8,"body":', 'last', `ends with a quoted${D}field`],
  ];
  const bytes = Buffer.from(rows.map((r) => `${r.map(field).join(D)}\n`).join(''), 'utf8');

  it('reads every field back: plain, NULL, empty, quoted, with doubled quotes, and multi-byte text', () => {
    expect(parseAll([bytes], 3)).toEqual(rows);
  });

  it('gives the same rows wherever the chunks are cut, inside characters and quotes included', () => {
    for (let cut = 1; cut < bytes.length; cut++) {
      expect({ cut, rows: parseAll([bytes.subarray(0, cut), bytes.subarray(cut)], 3) }).toEqual({ cut, rows });
    }
    const oneByOne = Array.from({ length: bytes.length }, (_, i) => bytes.subarray(i, i + 1));
    expect(parseAll(oneByOne, 3)).toEqual(rows);
  });

  it('refuses output that ends inside a row', () => {
    const parser = new CopyCsvParser(3);
    parser.push(bytes.subarray(0, bytes.length - 3), () => undefined);
    expect(() => parser.end()).toThrow(/ended inside a row/);
  });
});
