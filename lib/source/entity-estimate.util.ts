import type { DataSource, ObjectLiteral, QueryRunner, SelectQueryBuilder } from 'typeorm';
import type { ExportFilters } from '../entities/data-export.entity';
import type { ExportSubject } from '../interfaces/export-principal.interface';
import type { EntityCategory } from '../metadata/export-category.interface';
import { CategoryQuery } from './category-query';
import { createLineSerializer } from './record.serializer';

/** One entity category's estimate: its rows, whether they were counted, and bytes per NDJSON line. @internal */
export interface EntityRowEstimate {
  readonly rows: number;
  /** `true`: counted (through an index, or cheap enough); `false`: the query planner's estimate. */
  readonly exact: boolean;
  /** Approximate bytes of one row as an NDJSON line (newline included). */
  readonly lineBytes: number;
}

/**
 * `exactCountBelow`: up to this many rows in the planner's estimate, the rows are counted exactly
 * (a count through the scope's index costs a few milliseconds per 100,000 entries). Larger
 * categories are counted too while the estimate's `countBudgetMs` (shared by its categories)
 * lasts: a count cut by it leaves the planner's figure. Tests lower them to reach the planner's
 * path with few rows.
 * @internal
 */
export const ESTIMATE_LIMITS = { exactCountBelow: 200_000, countBudgetMs: 1200 };
/** A count the planner expected to be cheap gives up after this long (it misjudged), for the planner's figure. */
const COUNT_TIMEOUT_MS = 1500;
/** Below this much time left, a count is not started. */
const MIN_COUNT_MS = 20;
/** Rows serialized for the size of a line. */
const SAMPLE_ROWS = 20;
/** A line's size when nothing better is known (an empty table). */
const DEFAULT_LINE_BYTES = 200;

/**
 * Estimates the rows and line size of entity categories for one subject and filters, through the
 * export's own query (`CategoryQuery`: scope, relations, since/until, includeDeleted), never by
 * reading the rows:
 * - PostgreSQL: the planner's row estimate of the query (`EXPLAIN (FORMAT JSON)`), made exact by
 *   `COUNT(*)` (an index-only scan with the scope's index): always when the planner expects at
 *   most `exactCountBelow` rows, else within what is left of `countBudgetMs`.
 * - MariaDB/MySQL: the same, with the optimizer's `EXPLAIN` rows (rough: InnoDB samples a few
 *   index pages) as the figure a cut count leaves.
 * - SQLite (and others): `COUNT(*)` (SQLite keeps no row statistics).
 *
 * Line size: the average of `SAMPLE_ROWS` of the subject's rows serialized as the export writes
 * them (what the archive holds, whatever the storage format); where that cannot be read, the
 * table's bytes per row (PostgreSQL `pg_relation_size` / `reltuples`, MariaDB `AVG_ROW_LENGTH`)
 * plus the field names.
 * @internal
 */
export async function estimateEntityRows(
  dataSource: DataSource,
  subject: ExportSubject,
  filters: ExportFilters,
  categories: readonly EntityCategory[],
): Promise<Map<string, EntityRowEstimate>> {
  const result = new Map<string, EntityRowEstimate>();
  if (categories.length === 0) return result;
  const query = new CategoryQuery(dataSource, subject, filters);
  const runner = dataSource.createQueryRunner('slave');
  await runner.connect();
  const type = dataSource.options.type;
  const dialect: Dialect = type === 'postgres' ? new Postgres() : type === 'mysql' || type === 'mariadb' ? new Mysql() : new Generic();
  try {
    await dialect.begin(runner);
    for (const category of categories) {
      result.set(category.name, await dialect.estimate(dataSource, query, category, runner));
    }
  } finally {
    await dialect.end(runner).catch(() => undefined);
    await runner.release();
  }
  return result;
}

/** Bytes of the field names and JSON punctuation of one line: `{"key":…,…}\n`. */
function keyBytes(category: EntityCategory): number {
  return category.fields.reduce((n, f) => n + Buffer.byteLength(f.key) + 4, 2);
}

/**
 * The average NDJSON line of a few of the subject's rows, serialized as the export writes them
 * (any rows: no order, so no sort); `undefined` when there are none.
 */
async function sampleLineBytes(dataSource: DataSource, query: CategoryQuery, category: EntityCategory, runner: QueryRunner): Promise<number | undefined> {
  const sample = await query.select(category, runner).orderBy().limit(SAMPLE_ROWS).getRawMany();
  if (sample.length === 0) return undefined;
  const line = createLineSerializer(category, dataSource);
  return Math.round(sample.reduce((total, raw) => total + Buffer.byteLength(line(raw)) + 1, 0) / sample.length);
}

/** `COUNT(*)` of the export's query (as many rows as the export reads, joins included). */
function countQuery(query: CategoryQuery, category: EntityCategory, runner: QueryRunner): SelectQueryBuilder<ObjectLiteral> {
  return query.scoped(category, runner).select('COUNT(*)', 'n');
}

/** The export's query without its columns, for the planner. */
function plannedQuery(query: CategoryQuery, category: EntityCategory, runner: QueryRunner): [string, unknown[]] {
  return query.scoped(category, runner).select('1', 'one').getQueryAndParameters();
}

abstract class Dialect {
  /** When counts of large categories stop being started. */
  protected readonly deadline = Date.now() + ESTIMATE_LIMITS.countBudgetMs;

  /** How long a count may take: cheap-looking ones a fixed bound, large ones what is left of the budget. */
  protected countTimeout(planned: number): number {
    return planned <= ESTIMATE_LIMITS.exactCountBelow ? COUNT_TIMEOUT_MS : Math.floor(this.deadline - Date.now());
  }

  begin(_runner: QueryRunner): Promise<void> {
    return Promise.resolve();
  }
  end(_runner: QueryRunner): Promise<void> {
    return Promise.resolve();
  }
  abstract estimate(dataSource: DataSource, query: CategoryQuery, category: EntityCategory, runner: QueryRunner): Promise<EntityRowEstimate>;
}

class Postgres extends Dialect {
  async begin(runner: QueryRunner): Promise<void> {
    await runner.query('BEGIN READ ONLY');
    // A count the planner misjudged must not hold the estimate: it gives way to the planner's figure.
    await runner.query(`SET LOCAL statement_timeout = ${COUNT_TIMEOUT_MS}`);
  }

  async end(runner: QueryRunner): Promise<void> {
    await runner.query('ROLLBACK');
  }

  async estimate(dataSource: DataSource, query: CategoryQuery, category: EntityCategory, runner: QueryRunner): Promise<EntityRowEstimate> {
    const [sql, params] = plannedQuery(query, category, runner);
    const plan = (await runner.query(`EXPLAIN (FORMAT JSON) ${sql}`, params)) as { 'QUERY PLAN': [{ Plan: { 'Plan Rows': number } }] }[];
    const planned = Math.max(0, Math.round(Number(plan[0]?.['QUERY PLAN']?.[0]?.Plan?.['Plan Rows'] ?? 0)));
    let rows = planned;
    let exact = false;
    const timeout = this.countTimeout(planned);
    if (timeout >= MIN_COUNT_MS) {
      // A savepoint: a count cut by the timeout leaves the transaction usable (and its timeout undone).
      await runner.query('SAVEPOINT estimate_count');
      try {
        await runner.query(`SET LOCAL statement_timeout = ${timeout}`);
        const [sqlCount, paramsCount] = countQuery(query, category, runner).getQueryAndParameters();
        const [{ n }] = (await runner.query(sqlCount, paramsCount)) as { n: string | number }[];
        rows = Number(n);
        exact = true;
        await runner.query('RELEASE SAVEPOINT estimate_count');
        await runner.query(`SET LOCAL statement_timeout = ${COUNT_TIMEOUT_MS}`);
      } catch {
        await runner.query('ROLLBACK TO SAVEPOINT estimate_count');
      }
    }
    if (rows === 0) return { rows, exact, lineBytes: 0 };
    await runner.query('SAVEPOINT estimate_sample');
    let lineBytes: number | undefined;
    try {
      lineBytes = await sampleLineBytes(dataSource, query, category, runner);
      await runner.query('RELEASE SAVEPOINT estimate_sample');
    } catch {
      await runner.query('ROLLBACK TO SAVEPOINT estimate_sample');
    }
    if (lineBytes === undefined) {
      const table = category.metadata.tablePath;
      const [stats] = (await runner.query(
        'SELECT pg_relation_size(c.oid)::float8 AS bytes, c.reltuples::float8 AS tuples FROM pg_class c WHERE c.oid = to_regclass($1)',
        [table.split('.').map((p) => `"${p.replace(/"/g, '""')}"`).join('.')],
      )) as { bytes: number; tuples: number }[];
      lineBytes = stats && stats.tuples > 0 ? Math.round(stats.bytes / stats.tuples + keyBytes(category)) : DEFAULT_LINE_BYTES;
    }
    return { rows, exact, lineBytes };
  }
}

class Mysql extends Dialect {
  private mariadb?: boolean;

  async estimate(dataSource: DataSource, query: CategoryQuery, category: EntityCategory, runner: QueryRunner): Promise<EntityRowEstimate> {
    const [sql, params] = plannedQuery(query, category, runner);
    // One line per table of the join: the rows it expects to read for each row before it.
    const lines = (await runner.query(`EXPLAIN ${sql}`, params)) as { rows?: number | string | null; filtered?: number | string | null }[];
    const planned = Math.round(
      lines.reduce((n, l) => n * Math.max(0, Number(l.rows ?? 0)) * (l.filtered === undefined || l.filtered === null ? 1 : Number(l.filtered) / 100), 1),
    );
    let rows = planned;
    let exact = false;
    const [sqlCount, paramsCount] = countQuery(query, category, runner).getQueryAndParameters();
    const timeout = this.countTimeout(planned);
    if (timeout >= MIN_COUNT_MS) {
      try {
        this.mariadb ??= /mariadb/i.test(String(((await runner.query('SELECT VERSION() AS v')) as { v: string }[])[0]?.v));
        const statement = this.mariadb
          ? `SET STATEMENT max_statement_time = ${(timeout / 1000).toFixed(3)} FOR ${sqlCount}`
          : sqlCount.replace(/^SELECT/i, `SELECT /*+ MAX_EXECUTION_TIME(${timeout}) */`);
        const [{ n }] = (await runner.query(statement, paramsCount)) as { n: string | number }[];
        rows = Number(n);
        exact = true;
      } catch {
        // Cut by the time limit: the optimizer's figure stands.
      }
    }
    if (rows === 0) return { rows, exact, lineBytes: 0 };
    let lineBytes = await sampleLineBytes(dataSource, query, category, runner);
    if (lineBytes === undefined) {
      const [stats] = (await runner.query(
        'SELECT AVG_ROW_LENGTH AS bytes FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?',
        [category.metadata.tableName],
      )) as { bytes: number | string | null }[];
      lineBytes = Number(stats?.bytes ?? 0) > 0 ? Math.round(Number(stats.bytes) + keyBytes(category)) : DEFAULT_LINE_BYTES;
    }
    return { rows, exact, lineBytes };
  }
}

class Generic extends Dialect {
  async estimate(dataSource: DataSource, query: CategoryQuery, category: EntityCategory, runner: QueryRunner): Promise<EntityRowEstimate> {
    const [{ n }] = (await countQuery(query, category, runner).getRawMany()) as { n: string | number }[];
    const rows = Number(n);
    const lineBytes = rows > 0 ? ((await sampleLineBytes(dataSource, query, category, runner)) ?? DEFAULT_LINE_BYTES) : 0;
    return { rows, exact: true, lineBytes };
  }
}
