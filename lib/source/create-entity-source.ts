import { EntitySource, EntitySourceOptions } from './entity-source';
import { KeysetEntitySource } from './keyset-entity.source';
import { MysqlEntitySource } from './mysql-entity.source';
import { PostgresEntitySource } from './postgres-entity.source';

/**
 * The entity source for the DataSource's database: PostgreSQL (COPY and cursor), MySQL/MariaDB
 * (row stream), or keyset pages for the others (SQLite).
 * @internal
 */
export function createEntitySource(options: EntitySourceOptions): EntitySource {
  const type = options.dataSource.options.type;
  if (type === 'postgres') return new PostgresEntitySource(options);
  if (type === 'mysql' || type === 'mariadb') return new MysqlEntitySource(options);
  return new KeysetEntitySource(options);
}
