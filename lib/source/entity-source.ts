import type { DataSource, ObjectLiteral, QueryRunner } from 'typeorm';
import type { ExportFilters } from '../entities/data-export.entity';
import type { EntityCategory } from '../metadata/export-category.interface';
import type { ExportSubject } from '../interfaces/export-principal.interface';
import { CategoryQuery } from './category-query';
import { NdjsonChunk, serializeLines } from './category-source';
import { createLineSerializer } from './record.serializer';
import { withTimeout } from '../common/timeout.util';

/** How long closing waits for the database (a rollback, a cancelled statement) before giving up on the connection. */
export const CLOSE_TIMEOUT_MS = 5000;

/** What every entity source is built from. @internal */
export interface EntitySourceOptions {
  readonly dataSource: DataSource;
  readonly subject: ExportSubject;
  readonly filters: ExportFilters;
  /** Rows per batch read from the database. */
  readonly batchSize: number;
  /** A read that receives nothing for this long while it waits is abandoned. */
  readonly stallTimeoutMs?: number;
}

/**
 * The rows of TypeORM entity categories, read from one connection and, where the database offers
 * one, one consistent snapshot for the whole export. One subclass per dialect decides how the
 * rows are read (`rows()`) and may write the NDJSON itself (`ndjson()`); the scoped, filtered
 * query is the same for all (`CategoryQuery`).
 *
 * Lifecycle: `open()`, then any number of `count()` and `ndjson()` reads, one at a time, then
 * `close(failed)`. A connection that may still be busy when it closes (a read that was not
 * finished, a statement that did not end when it was cancelled) or that does not answer the
 * rollback in time is destroyed, never returned to the pool, where the next query would wait
 * behind it.
 * @internal
 */
export abstract class EntitySource {
  readonly batchSize: number;
  protected readonly dataSource: DataSource;
  protected readonly query: CategoryQuery;
  protected readonly stallTimeoutMs: number;
  private queryRunner?: QueryRunner;
  /** Reads started and not finished: a statement may still be running on the connection. */
  private reading = 0;
  /** A statement that did not end when it was stopped: the connection must not be used again. */
  protected broken = false;

  constructor(options: EntitySourceOptions) {
    this.dataSource = options.dataSource;
    this.batchSize = options.batchSize;
    this.stallTimeoutMs = options.stallTimeoutMs ?? 600_000;
    this.query = new CategoryQuery(options.dataSource, options.subject, options.filters);
  }

  /** Opens the connection and, where the dialect has one, the read-only snapshot transaction. */
  async open(): Promise<void> {
    this.queryRunner = this.dataSource.createQueryRunner('slave');
    await this.queryRunner.connect();
    await this.begin(this.queryRunner);
  }

  /** Ends the snapshot and gives the connection back, or destroys it (see the class). Safe to call twice. */
  async close(failed = false): Promise<void> {
    const qr = this.queryRunner;
    this.queryRunner = undefined;
    if (!qr || qr.isReleased) return;
    let unusable = this.reading > 0 || this.broken;
    if (!unusable && this.snapshot) {
      try {
        await withTimeout(qr.query('ROLLBACK'), CLOSE_TIMEOUT_MS);
      } catch {
        unusable = true;
      }
    }
    if (unusable || (failed && this.destroyAfterFailure)) destroyConnection(qr);
    await qr.release().catch(() => undefined);
  }

  /** Rows the category will yield for this subject and filters. */
  count(category: EntityCategory): Promise<number> {
    return this.query.scoped(category, this.runner()).getCount();
  }

  /** The category's rows as NDJSON; by default the raw rows, serialized in the worker. */
  ndjson(category: EntityCategory): AsyncIterable<NdjsonChunk> {
    return serializeLines(this.rows(category), createLineSerializer(category, this.dataSource));
  }

  /**
   * The category's CSV records as the database writes them (cells quoted as RFC 4180 has them, LF
   * record ends, no header), or `undefined` where the database does not write them: then the CSV
   * writer reads `ndjson()`.
   */
  csv(_category: EntityCategory, _options: { neutralizeFormulas: boolean }): AsyncIterable<Buffer> | undefined {
    return undefined;
  }

  /** The category's rows as raw driver values keyed `f0…fn` (fields) and `k0…kn` (key), in key order. */
  rows(category: EntityCategory): AsyncGenerator<ObjectLiteral[]> {
    return this.tracked(this.readRows(category));
  }

  /** Whether `open()` started a transaction that `close()` rolls back. */
  protected abstract readonly snapshot: boolean;
  /** Whether a connection is destroyed after any failure (a driver that cannot tell a dead one). */
  protected readonly destroyAfterFailure: boolean = false;
  /** Starts the dialect's snapshot on the new connection. */
  protected abstract begin(runner: QueryRunner): Promise<void>;
  /** Reads the category's raw rows in batches of about `batchSize`. */
  protected abstract readRows(category: EntityCategory): AsyncGenerator<ObjectLiteral[]>;

  /** Counts `source` as a read in progress until it ends or its consumer stops. */
  protected async *tracked<T>(source: AsyncIterable<T>): AsyncGenerator<T> {
    this.reading++;
    try {
      yield* source;
    } finally {
      this.reading--;
    }
  }

  protected runner(): QueryRunner {
    if (!this.queryRunner) throw new Error('The export source is not open');
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
    runner.releasePostgresConnection(new Error('The export source was stopped')).catch(() => undefined);
  } else {
    runner.databaseConnection?.destroy?.();
  }
}
