import type { Readable } from 'node:stream';
import type { ObjectLiteral, QueryRunner } from 'typeorm';
import { ExportProcessingError } from '../common/export.error';
import { ExportMessages } from '../common/export.messages';
import type { EntityCategory } from '../metadata/export-category.interface';
import { EntitySource } from './entity-source';

/**
 * MySQL and MariaDB: a READ ONLY transaction `WITH CONSISTENT SNAPSHOT` and the driver's row
 * stream, with a watchdog for a connection that goes silent.
 * @internal
 */
export class MysqlEntitySource extends EntitySource {
  protected readonly snapshot = true;
  /** A killed MySQL connection can look alive to the pool: after a failure it is never reused. */
  protected override readonly destroyAfterFailure = true;

  protected async begin(runner: QueryRunner): Promise<void> {
    await runner.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ');
    await runner.query('START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY');
  }

  protected async *readRows(category: EntityCategory): AsyncGenerator<ObjectLiteral[]> {
    const [sql, params] = this.query.select(category, this.runner()).getQueryAndParameters();
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
    }
  }
}
