import { MigrationInterface, QueryRunner, Table, TableIndex } from 'typeorm';

/**
 * Creates `data_exports` for hosts that run migrations instead of `synchronize`.
 * Portable across PostgreSQL, MySQL/MariaDB and SQLite.
 *
 * @example
 * new DataSource({ ..., migrations: [...DATA_EXPORT_MIGRATIONS, ...yours] }) // all of them, in order
 * @publicApi
 */
export class CreateDataExports1764000000000 implements MigrationInterface {
  name = 'CreateDataExports1764000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const driver = queryRunner.connection.driver;
    const timestamp = driver.normalizeType({ type: Date });
    const bigint = 'bigint';
    const time = (name: string, nullable = true) => ({ name, type: timestamp, precision: 3, isNullable: nullable });
    await queryRunner.createTable(
      new Table({
        name: 'data_exports',
        columns: [
          { name: 'id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'accountId', type: 'varchar', length: '191' },
          { name: 'requestedBy', type: 'varchar', length: '191' },
          { name: 'requesterEmail', type: 'varchar', length: '320', isNullable: true },
          { name: 'status', type: 'varchar', length: '16' },
          { name: 'format', type: 'varchar', length: '8', default: "'zip'" },
          { name: 'filters', type: 'text', isNullable: true },
          { name: 'activeSlot', type: 'varchar', length: '191', isNullable: true },
          { name: 'currentCategory', type: 'varchar', length: '64', isNullable: true },
          { name: 'rowsDone', type: bigint, default: 0 },
          { name: 'rowsEstimated', type: bigint, isNullable: true },
          { name: 'percent', type: 'integer', default: 0 },
          { name: 'counts', type: 'text', isNullable: true },
          { name: 'size', type: bigint, isNullable: true },
          { name: 'sha256', type: 'varchar', length: '64', isNullable: true },
          { name: 'storageKey', type: 'varchar', length: '255', isNullable: true },
          { name: 'encryption', type: 'varchar', length: '32', isNullable: true },
          { name: 'error', type: 'varchar', length: '1000', isNullable: true },
          { name: 'attempts', type: 'integer', default: 0 },
          { name: 'downloadCount', type: 'integer', default: 0 },
          time('lastDownloadedAt'),
          time('heartbeatAt'),
          time('createdAt', false),
          time('confirmedAt'),
          time('startedAt'),
          time('completedAt'),
          time('expiresAt'),
        ],
      }),
      true,
    );
    await queryRunner.createIndex('data_exports', new TableIndex({ name: 'UQ_data_exports_active_slot', columnNames: ['activeSlot'], isUnique: true }));
    await queryRunner.createIndex('data_exports', new TableIndex({ name: 'IDX_data_exports_account_created', columnNames: ['accountId', 'createdAt'] }));
    await queryRunner.createIndex('data_exports', new TableIndex({ name: 'IDX_data_exports_status', columnNames: ['status'] }));
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('data_exports', true);
  }
}
