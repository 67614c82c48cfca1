/**
 * On PostgreSQL the database writes a category's NDJSON lines itself when every field qualifies,
 * and the text around the other fields when some do not. Those lines must be byte for byte what
 * the library's serializer writes from the same rows: this test plants the hard values of every
 * qualifying type (escapes, unicode, extreme integers, timestamps at and past the ends of the
 * ISO-8601 range, infinity), mixes them with fields that only the serializer writes, and
 * compares the paths.
 */
import { Column, DataSource, Entity, PrimaryColumn } from 'typeorm';
import { DataExport, Exportable, ExportPrincipal, ExportRegistry, ExportStatus, Redact } from 'nestjs-data-export';
import type { ExportFilters } from '../../lib/entities/data-export.entity';
import type { EntityCategory } from '../../lib/metadata/export-category.interface';
import { createLineSerializer } from '../../lib/source/record.serializer';
import { PostgresEntitySource } from '../../lib/source/postgres-entity.source';
import { postgresLinePlan } from '../../lib/source/postgres-lines.util';
import { dataSourceOptions } from '../utils/databases';
import { createTestApp, downloadArchive, TestApp, waitForExport } from '../utils/test-app';
import { readZip } from '../utils/zip';

const ACCOUNT = 'acct-lines';
const OTHER = 'acct-other';
/** Written into the COPY statement as a literal: quotes and backslashes must stay data. */
const ODD_ACCOUNT = "o'brien\\' OR '1'='1";

enum Stage {
  Open = 'open',
  Closed = 'closed',
}

@Exportable({ category: 'typed', scope: 'accountId', timestamp: 'at' })
@Entity('lines_typed')
class TypedRow {
  @PrimaryColumn({ type: 'integer' }) id: number;
  @Column({ type: 'varchar', length: 40 }) accountId: string;
  @Column({ type: 'text', nullable: true }) text: string | null;
  @Column({ type: 'uuid', nullable: true }) ref: string | null;
  @Column({ type: 'smallint', nullable: true }) small: number | null;
  @Column({ type: 'integer', nullable: true }) count: number | null;
  @Column({ type: 'bigint', nullable: true }) big: string | null;
  @Column({ type: 'boolean', nullable: true }) flag: boolean | null;
  @Column({ type: 'enum', enum: Stage, nullable: true }) stage: Stage | null;
  @Column({ type: 'timestamptz', nullable: true }) at: Date | null;
  @Column({ type: 'timestamp', precision: 6, nullable: true }) local: Date | null;
  @Column({ name: 'odd_column', type: 'varchar', length: 20, nullable: true }) "it's": string | null;
}

/** Two fields that PostgreSQL does not write: it writes the text around them. */
@Exportable({ category: 'mixed', scope: 'accountId' })
@Entity('lines_mixed')
class MixedRow {
  @PrimaryColumn({ type: 'integer' }) id: number;
  @Column({ type: 'varchar', length: 40 }) accountId: string;
  @Column({ type: 'double precision', nullable: true }) ratio: number | null;
  @Redact({ keep: 'last4' }) @Column({ type: 'varchar', length: 40, nullable: true }) phone: string | null;
}

/** Fields PostgreSQL does not write first, last, side by side and between the ones it writes. */
@Exportable({ category: 'hybrid', scope: 'accountId' })
@Entity('lines_hybrid')
class HybridRow {
  @Column({ type: 'jsonb', nullable: true }) meta: unknown;
  @PrimaryColumn({ type: 'integer' }) id: number;
  @Column({ type: 'varchar', length: 40 }) accountId: string;
  @Column({ type: 'numeric', nullable: true }) amount: string | null;
  // Stored upper case, exported lower case: the transformer must run on this path too.
  @Column({ type: 'text', nullable: true, transformer: { from: (v: string | null) => v?.toLowerCase() ?? null, to: (v: string | null) => v?.toUpperCase() ?? null } })
  note: string | null;
  @Column({ type: 'text', nullable: true }) text: string | null;
  @Column({ type: 'timestamptz', nullable: true }) at: Date | null;
  @Column({ type: 'double precision', nullable: true }) ratio: number | null;
}

const TEXTS = [
  '',
  'plain',
  'quote " backslash \\ slash /',
  'new\nline\ttab\rreturn\bback\fform',
  'controls \u0001\u001f\u007f',
  'unicode é ü 中文 😀 \u2028 \u2029',
  "</script> 'single'",
  null,
];
const INSTANTS = [
  '2024-02-29 12:34:56.789123+00',
  '2024-02-29 12:34:56.999999+05:30',
  '1970-01-01 00:00:00+00',
  '0001-01-01 00:00:00+00',
  '9999-12-31 23:59:59.999999+00',
  '10000-01-01 00:00:00+00',
  '275760-09-13 00:00:00+00',
  '275760-09-13 00:00:00.001+00',
  '0001-12-31 23:59:59.5+00 BC',
  '0100-06-15 08:00:00+00 BC',
  'infinity',
  '-infinity',
  null,
];
/** Values COPY's CSV quotes (control bytes of its format, newlines, empty), or leaves bare. */
const NOTES = ['HELLO World', null, 'ÉTÉ', '', '\u0001', 'a\u0001\u0001b', 'x\u0002y', 'line\nbreak', 'cr\rlf\r\n', '\\.', '"quoted", 😀'];
const LOCALS = ['2024-02-29 12:34:56.789123', '0001-01-01 00:00:00', '12345-06-07 08:09:10.5', '0044-03-15 12:00:00 BC', 'infinity', null];

function rowsOf(n: number): Record<string, unknown>[] {
  return Array.from({ length: n }, (_, i) => ({
    id: i + 1,
    accountId: ACCOUNT,
    text: TEXTS[i % TEXTS.length],
    ref: i % 5 === 0 ? null : `0000000${i % 10}-aaaa-4bbb-8ccc-${String(i).padStart(12, '0')}`,
    small: [-32768, 32767, 0, null][i % 4],
    count: [-2147483648, 2147483647, -1, 0, 42, null][i % 6],
    big: ['9223372036854775807', '-9223372036854775808', '9007199254740993', '0', null][i % 5],
    flag: [true, false, null][i % 3],
    stage: [Stage.Open, Stage.Closed, null][i % 3],
    at: INSTANTS[i % INSTANTS.length],
    local: LOCALS[i % LOCALS.length],
    "it's": i % 2 ? 'odd' : null,
  }));
}

describe('lines written by PostgreSQL', () => {
  let t: TestApp;
  let typed: EntityCategory;
  let mixed: EntityCategory;
  let hybrid: EntityCategory;
  // The comparisons read through sessions whose time zone is not UTC (+13:45), as a host's may be.
  let chatham: DataSource;
  const principal: ExportPrincipal = { userId: 'u-lines', accountId: ACCOUNT, role: 'owner' };
  /** Statements the comparison DataSource's logger saw. */
  const queries: string[] = [];

  beforeAll(async () => {
    t = await createTestApp('postgres', { entities: [TypedRow, MixedRow, HybridRow], exportOptions: { batchSize: 16 } });
    // Raw SQL: the timestamps are PostgreSQL literals that a JavaScript Date cannot carry.
    const rows: Record<string, unknown>[] = [
      ...rowsOf(120),
      ...rowsOf(3).map((r, i) => ({ ...r, id: 1000 + i, accountId: OTHER })),
      ...rowsOf(2).map((r, i) => ({ ...r, id: 2000 + i, accountId: ODD_ACCOUNT })),
    ];
    for (const r of rows) {
      await t.dataSource.query(
        `INSERT INTO lines_typed (id, "accountId", text, ref, small, count, big, flag, stage, at, local, odd_column)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::timestamptz, $11::timestamp, $12)`,
        [r.id, r.accountId, r.text, r.ref, r.small, r.count, r.big, r.flag, r.stage, r.at, r.local, r["it's"]],
      );
    }
    // A large account, for stopping a COPY halfway.
    await t.dataSource.query(
      `INSERT INTO lines_typed (id, "accountId", text, at) SELECT 10000 + g, 'acct-bulk', repeat('x', 200), now() FROM generate_series(1, 20000) g`,
    );
    await t.dataSource.getRepository(MixedRow).insert(
      Array.from({ length: 40 }, (_, i) => ({ id: i + 1, accountId: ACCOUNT, ratio: [0.1, 1e21, -0, null][i % 4], phone: '+1 555 0100' })),
    );
    const metas = [{ a: 1, b: [true, null, 'é "q" \\ 😀'] }, 'just text', [], null, { nested: { deep: 1.5e300 } }];
    for (const [i, r] of rowsOf(60).entries()) {
      await t.dataSource.query(
        `INSERT INTO lines_hybrid (meta, id, "accountId", amount, note, text, at, ratio) VALUES ($1::jsonb, $2, $3, $4, $5, $6, $7::timestamptz, $8)`,
        [
          metas[i % metas.length] === null ? null : JSON.stringify(metas[i % metas.length]),
          r.id,
          r.accountId,
          ['12345678901234567890.123456789', '-0.5', '0', null][i % 4],
          NOTES[i % NOTES.length],
          r.text,
          r.at,
          [0.1, 1e21, -0, null, 5e-324][i % 5],
        ],
      );
    }
    await t.dataSource.query(
      `INSERT INTO lines_hybrid (id, "accountId", note, text, at) SELECT 10000 + g, 'acct-bulk', repeat('X', 200), 'bulk', now() FROM generate_series(1, 20000) g`,
    );
    chatham = await new DataSource({
      ...dataSourceOptions('postgres', [TypedRow, MixedRow, HybridRow]),
      synchronize: false,
      dropSchema: false,
      extra: { options: '-c TimeZone=Pacific/Chatham' },
      logging: ['query'],
      logger: {
        logQuery: (sql: string) => queries.push(sql),
        logQueryError: () => undefined,
        logQuerySlow: () => undefined,
        logSchemaBuild: () => undefined,
        logMigration: () => undefined,
        log: () => undefined,
      },
    } as never).initialize();
    const registry = t.app.get(ExportRegistry);
    typed = registry.getEntityCategory('typed')!;
    mixed = registry.getEntityCategory('mixed')!;
    hybrid = registry.getEntityCategory('hybrid')!;
  });
  afterAll(async () => {
    await chatham?.destroy();
    await t?.close();
  });

  /**
   * Every path over the same snapshot: PostgreSQL's lines through the cursor and through COPY
   * (`copied`, when the category takes that path), and the serializer over raw rows.
   */
  async function bothPaths(
    category: EntityCategory,
    filters: ExportFilters = {},
    accountId = ACCOUNT,
  ): Promise<{ database: string[]; copied?: string[]; serializer: string[]; rawKeys: string[] }> {
    const reader = new PostgresEntitySource({ dataSource: chatham, subject: { accountId, userId: 'u-lines', kind: 'account', requestedBy: 'u-lines' }, filters, batchSize: 16 });
    await reader.open();
    try {
      const database: string[] = [];
      const source = reader.cursorLines(category);
      let rawKeys: string[] = [];
      for await (const batch of source.batches) {
        rawKeys = Object.keys(batch[0]);
        database.push(...batch.map(source.line));
      }
      const ndjson = reader.copyLines(category);
      let copied: string[] | undefined;
      if (ndjson) {
        const chunks: Buffer[] = [];
        for await (const chunk of ndjson) chunks.push(chunk);
        copied = Buffer.concat(chunks).toString('utf8').split('\n');
        expect(copied.pop()).toBe('');
      }
      const serialize = createLineSerializer(category, chatham);
      const serializer: string[] = [];
      for await (const batch of reader.rows(category)) serializer.push(...batch.map(serialize));
      return { database, copied, serializer, rawKeys };
    } finally {
      await reader.close();
    }
  }

  it('writes the lines of a category whose fields all qualify, as the serializer does', async () => {
    expect(await chatham.query('SHOW TimeZone')).toEqual([{ TimeZone: 'Pacific/Chatham' }]);
    expect(Intl.DateTimeFormat().resolvedOptions().timeZone).toMatch(/UTC|GMT/);
    expect(postgresLinePlan(typed, 'SELECT 1')?.whole).toBe(true);
    const { database, copied, serializer, rawKeys } = await bothPaths(typed);
    // The rows came from PostgreSQL as finished lines, through the cursor and through COPY.
    expect(rawKeys).toEqual(['line']);
    expect(database).toHaveLength(120);
    expect(copied).toEqual(database);
    for (let i = 0; i < serializer.length; i++) expect({ row: i + 1, line: database[i] }).toEqual({ row: i + 1, line: serializer[i] });
    // Spot checks that the comparison covers the hard values.
    const parsed = database.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(parsed.map((r) => r.at)).toEqual(
      expect.arrayContaining(['2024-02-29T12:34:56.789Z', '2024-02-29T07:04:56.999Z', '+010000-01-01T00:00:00.000Z', '0000-12-31T23:59:59.500Z', null]),
    );
    expect(parsed.map((r) => r.local)).toEqual(expect.arrayContaining(['+012345-06-07T08:09:10.500Z', '-000043-03-15T12:00:00.000Z']));
    expect(parsed.map((r) => r.big)).toEqual(expect.arrayContaining(['9223372036854775807', '9007199254740993']));
    expect(parsed.map((r) => r.text)).toEqual(expect.arrayContaining(TEXTS));
    expect(parsed.every((r) => r.accountId === ACCOUNT)).toBe(true);
  });

  it('writes the text around a float and a mask, and leaves only those two fields to the serializer', async () => {
    expect(postgresLinePlan(mixed, 'SELECT 1')?.whole).toBe(false);
    const { database, copied, serializer, rawKeys } = await bothPaths(mixed);
    // One column of text the database wrote (id and accountId with their keys), and the two raw values.
    expect(rawKeys).toEqual(['s0', 'f2', 'f3']);
    expect(copied).toEqual(database);
    expect(database).toHaveLength(40);
    expect(database).toEqual(serializer);
    expect(JSON.parse(database[0])).toEqual({ id: 1, accountId: ACCOUNT, ratio: 0.1, phone: '…0100' });
  });

  it('writes lines as the serializer does when those fields come first, last and side by side', async () => {
    const { database, copied, serializer, rawKeys } = await bothPaths(hybrid);
    expect(rawKeys).toEqual(['f0', 's0', 'f3', 'f4', 's1', 'f7']);
    // Through COPY: the database's text as bytes, the other fields parsed from theirs.
    expect(copied).toEqual(database);
    expect(database).toHaveLength(60);
    for (let i = 0; i < serializer.length; i++) expect({ row: i + 1, line: database[i] }).toEqual({ row: i + 1, line: serializer[i] });
    const parsed = database.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(Object.keys(parsed[0])).toEqual(['meta', 'id', 'accountId', 'amount', 'note', 'text', 'at', 'ratio']);
    expect(parsed.map((r) => r.note)).toEqual(expect.arrayContaining(NOTES.map((n) => n?.toLowerCase() ?? null)));
    expect(parsed.map((r) => r.amount)).toEqual(expect.arrayContaining(['12345678901234567890.123456789', null]));
    expect(parsed[0].meta).toEqual({ a: 1, b: [true, null, 'é "q" \\ 😀'] });
    expect(parsed.map((r) => r.text)).toEqual(expect.arrayContaining(TEXTS));
    expect(parsed.map((r) => r.at)).toEqual(expect.arrayContaining(['+010000-01-01T00:00:00.000Z', '0000-12-31T23:59:59.500Z', null]));
  });

  it('reads a date-filtered category through COPY too, comparing microseconds as the cursor does', async () => {
    // 07:04:56.999999Z is in (since is 999 µs before it); 12:34:56.789123Z is out (until is 123 µs before it).
    const filters = { since: '2024-02-29T07:04:56.999Z', until: '2024-02-29T12:34:56.789Z' };
    const { database, copied, serializer } = await bothPaths(typed, filters);
    expect(copied).toBeDefined();
    expect(copied).toEqual(database);
    expect(database).toEqual(serializer);
    expect(database).toHaveLength(10);
    expect(new Set(database.map((l) => JSON.parse(l).at))).toEqual(new Set(['2024-02-29T07:04:56.999Z']));
  });

  /** NDJSON lines through COPY for one account. */
  async function copiedLines(accountId: string): Promise<string[]> {
    const reader = new PostgresEntitySource({ dataSource: chatham, subject: { accountId, userId: 'u-lines', kind: 'account', requestedBy: 'u-lines' }, filters: {}, batchSize: 16 });
    await reader.open();
    try {
      const source = reader.copyLines(typed);
      if (!source) throw new Error('COPY was not used');
      const chunks: Buffer[] = [];
      for await (const chunk of source) chunks.push(chunk);
      return Buffer.concat(chunks).toString('utf8').split('\n').filter(Boolean);
    } finally {
      await reader.close();
    }
  }

  it("shows the statements it sends past TypeORM (COPY, and the column types' query) to the DataSource's logger", async () => {
    queries.length = 0;
    await bothPaths(hybrid);
    expect(queries.filter((q) => q.startsWith('COPY ('))).toHaveLength(1);
    expect(queries.filter((q) => /^SELECT \* FROM \(.*\) d LIMIT 0$/s.test(q))).toHaveLength(1);
  });

  it('writes the account id into the COPY statement as data, quotes and backslashes included', async () => {
    const lines = await copiedLines(ODD_ACCOUNT);
    expect(lines.map((l) => JSON.parse(l).id)).toEqual([2000, 2001]);
    expect(lines.every((l) => JSON.parse(l).accountId === ODD_ACCOUNT)).toBe(true);
    expect(await copiedLines("o'brien")).toEqual([]);
  });

  it.each(['typed', 'hybrid'])('stops a COPY halfway (%s): the statement is cancelled and the connection rolls back cleanly', async (name) => {
    const reader = new PostgresEntitySource({ dataSource: chatham, subject: { accountId: 'acct-bulk', userId: 'u-lines', kind: 'account', requestedBy: 'u-lines' }, filters: {}, batchSize: 16 });
    await reader.open();
    let failed = true;
    try {
      const source = reader.copyLines(name === 'typed' ? typed : hybrid);
      if (!source) throw new Error('COPY was not used');
      let bytes = 0;
      for await (const chunk of source) {
        bytes += chunk.length;
        break;
      }
      expect(bytes).toBeGreaterThan(0);
      expect(bytes).toBeLessThan(20000 * 200);
      failed = false;
    } finally {
      await reader.close(failed);
    }
    // No session is left copying, or holding the aborted transaction.
    const busy = await chatham.query(
      `SELECT state FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND (state LIKE 'idle in transaction%' OR query LIKE 'COPY (%' AND state = 'active')`,
    );
    expect(busy).toEqual([]);
  });

  it('writes a JSON-format export from COPY lines, with a separator between rows and none after the last', async () => {
    const bulk: ExportPrincipal = { userId: 'u-bulk', accountId: 'acct-bulk', role: 'owner' };
    // The worker's statements, seen through the DataSource's logger (the reader hands COPY to it).
    const logger = t.dataSource.logger;
    const logQuery = logger.logQuery.bind(logger);
    const statements: string[] = [];
    logger.logQuery = (query, parameters, runner) => {
      statements.push(query);
      return logQuery(query, parameters, runner);
    };
    let row: DataExport;
    try {
      const view = await t.service.request(bulk, { format: 'json' });
      row = await waitForExport(t.dataSource, view.id);
    } finally {
      logger.logQuery = logQuery;
    }
    expect(row.status).toBe(ExportStatus.Completed);
    expect(statements.filter((q) => q.startsWith('COPY ('))).toHaveLength(3);
    expect(statements.filter((q) => q.startsWith('DECLARE'))).toEqual([]);
    const text = (await downloadArchive(t, row.id, bulk)).toString('utf8');
    const doc = JSON.parse(text) as { data: Record<string, unknown[]>; summary: { byCategory: Record<string, number> } };
    for (const category of [typed, hybrid]) {
      const { serializer, copied } = await bothPaths(category, {}, 'acct-bulk');
      expect(copied).toBeDefined();
      expect(serializer).toHaveLength(20000);
      // Byte for byte what the serializer path writes, across many COPY chunks.
      expect(text.includes(`${JSON.stringify(category.name)}:[\n${serializer.join(',\n')}\n]`)).toBe(true);
      expect(doc.data[category.name]).toHaveLength(20000);
      expect(doc.summary.byCategory[category.name]).toBe(20000);
    }
    expect(doc.data.mixed).toEqual([]);
  });

  it('an export through the worker holds the same lines', async () => {
    const view = await t.service.request(principal);
    const row = await waitForExport(t.dataSource, view.id);
    expect(row.status).toBe(ExportStatus.Completed);
    const zip = await readZip(await downloadArchive(t, row.id, principal));
    for (const category of [typed, mixed, hybrid]) {
      const { serializer } = await bothPaths(category);
      expect(zip.get(`${category.name}.ndjson`)!.toString('utf8')).toBe(serializer.map((l) => `${l}\n`).join(''));
    }
  });
});
