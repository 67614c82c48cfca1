import { parse } from 'csv-parse/sync';
import type { EntityCategory, PlannedCategory } from '../metadata/export-category.interface';
import type { CategorySource, NdjsonChunk } from '../source/category-source';
import type { ArchiveContext } from './archive.writer';
import { ChunkedEntryWriter } from './chunked-entry.writer';
import { writeCategoryCsv } from './csv-archive.writer';

const category = { kind: 'entity', name: 'notes', fields: [{ key: 'id' }, { key: 'text' }, { key: 'meta' }] } as unknown as EntityCategory;

/** Every way to cut `bytes` in two, and into single bytes. */
function cuts(bytes: Buffer): Buffer[][] {
  const out: Buffer[][] = [[...bytes].map((b) => Buffer.from([b]))];
  for (let at = 1; at < bytes.length; at++) out.push([bytes.subarray(0, at), bytes.subarray(at)]);
  return out;
}

/** Writes `category` as CSV from `source`; returns the text and the row count reported. */
async function write(source: CategorySource, planned: PlannedCategory = category): Promise<{ text: string; rows: number; reported: number }> {
  const entry = new ChunkedEntryWriter();
  const parts: Buffer[] = [];
  entry.stream.on('data', (c: Buffer) => parts.push(c));
  let reported = 0;
  const ctx = { source, batchSize: 2, onBatch: async (_c: unknown, n: number) => void (reported += n) } as unknown as ArchiveContext;
  const rows = await writeCategoryCsv(ctx, planned, entry);
  await entry.end();
  return { text: Buffer.concat(parts).toString('utf8'), rows, reported };
}

describe('writeCategoryCsv', () => {
  const lines = [
    { id: 1, text: 'é中😀 "q", =x', meta: { a: [1] } },
    { id: 2, text: 'two\nlines\r\n', meta: null },
    { id: 3, text: '=1+1', meta: 'x' },
  ].map((r) => JSON.stringify(r));
  const expected = [
    ['id', 'text', 'meta'],
    ['1', 'é中😀 "q", =x', '{"a":[1]}'],
    ['2', 'two\nlines\r\n', ''],
    ['3', "'=1+1", 'x'],
  ];

  it('reads NDJSON cut anywhere, inside a line or a UTF-8 character, and with no newline after the last line', async () => {
    for (const ending of ['\n', '']) {
      const ndjson = Buffer.from(lines.join('\n') + ending, 'utf8');
      for (const pieces of cuts(ndjson)) {
        const source = { count: async () => 3, ndjson: async function* (): AsyncGenerator<NdjsonChunk> { for (const bytes of pieces) yield { bytes, rows: 0 }; } };
        const { text, rows, reported } = await write(source);
        expect([rows, reported]).toEqual([3, 3]);
        expect(parse(text, { record_delimiter: '\r\n', relax_quotes: false, relax_column_count: false })).toEqual(expected);
      }
    }
  });

  it("ends each record of the source's own CSV with CRLF, following quotes across any cut", async () => {
    const records = Buffer.from('1,"é中😀 ""q"", =x","{""a"":[1]}"\n2,"two\nlines\r\n",\n3,\'=1+1,x\n', 'utf8');
    for (const pieces of cuts(records)) {
      const source = {
        count: async () => 3,
        ndjson: () => {
          throw new Error('not read');
        },
        csv: () => (async function* () { yield* pieces; })(),
      };
      const { text, rows, reported } = await write(source);
      expect([rows, reported]).toEqual([3, 3]);
      expect(text).toBe('id,text,meta\r\n1,"é中😀 ""q"", =x","{""a"":[1]}"\r\n2,"two\nlines\r\n",\r\n3,\'=1+1,x\r\n');
    }
  });

  it('gives an exporter without rows or declared fields an empty file, and one with declared fields their header', async () => {
    const none = { count: async () => 0, ndjson: async function* (): AsyncGenerator<NdjsonChunk> {} };
    const exporter = (keys: string[]) => ({ kind: 'exporter', name: 'x', fields: keys.map((key) => ({ key })) }) as unknown as PlannedCategory;
    expect((await write(none, exporter([]))).text).toBe('');
    expect((await write(none, exporter(['a', 'b']))).text).toBe('a,b\r\n');
  });
});
