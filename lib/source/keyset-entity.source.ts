import type { ObjectLiteral, QueryRunner } from 'typeorm';
import type { EntityCategory } from '../metadata/export-category.interface';
import { EntitySource } from './entity-source';

/**
 * Databases without a server-side cursor or row stream (SQLite and the other TypeORM drivers):
 * keyset pages over the primary key, each page its own statement. There is no snapshot across
 * pages; SQLite's writers are serialized, and each page is consistent.
 * @internal
 */
export class KeysetEntitySource extends EntitySource {
  protected readonly snapshot = false;

  protected async begin(_runner: QueryRunner): Promise<void> {}

  protected async *readRows(category: EntityCategory): AsyncGenerator<ObjectLiteral[]> {
    const keys = category.metadata.primaryColumns;
    let last: unknown[] | undefined;
    for (;;) {
      const qb = this.query.select(category, this.runner()).limit(this.batchSize);
      if (last) {
        const cols = keys.map((c) => this.query.column(c.databaseName));
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
}
