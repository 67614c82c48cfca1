import type { DataSource, EntityTarget, ObjectLiteral } from 'typeorm';

interface SqliteStatement {
  run(...params: unknown[]): unknown;
}
interface SqliteDatabase {
  prepare(sql: string): SqliteStatement;
  transaction<T extends (...args: never[]) => unknown>(fn: T): T;
}

/**
 * Inserts many rows fast. On better-sqlite3 it runs one prepared statement per row inside a
 * single transaction (hundreds of thousands of rows a second), converting values exactly as
 * TypeORM would (`driver.preparePersistentValue`: booleans, dates, simple-json). On other
 * databases it falls back to multi-row INSERTs through the query builder.
 */
export class BulkInserter {
  private readonly statements = new Map<Function | string, { sql: SqliteStatement; columns: ReturnType<DataSource['getMetadata']>['columns'] }>();

  constructor(private readonly dataSource: DataSource) {}

  private get sqlite(): SqliteDatabase | null {
    return this.dataSource.options.type === 'better-sqlite3' ? (this.dataSource.driver as unknown as { databaseConnection: SqliteDatabase }).databaseConnection : null;
  }

  async insert<T extends ObjectLiteral>(target: EntityTarget<T>, rows: T[]): Promise<void> {
    if (rows.length === 0) return;
    const db = this.sqlite;
    if (!db) {
      const metadata = this.dataSource.getMetadata(target);
      // Stay well below every driver's bind-parameter limit (PostgreSQL 65535, SQLite 32766).
      const perBatch = Math.max(1, Math.floor(30000 / metadata.columns.length));
      for (let i = 0; i < rows.length; i += perBatch) {
        await this.dataSource.createQueryBuilder().insert().into(target).values(rows.slice(i, i + perBatch)).execute();
      }
      return;
    }
    const { sql, columns } = this.statement(db, target);
    const driver = this.dataSource.driver;
    const run = db.transaction((batch: T[]) => {
      for (const row of batch) {
        sql.run(...columns.map((c) => driver.preparePersistentValue(c.getEntityValue(row), c) ?? null));
      }
    });
    run(rows as never);
  }

  private statement(db: SqliteDatabase, target: EntityTarget<ObjectLiteral>) {
    const metadata = this.dataSource.getMetadata(target);
    let entry = this.statements.get(metadata.target as Function);
    if (!entry) {
      const columns = metadata.columns;
      const names = columns.map((c) => `"${c.databaseName}"`).join(', ');
      const sql = db.prepare(`INSERT INTO "${metadata.tableName}" (${names}) VALUES (${columns.map(() => '?').join(', ')})`);
      entry = { sql, columns };
      this.statements.set(metadata.target as Function, entry);
    }
    return entry;
  }
}
