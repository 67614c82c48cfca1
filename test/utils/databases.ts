import type { DataSourceOptions } from 'typeorm';

/** The databases every database test runs against. Each has its own test database. */
export type DatabaseName = 'sqlite' | 'postgres' | 'mariadb';

export const DATABASES: DatabaseName[] = ['sqlite', 'postgres', 'mariadb'];

export const POSTGRES_URL = process.env.EXPORT_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/data_export_test';
export const MARIADB_URL = process.env.EXPORT_TEST_MARIADB_URL ?? 'mysql://root@127.0.0.1:3306/data_export_test';
export const REDIS_URL = process.env.EXPORT_TEST_REDIS_URL ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** TypeORM connection options of a test database; the schema is dropped and recreated. */
export function dataSourceOptions(db: DatabaseName, entities: Function[]): DataSourceOptions {
  const common = { entities, synchronize: true, dropSchema: true, logging: false } as const;
  switch (db) {
    case 'sqlite':
      return { type: 'better-sqlite3', database: ':memory:', ...common };
    case 'postgres':
      return { type: 'postgres', url: POSTGRES_URL, ...common };
    case 'mariadb':
      return { type: 'mariadb', url: MARIADB_URL, timezone: 'Z', ...common };
  }
}
