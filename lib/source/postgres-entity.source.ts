import type { Readable } from 'node:stream';
import type { ObjectLiteral, QueryRunner } from 'typeorm';
import type { EntityCategory } from '../metadata/export-category.interface';
import { countLines, NdjsonChunk, serializeLines } from './category-source';
import { CopyLineStep, joinCopyLines } from './copy-lines.util';
import { CLOSE_TIMEOUT_MS, EntitySource } from './entity-source';
import { withTimeout } from '../common/timeout.util';
import { guardedCopyTo } from './copy-to-stdout.util';
import { inlineParameters, postgresCsvPlan, PostgresLinePlan, postgresLinePlan } from './postgres-lines.util';
import { createFieldWriter, createLineSerializer, LineSerializer } from './record.serializer';

const CURSOR = 'data_export_cursor';

/** The part of a `pg` client the COPY path uses. */
interface PgClient {
  readonly processID: number | null;
  query(text: string): Promise<{ fields: { name: string; dataTypeID: number }[] }>;
  query<T>(submittable: T): T;
  getTypeParser(oid: number, format: 'text'): (text: string) => unknown;
}

/**
 * PostgreSQL: a READ ONLY REPEATABLE READ transaction; the database writes the NDJSON lines (or
 * the text around the fields that need the serializer, see `postgresLinePlan`) and `COPY … TO
 * STDOUT` streams them as bytes. Where the parameters cannot be written into the statement as
 * literals, the lines come through a server-side cursor (`DECLARE … CURSOR`, `FETCH n`).
 * @internal
 */
export class PostgresEntitySource extends EntitySource {
  protected readonly snapshot = true;

  protected async begin(runner: QueryRunner): Promise<void> {
    await runner.query('START TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY');
    // LOCAL settings end with the transaction. Lines written by PostgreSQL format timestamps in
    // UTC. A COPY is planned for its total cost, unlike a cursor: without these, an account
    // that is most of a table gets a (parallel) scan and a sort of all its rows, where the
    // (scope, primary key) index streams them in order from one backend.
    await runner.query(`SET LOCAL TimeZone = 'UTC'`);
    await runner.query('SET LOCAL enable_sort = off');
    await runner.query('SET LOCAL max_parallel_workers_per_gather = 0');
  }

  override ndjson(category: EntityCategory): AsyncIterable<NdjsonChunk> {
    const copied = this.copyLines(category);
    if (copied) return countLines(copied);
    const { batches, line } = this.cursorLines(category);
    return serializeLines(batches, line);
  }

  /**
   * The category's lines through `COPY`, as NDJSON bytes; `undefined` when its parameters cannot
   * be written as literals (COPY takes none) or PostgreSQL can write none of its fields.
   */
  copyLines(category: EntityCategory): AsyncIterable<Buffer> | undefined {
    const [sql, params] = this.query.select(category, this.runner()).getQueryAndParameters();
    const inlined = inlineParameters(sql, params, this.pgDateText());
    const plan = inlined === undefined ? undefined : postgresLinePlan(category, inlined);
    if (!plan) return undefined;
    return this.tracked(plan.whole ? this.copy(plan.sql) : this.copyPartialLines(category, plan));
  }

  /**
   * The category's CSV records, written by PostgreSQL (`COPY … (FORMAT csv)`: cells quoted as RFC
   * 4180 has them, LF record ends, no header), when every field qualifies (see `postgresCsvPlan`)
   * and the parameters can be written as literals; `undefined` otherwise.
   */
  override csv(category: EntityCategory, options: { neutralizeFormulas: boolean }): AsyncIterable<Buffer> | undefined {
    const [sql, params] = this.query.select(category, this.runner()).getQueryAndParameters();
    const inlined = inlineParameters(sql, params, this.pgDateText());
    const plan = inlined === undefined ? undefined : postgresCsvPlan(category, inlined, options.neutralizeFormulas);
    if (!plan) return undefined;
    return this.tracked(this.copy(plan, 'FORMAT csv'));
  }

  /**
   * The category's rows through the cursor and how each becomes its line: PostgreSQL's finished
   * line, its text around the fields the serializer writes, or (when it can write none) the
   * serializer over raw rows.
   */
  cursorLines(category: EntityCategory): { batches: AsyncIterable<ObjectLiteral[]>; line: LineSerializer } {
    const [sql, params] = this.query.select(category, this.runner()).getQueryAndParameters();
    const plan = postgresLinePlan(category, sql);
    if (!plan) return { batches: this.tracked(this.cursor(sql, params)), line: createLineSerializer(category, this.dataSource) };
    const batches = this.tracked(this.cursor(plan.sql, params));
    if (!plan.whole) return { batches, line: createLineSerializer(category, this.dataSource, plan.parts) };
    return { batches, line: (row) => row.line as string };
  }

  protected readRows(category: EntityCategory): AsyncGenerator<ObjectLiteral[]> {
    return this.cursor(...this.query.select(category, this.runner()).getQueryAndParameters());
  }

  /**
   * NDJSON lines of a category whose text PostgreSQL writes around some fields, through `COPY`:
   * the text is copied as bytes, and only those fields' values become JavaScript values, parsed
   * from their text by the `pg` client's own type parsers (what a cursor's rows would hold) and
   * written by the serializer.
   */
  private async *copyPartialLines(category: EntityCategory, plan: Extract<PostgresLinePlan, { whole: false }>): AsyncGenerator<Buffer> {
    const client = this.pgClient();
    // The columns' types, for their parsers: a statement that plans the query and returns no row.
    const described = await client.query(this.logged(`SELECT * FROM (${plan.sql}) d LIMIT 0`));
    const column = new Map(described.fields.map((f, i) => [f.name, { index: i, oid: f.dataTypeID }]));
    const steps = plan.parts.map((part): CopyLineStep => {
      if ('text' in part) return { text: Buffer.from(part.text, 'utf8') };
      if ('segment' in part) return { copy: column.get(part.segment)!.index };
      const { index, oid } = column.get(`f${part.field}`)!;
      const parse = client.getTypeParser(oid, 'text');
      const write = createFieldWriter(category.fields[part.field], this.dataSource.driver);
      return { column: index, write: (text) => write(text === null ? null : parse(text)) };
    });
    yield* joinCopyLines(this.copy(plan.sql), described.fields.length, steps);
  }

  /**
   * Streams `sql`'s rows through `COPY … TO STDOUT`, as bytes, with backpressure. By default (one
   * text column of JSON lines), CSV with control characters as delimiter and quote writes each
   * value as it is: a JSON line holds no raw control character, so nothing is quoted or escaped. A consumer that stops early
   * cancels the statement and reads to its end, so the connection stays usable; a COPY that
   * does not end then marks the connection unusable.
   */
  private async *copy(sql: string, format = `FORMAT csv, DELIMITER E'\\x02', QUOTE E'\\x01'`): AsyncGenerator<Buffer> {
    const client = this.pgClient();
    const stream: Readable = client.query(guardedCopyTo(this.logged(`COPY (${sql}) TO STDOUT WITH (${format})`)));
    // Every error has a listener: the stream can emit more than one (a cancelled statement,
    // then its connection destroyed on close), and one without a listener ends the process.
    let failed = false;
    stream.on('error', () => (failed = true));
    const settled = new Promise<void>((resolve) => {
      stream.once('end', resolve);
      stream.once('close', resolve);
      stream.once('error', () => resolve());
    });
    let complete = false;
    try {
      for await (const chunk of stream.iterator({ destroyOnReturn: false })) yield chunk as Buffer;
      complete = true;
    } finally {
      if (!complete && !failed && !stream.destroyed && !stream.readableEnded) {
        await withTimeout(this.dataSource.query('SELECT pg_cancel_backend($1)', [client.processID]), CLOSE_TIMEOUT_MS).catch(() => undefined);
        stream.resume();
        await withTimeout(settled, CLOSE_TIMEOUT_MS).catch(() => (this.broken = true));
      }
    }
  }

  /** Reads `sql` through a server-side cursor, fetching the next batch while this one is written. */
  private async *cursor(sql: string, params: unknown[]): AsyncGenerator<ObjectLiteral[]> {
    const qr = this.runner();
    await qr.query(`DECLARE ${CURSOR} NO SCROLL CURSOR FOR ${sql}`, params);
    const fetch = (): Promise<ObjectLiteral[]> => {
      const rows: Promise<ObjectLiteral[]> = qr.query(`FETCH FORWARD ${this.batchSize} FROM ${CURSOR}`);
      // Awaited below or in `finally`; this only keeps a rejection from going unhandled meanwhile.
      rows.catch(() => undefined);
      return rows;
    };
    let next: Promise<ObjectLiteral[]> | undefined = fetch();
    try {
      while (next) {
        const rows: ObjectLiteral[] = await next;
        next = rows.length === this.batchSize ? fetch() : undefined;
        if (rows.length > 0) yield rows;
      }
    } finally {
      await next?.catch(() => undefined);
      await qr.query(`CLOSE ${CURSOR}`);
    }
  }

  /** The `pg` client of the reading connection, for what TypeORM does not offer (COPY, type parsers). */
  private pgClient(): PgClient {
    return (this.runner() as unknown as { databaseConnection: PgClient }).databaseConnection;
  }

  /**
   * How the `pg` driver TypeORM loaded writes a date parameter (its `utils.prepareValue`, which
   * follows `pg.defaults.parseInputDatesAsUTC`); `undefined` when it is not available (pg-native).
   */
  private pgDateText(): ((date: Date) => unknown) | undefined {
    const pg = (this.dataSource.driver as unknown as { postgres?: { utils?: { prepareValue?: (value: unknown) => unknown } } }).postgres;
    const prepare = pg?.utils?.prepareValue;
    return typeof prepare === 'function' ? (date) => prepare(date) : undefined;
  }

  /**
   * Passes a statement that goes to the `pg` client directly (not through TypeORM) to the
   * DataSource's logger, as TypeORM does for its own queries, so that `logging` shows it.
   */
  private logged(sql: string): string {
    this.dataSource.logger.logQuery(sql, undefined, this.runner());
    return sql;
  }
}
