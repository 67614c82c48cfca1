import type { Readable } from 'node:stream';
import { to as copyTo } from 'pg-copy-streams';
import type { DataSource, ObjectLiteral, QueryRunner, SelectQueryBuilder } from 'typeorm';
import type { ColumnMetadata, ExportCategory } from '../registry/export-category.interface';
import type { ExportFilters } from '../entities/data-export.entity';
import type { ExportSubject } from '../service/export-principal.interface';
import { ExportProcessingError } from '../errors/export.error';
import { ExportMessages } from '../export.messages';
import { createFieldWriter, createLineSerializer } from './record.serializer';
import { CopyLineStep, joinCopyLines } from './copy-lines.util';
import { inlineParameters, PostgresLinePlan, postgresLinePlan } from './postgres-lines.util';

const ALIAS = 'x';
const CLOSE_TIMEOUT_MS = 5000;
const CURSOR = 'data_export_cursor';
const SQLITE_BIGINT = new Set(['bigint', 'int8', 'unsigned big int']);
const SQLITE_TYPES = new Set(['sqlite', 'better-sqlite3', 'sqljs', 'capacitor', 'cordova', 'expo', 'nativescript', 'react-native']);

/**
 * A category's rows: either NDJSON bytes (every line ended by `\n`, in buffers the consumer
 * owns) read through `COPY`, or rows in batches and how one row becomes its line. @internal
 */
export type LineSource =
  | { readonly ndjson: AsyncIterable<Buffer> }
  | { readonly batches: AsyncIterable<ObjectLiteral[]>; readonly line: (row: ObjectLiteral) => string };

/** The part of a `pg` client the COPY path uses. */
interface PgClient {
  readonly processID: number | null;
  query(text: string): Promise<{ fields: { name: string; dataTypeID: number }[] }>;
  query<T>(submittable: T): T;
  getTypeParser(oid: number, format: 'text'): (text: string) => unknown;
}

/** How a database is read: a server-side cursor, a driver stream, or keyset pages. @internal */
export type ReadStrategy = 'cursor' | 'stream' | 'keyset';

/**
 * Reads the rows of an account, category by category, in batches, from one consistent snapshot
 * where the database offers one. PostgreSQL: a READ ONLY REPEATABLE READ transaction and a
 * server-side cursor (`DECLARE … CURSOR`, `FETCH n`). MySQL/MariaDB: a READ ONLY transaction
 * `WITH CONSISTENT SNAPSHOT` and the driver's row stream. Others (SQLite): keyset pages over the
 * primary key, each its own statement.
 * @internal
 */
export class ExportReader {
  readonly strategy: ReadStrategy;
  private queryRunner?: QueryRunner;
  /** Reads started and not finished: a statement may still be running on the connection. */
  private reading = 0;
  /** A COPY that did not end when it was stopped: the connection must not be used again. */
  private broken = false;

  constructor(
    private readonly dataSource: DataSource,
    private readonly subject: ExportSubject,
    private readonly filters: ExportFilters,
    readonly batchSize: number,
    /** A driver stream that sends no row for this long (while we wait for one) is abandoned. */
    private readonly stallTimeoutMs = 600_000,
  ) {
    const type = dataSource.options.type;
    this.strategy = type === 'postgres' ? 'cursor' : type === 'mysql' || type === 'mariadb' ? 'stream' : 'keyset';
  }

  /** Opens the connection and, where supported, the read-only snapshot transaction. */
  async open(): Promise<void> {
    this.queryRunner = this.dataSource.createQueryRunner('slave');
    await this.queryRunner.connect();
    if (this.strategy === 'cursor') {
      await this.queryRunner.query('START TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY');
      // LOCAL settings end with the transaction. Lines written by PostgreSQL format timestamps in
      // UTC. A COPY is planned for its total cost, unlike a cursor: without these, an account
      // that is most of a table gets a (parallel) scan and a sort of all its rows, where the
      // (scope, primary key) index streams them in order from one backend.
      await this.queryRunner.query(`SET LOCAL TimeZone = 'UTC'`);
      await this.queryRunner.query('SET LOCAL enable_sort = off');
      await this.queryRunner.query('SET LOCAL max_parallel_workers_per_gather = 0');
    } else if (this.strategy === 'stream') {
      await this.queryRunner.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ');
      await this.queryRunner.query('START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY');
    }
  }

  /**
   * Ends the snapshot and releases the connection. A connection that may still be busy (a read
   * that was not finished, a COPY that did not end when it was cancelled) or that does not
   * answer the rollback in time is destroyed, never returned to the pool, where the next query
   * would wait behind it. After a failure a MySQL connection is always destroyed. Safe to call
   * twice.
   */
  async close(failed = false): Promise<void> {
    const qr = this.queryRunner;
    this.queryRunner = undefined;
    if (!qr || qr.isReleased) return;
    let unusable = this.reading > 0 || this.broken;
    if (!unusable && this.strategy !== 'keyset') {
      try {
        await withTimeout(qr.query('ROLLBACK'), CLOSE_TIMEOUT_MS);
      } catch {
        unusable = true;
      }
    }
    if (unusable || (failed && this.strategy === 'stream')) destroyConnection(qr);
    await qr.release().catch(() => undefined);
  }

  /** Rows the category will yield for this subject and filters. */
  async count(category: ExportCategory): Promise<number> {
    return this.baseQuery(category).getCount();
  }

  /**
   * The category's rows and their serializer. On PostgreSQL the database writes the lines, or
   * the text around the fields that need the serializer (see `postgresLinePlan`). When `ndjson`
   * is asked for and the parameters can be written as literals, they come as NDJSON bytes
   * through `COPY … TO STDOUT`; else as rows through the cursor.
   */
  lines(category: ExportCategory, ndjson = false): LineSource {
    if (this.strategy !== 'cursor') return { batches: this.batches(category), line: createLineSerializer(category, this.dataSource) };
    const [sql, params] = this.selectQuery(category).getQueryAndParameters();
    // COPY takes no parameters: they are written into the statement, when they can be.
    const inlined = ndjson ? inlineParameters(sql, params, this.pgDateText()) : undefined;
    const plan = postgresLinePlan(category, inlined ?? sql);
    if (!plan) return { batches: this.cursorBatches(sql, params), line: createLineSerializer(category, this.dataSource) };
    if (inlined !== undefined) return { ndjson: plan.whole ? this.copyLines(plan.sql) : this.copyPartialLines(category, plan) };
    if (!plan.whole) return { batches: this.cursorBatches(plan.sql, params), line: createLineSerializer(category, this.dataSource, plan.parts) };
    return { batches: this.cursorBatches(plan.sql, params), line: (row) => row.line as string };
  }

  /**
   * NDJSON lines of a category whose text PostgreSQL writes around some fields, through `COPY`:
   * the text is copied as bytes, and only those fields' values become JavaScript values, parsed
   * from their text by the `pg` client's own type parsers (what a cursor's rows would hold) and
   * written by the serializer.
   */
  private async *copyPartialLines(category: ExportCategory, plan: Extract<PostgresLinePlan, { whole: false }>): AsyncGenerator<Buffer> {
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
    yield* joinCopyLines(this.copyLines(plan.sql), described.fields.length, steps);
  }

  /**
   * Streams `sql`'s one text column through `COPY … TO STDOUT`, as bytes, with backpressure. CSV
   * with control characters as delimiter and quote writes each value as it is: a JSON line holds
   * no raw control character, so nothing is quoted or escaped. A consumer that stops early
   * cancels the statement and reads to its end, so the connection stays usable.
   */
  private async *copyLines(sql: string): AsyncGenerator<Buffer> {
    const client = this.pgClient();
    const stream: Readable = client.query(copyTo(this.logged(`COPY (${sql}) TO STDOUT WITH (FORMAT csv, DELIMITER E'\\x02', QUOTE E'\\x01')`)));
    const settled = new Promise<void>((resolve) => {
      stream.once('end', resolve);
      stream.once('close', resolve);
      stream.once('error', () => resolve());
    });
    let complete = false;
    this.reading++;
    try {
      for await (const chunk of stream.iterator({ destroyOnReturn: false })) yield chunk as Buffer;
      complete = true;
    } finally {
      if (!complete && !stream.destroyed && !stream.readableEnded) {
        await withTimeout(this.dataSource.query('SELECT pg_cancel_backend($1)', [client.processID]), CLOSE_TIMEOUT_MS).catch(() => undefined);
        stream.resume();
        await withTimeout(settled, CLOSE_TIMEOUT_MS).catch(() => (this.broken = true));
      }
      this.reading--;
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
    this.dataSource.logger.logQuery(sql, undefined, this.queryRunner);
    return sql;
  }

  /** The category's rows as raw driver values keyed by field key, in primary-key order. */
  async *batches(category: ExportCategory): AsyncGenerator<ObjectLiteral[]> {
    if (this.strategy === 'cursor') yield* this.cursorBatches(...this.selectQuery(category).getQueryAndParameters());
    else if (this.strategy === 'stream') yield* this.streamBatches(category);
    else yield* this.keysetBatches(category);
  }

  /** Reads `sql` through a server-side cursor, fetching the next batch while this one is written. */
  private async *cursorBatches(sql: string, params: unknown[]): AsyncGenerator<ObjectLiteral[]> {
    const qr = this.runner();
    await qr.query(`DECLARE ${CURSOR} NO SCROLL CURSOR FOR ${sql}`, params);
    const fetch = (): Promise<ObjectLiteral[]> => {
      const rows: Promise<ObjectLiteral[]> = qr.query(`FETCH FORWARD ${this.batchSize} FROM ${CURSOR}`);
      // Awaited below or in `finally`; this only keeps a rejection from going unhandled meanwhile.
      rows.catch(() => undefined);
      return rows;
    };
    let next: Promise<ObjectLiteral[]> | undefined = fetch();
    this.reading++;
    try {
      while (next) {
        const rows: ObjectLiteral[] = await next;
        next = rows.length === this.batchSize ? fetch() : undefined;
        if (rows.length > 0) yield rows;
      }
    } finally {
      try {
        await next?.catch(() => undefined);
        await qr.query(`CLOSE ${CURSOR}`);
      } finally {
        this.reading--;
      }
    }
  }

  private async *streamBatches(category: ExportCategory): AsyncGenerator<ObjectLiteral[]> {
    const [sql, params] = this.selectQuery(category).getQueryAndParameters();
    const stream: Readable = await this.runner().stream(sql, params);
    // A killed connection can leave the driver's stream silent forever: a watchdog abandons it
    // when no row arrives for `stallTimeoutMs` while we are waiting (not while we write).
    let seen = 0;
    let checked = -1;
    let busy = false;
    let idle = 0;
    const tick = Math.max(50, Math.min(1000, Math.floor(this.stallTimeoutMs / 4)));
    const watchdog = setInterval(() => {
      if (busy || seen !== checked) {
        checked = seen;
        idle = 0;
      } else if (++idle * tick >= this.stallTimeoutMs) {
        stream.destroy(new ExportProcessingError(ExportMessages.databaseStalled(category.name)));
      }
    }, tick);
    watchdog.unref();
    let batch: ObjectLiteral[] = [];
    this.reading++;
    try {
      for await (const row of stream) {
        seen++;
        batch.push(row);
        if (batch.length >= this.batchSize) {
          busy = true;
          yield batch;
          busy = false;
          batch = [];
        }
      }
      if (batch.length > 0) yield batch;
    } finally {
      clearInterval(watchdog);
      stream.destroy();
      this.reading--;
    }
  }

  private async *keysetBatches(category: ExportCategory): AsyncGenerator<ObjectLiteral[]> {
    const keys = category.metadata.primaryColumns;
    let last: unknown[] | undefined;
    for (;;) {
      const qb = this.selectQuery(category).limit(this.batchSize);
      if (last) {
        const cols = keys.map((c) => this.column(c.databaseName));
        const params = Object.fromEntries(last.map((v, i) => [`__k${i}`, v]));
        const lhs = cols.length === 1 ? cols[0] : `(${cols.join(', ')})`;
        const rhs = cols.length === 1 ? ':__k0' : `(${cols.map((_, i) => `:__k${i}`).join(', ')})`;
        qb.andWhere(`${lhs} > ${rhs}`, params);
      }
      const [sql, params] = qb.getQueryAndParameters();
      const rows: ObjectLiteral[] = await this.runner().query(sql, params);
      if (rows.length > 0) {
        const tail = rows[rows.length - 1];
        last = keys.map((_, i) => tail[`k${i}`]);
        yield rows;
      }
      if (rows.length < this.batchSize) break;
    }
  }

  /**
   * The scoped, filtered query with the exported columns selected as `f0…fn` and the primary
   * key as `k0…kn`, ordered by the primary key.
   */
  private selectQuery(category: ExportCategory): SelectQueryBuilder<ObjectLiteral> {
    const qb = this.baseQuery(category);
    qb.select([]);
    category.fields.forEach((f, i) => qb.addSelect(this.selectExpression(f.column), `f${i}`));
    category.metadata.primaryColumns.forEach((c, i) => {
      qb.addSelect(this.selectExpression(c), `k${i}`);
      qb.addOrderBy(this.column(c.databaseName), 'ASC');
    });
    return qb;
  }

  private baseQuery(category: ExportCategory): SelectQueryBuilder<ObjectLiteral> {
    const qb = this.dataSource.createQueryBuilder(category.target, ALIAS, this.runner());
    // Before any join: TypeORM writes a joined entity's soft-delete condition into the join
    // when the join is added, so withDeleted() called later leaves it there. A sub-query that a
    // scope function builds is a builder of its own and gets the same setting.
    const withDeleted = (builder: SelectQueryBuilder<ObjectLiteral>): void => {
      const subQuery = builder.subQuery.bind(builder);
      builder.subQuery = () => {
        const sub = subQuery();
        withDeleted(sub);
        return sub;
      };
      builder.withDeleted();
    };
    if (this.filters.includeDeleted) withDeleted(qb);
    const { scope, timestamp } = category;
    if (scope.kind === 'column') {
      qb.where(`${this.column(scope.column.databaseName)} = :__account`, { __account: this.subject.accountId });
    } else if (scope.kind === 'relation') {
      let from = ALIAS;
      scope.path.forEach((segment, i) => {
        qb.innerJoin(`${from}.${segment}`, `scope${i}`);
        from = `scope${i}`;
      });
      qb.where(`${this.column(scope.column.databaseName, from)} = :__account`, {
        __account: this.subject.accountId,
      });
    } else {
      // A scope function may call where(); it runs first so our filters are added to it.
      scope.fn(qb, { ...this.subject });
    }
    const driver = this.dataSource.driver;
    if (timestamp && this.filters.since) {
      qb.andWhere(`${this.column(timestamp.databaseName)} >= :__since`, {
        __since: driver.preparePersistentValue(new Date(this.filters.since), timestamp),
      });
    }
    if (timestamp && this.filters.until) {
      qb.andWhere(`${this.column(timestamp.databaseName)} < :__until`, {
        __until: driver.preparePersistentValue(new Date(this.filters.until), timestamp),
      });
    }
    return qb;
  }

  /**
   * SQLite drivers return 64-bit integers as JS numbers, losing precision past 2^53: such
   * columns are read as text, so the archive holds them exactly.
   */
  private selectExpression(column: ColumnMetadata): string {
    const name = this.column(column.databaseName);
    return SQLITE_TYPES.has(this.dataSource.options.type) && SQLITE_BIGINT.has(String(column.type).toLowerCase()) ? `CAST(${name} AS TEXT)` : name;
  }

  private column(name: string, alias = ALIAS): string {
    const { driver } = this.dataSource;
    return `${driver.escape(alias)}.${driver.escape(name)}`;
  }

  private runner(): QueryRunner {
    if (!this.queryRunner) throw new Error('ExportReader is not open');
    return this.queryRunner;
  }
}

/**
 * Closes the query runner's connection for good: the pool drops it instead of lending it again.
 * A statement still running on it ends with a connection error.
 */
function destroyConnection(qr: QueryRunner): void {
  const runner = qr as unknown as {
    releasePostgresConnection?: (err: Error) => Promise<void>;
    databaseConnection?: { destroy?: () => void };
  };
  if (typeof runner.releasePostgresConnection === 'function') {
    // pg-pool ends a client released with an error and never lends it again.
    runner.releasePostgresConnection(new Error('The export reader was stopped')).catch(() => undefined);
  } else {
    runner.databaseConnection?.destroy?.();
  }
}

function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('timed out')), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
