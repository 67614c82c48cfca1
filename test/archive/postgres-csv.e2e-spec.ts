/**
 * On PostgreSQL the database writes a CSV category's records itself (`COPY … (FORMAT csv)`) when
 * every field is a plain column. Its cells must be what the CSV writer writes from the NDJSON
 * lines of the same rows, formula neutralization included: this test plants the hard values of
 * every qualifying type and compares the two paths cell by cell.
 */
import { parse } from 'csv-parse/sync';
import { Column, Entity, PrimaryColumn } from 'typeorm';
import { Exportable, ExportRegistry } from 'nestjs-data-export';
import type { ArchiveContext } from '../../lib/archive/archive.writer';
import { ChunkedEntryWriter } from '../../lib/archive/chunked-entry.writer';
import { writeCategoryCsv } from '../../lib/archive/csv-archive.writer';
import type { EntityCategory } from '../../lib/metadata/export-category.interface';
import type { CategorySource } from '../../lib/source/category-source';
import { PostgresEntitySource } from '../../lib/source/postgres-entity.source';
import { createTestApp, TestApp } from '../utils/test-app';

const ACCOUNT = 'acct-csv';

enum Stage {
  Open = 'open',
  Formula = '=stage',
}

@Exportable({ category: 'plain', scope: 'accountId' })
@Entity('csv_plain')
class PlainRow {
  @PrimaryColumn({ type: 'integer' }) id: number;
  @Column({ type: 'varchar', length: 40 }) accountId: string;
  @Column({ type: 'text', nullable: true }) text: string | null;
  @Column({ type: 'uuid', nullable: true }) ref: string | null;
  @Column({ type: 'integer', nullable: true }) count: number | null;
  @Column({ type: 'bigint', nullable: true }) big: string | null;
  @Column({ type: 'boolean', nullable: true }) flag: boolean | null;
  @Column({ type: 'enum', enum: Stage, nullable: true }) stage: Stage | null;
  @Column({ type: 'timestamptz', nullable: true }) at: Date | null;
}

/** A float: PostgreSQL does not write this category's cells. */
@Exportable({ category: 'floaty', scope: 'accountId' })
@Entity('csv_floaty')
class FloatRow {
  @PrimaryColumn({ type: 'integer' }) id: number;
  @Column({ type: 'varchar', length: 40 }) accountId: string;
  @Column({ type: 'double precision', nullable: true }) ratio: number | null;
}

const TEXTS = [
  '', 'plain', '=1+1', '+1+2', "-2+3+cmd|' /C calc'!A0", '@SUM(A1)', '\t=tab', '\r=cr', '-5', '+7.25', '-.5', '1e5', '-1e5x',
  'a=b', ' =1', 'comma, "quote"', 'new\nline', 'cr\r\nlf', '\\.', 'unicode é 中文 😀', '"', null,
];
const INSTANTS = ['2024-02-29 12:34:56.789123+00', '0001-12-31 23:59:59.5+00 BC', '10000-01-01 00:00:00+00', 'infinity', null];

/** A category written to CSV by the writer, from `source`. */
async function csvOf(category: EntityCategory, source: CategorySource, neutralizeFormulas: boolean): Promise<{ text: string; rows: number }> {
  const entry = new ChunkedEntryWriter();
  const chunks: Buffer[] = [];
  entry.stream.on('data', (c: Buffer) => chunks.push(c));
  let reported = 0;
  const ctx = {
    source,
    batchSize: 7,
    csv: { neutralizeFormulas, bom: false },
    onBatch: async (_c: unknown, n: number) => void (reported += n),
  } as unknown as ArchiveContext;
  const rows = await writeCategoryCsv(ctx, category, entry);
  await entry.end();
  expect(reported).toBe(rows);
  return { text: Buffer.concat(chunks).toString('utf8'), rows };
}

describe('CSV records written by PostgreSQL', () => {
  let t: TestApp;
  let plain: EntityCategory;
  let floaty: EntityCategory;
  let reader: PostgresEntitySource;

  beforeAll(async () => {
    t = await createTestApp('postgres', { entities: [PlainRow, FloatRow] });
    for (let i = 0; i < 60; i++) {
      await t.dataSource.query(
        `INSERT INTO csv_plain (id, "accountId", text, ref, count, big, flag, stage, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::timestamptz)`,
        [
          i + 1,
          i === 59 ? 'acct-other' : ACCOUNT,
          TEXTS[i % TEXTS.length],
          i % 4 === 0 ? null : `0000000${i % 10}-aaaa-4bbb-8ccc-${String(i).padStart(12, '0')}`,
          [-5, 2147483647, 0, null][i % 4],
          ['-9223372036854775808', '9007199254740993', null][i % 3],
          [true, false, null][i % 3],
          [Stage.Open, Stage.Formula, null][i % 3],
          INSTANTS[i % INSTANTS.length],
        ],
      );
    }
    // A large account, for stopping a COPY halfway.
    await t.dataSource.query(
      `INSERT INTO csv_plain (id, "accountId", text) SELECT 10000 + g, 'acct-bulk', repeat('=x', 100) FROM generate_series(1, 20000) g`,
    );
    await t.dataSource.query(`INSERT INTO csv_floaty (id, "accountId", ratio) VALUES (1, $1, 0.1)`, [ACCOUNT]);
    const registry = t.app.get(ExportRegistry);
    plain = registry.getEntityCategory('plain')!;
    floaty = registry.getEntityCategory('floaty')!;
    reader = new PostgresEntitySource({ dataSource: t.dataSource, subject: { kind: 'account', accountId: ACCOUNT, userId: 'u-csv', requestedBy: 'u-csv' }, filters: {}, batchSize: 16 });
    await reader.open();
  });
  afterAll(async () => {
    await reader?.close();
    await t?.close();
  });

  it.each([true, false])('gives the cells the NDJSON path gives (neutralizeFormulas %p)', async (neutralizeFormulas) => {
    const fromLines: CategorySource = { count: (c) => reader.count(c as EntityCategory), ndjson: (c) => reader.ndjson(c as EntityCategory) };
    let copied = 0;
    const fromCopy: CategorySource = {
      count: fromLines.count,
      ndjson: () => {
        throw new Error('the COPY path reads no NDJSON');
      },
      csv: (c, options) => {
        const records = reader.csv(c as EntityCategory, options);
        if (records) copied++;
        return records;
      },
    };
    const lines = await csvOf(plain, fromLines, neutralizeFormulas);
    const copy = await csvOf(plain, fromCopy, neutralizeFormulas);
    expect(copied).toBe(1);
    expect(copy.rows).toBe(59);
    expect(lines.rows).toBe(59);
    const strict = (text: string) => parse(text, { relax_quotes: false, relax_column_count: false, record_delimiter: '\r\n' }) as string[][];
    const cells = strict(copy.text);
    expect(cells).toEqual(strict(lines.text));
    // Byte for byte, too: the same quoting, the same empty cells.
    expect(copy.text).toBe(lines.text);
    // Every record ends CRLF; a line break inside a quoted cell is data.
    expect(copy.text.replace(/"(?:[^"]|"")*"/g, '').split('\r\n').filter((piece) => /[\r\n]/.test(piece))).toEqual([]);
    const column = (name: string) => cells.slice(1).map((r) => r[cells[0].indexOf(name)]);
    const mark = neutralizeFormulas ? "'" : '';
    expect(column('text')).toEqual(expect.arrayContaining([`${mark}=1+1`, `${mark}\t=tab`, `${mark}\r=cr`, '-5', '+7.25', 'a=b', 'cr\r\nlf', '\\.', '']));
    expect(column('stage')).toEqual(expect.arrayContaining(['open', `${mark}=stage`, '']));
    expect(column('count')).toEqual(expect.arrayContaining(['-5', '2147483647', '']));
    expect(column('big')).toEqual(expect.arrayContaining(['-9223372036854775808', '9007199254740993']));
    expect(column('flag')).toEqual(expect.arrayContaining(['true', 'false', '']));
    expect(column('at')).toEqual(expect.arrayContaining(['2024-02-29T12:34:56.789Z', '0000-12-31T23:59:59.500Z', `${mark}+010000-01-01T00:00:00.000Z`, '']));
    expect(column('accountId').every((a) => a === ACCOUNT)).toBe(true);
  });

  it('stops a COPY halfway when the run stops (a cancel): the writer rejects, the statement is cancelled and the connection rolls back cleanly', async () => {
    const busy = () =>
      t.dataSource.query(
        `SELECT pid, state FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND (state LIKE 'idle in transaction%' OR query LIKE 'COPY (%' AND state = 'active')`,
      );
    // The other reader of this suite holds its transaction open.
    const before = await busy();
    const bulk = new PostgresEntitySource({ dataSource: t.dataSource, subject: { kind: 'account', accountId: 'acct-bulk', userId: 'u-csv', requestedBy: 'u-csv' }, filters: {}, batchSize: 16 });
    await bulk.open();
    let failed = true;
    try {
      const stop = new Error('cancelled');
      const entry = new ChunkedEntryWriter();
      entry.stream.resume();
      const ctx = {
        source: { count: () => Promise.resolve(0), ndjson: () => [], csv: (c: EntityCategory, o: { neutralizeFormulas: boolean }) => bulk.csv(c, o) },
        batchSize: 100,
        onBatch: () => Promise.reject(stop),
      } as unknown as ArchiveContext;
      await expect(writeCategoryCsv(ctx, plain, entry)).rejects.toBe(stop);
      failed = false;
    } finally {
      await bulk.close(failed);
    }
    // No session is left copying, or holding the aborted transaction.
    expect(await busy()).toEqual(before);
  });

  it('leaves a category with a field it does not write to the NDJSON path', () => {
    expect(reader.csv(floaty, { neutralizeFormulas: true })).toBeUndefined();
    expect(reader.csv(plain, { neutralizeFormulas: true })).toBeDefined();
  });
});
