import { MigrationInterface, QueryRunner, Table, TableIndex } from 'typeorm';

/**
 * Adds the audit trail, `data_export_events`: one row per thing that happened to an export
 * (request, confirmation, run, download, deletion, expiry, operator action). Portable across
 * PostgreSQL, MySQL/MariaDB and SQLite.
 * @publicApi
 */
export class AddExportEvents1770000000000 implements MigrationInterface {
  name = 'AddExportEvents1770000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const timestamp = queryRunner.connection.driver.normalizeType({ type: Date });
    await queryRunner.createTable(
      new Table({
        name: 'data_export_events',
        columns: [
          { name: 'id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'at', type: timestamp, precision: 3 },
          { name: 'type', type: 'varchar', length: '32' },
          { name: 'exportId', type: 'varchar', length: '36' },
          { name: 'accountId', type: 'varchar', length: '191' },
          { name: 'actor', type: 'varchar', length: '191' },
          { name: 'ip', type: 'varchar', length: '64', isNullable: true },
          { name: 'userAgent', type: 'varchar', length: '255', isNullable: true },
          { name: 'detail', type: 'text', isNullable: true },
        ],
      }),
      true,
    );
    await queryRunner.createIndex('data_export_events', new TableIndex({ name: 'IDX_data_export_events_export_at', columnNames: ['exportId', 'at'] }));
    await queryRunner.createIndex('data_export_events', new TableIndex({ name: 'IDX_data_export_events_account_at', columnNames: ['accountId', 'at'] }));
    await queryRunner.createIndex('data_export_events', new TableIndex({ name: 'IDX_data_export_events_at', columnNames: ['at'] }));
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('data_export_events', true);
  }
}
