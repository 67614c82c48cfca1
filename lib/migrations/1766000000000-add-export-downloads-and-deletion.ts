import { MigrationInterface, QueryRunner, Table, TableColumn, TableIndex } from 'typeorm';

/**
 * Adds what version 0.2 records: `data_export_downloads` (one row per download, with its time
 * and client address) and who deleted an export early, and when (`deletedAt`, `deletedBy` on
 * `data_exports`). Portable across PostgreSQL, MySQL/MariaDB and SQLite.
 * @publicApi
 */
export class AddExportDownloadsAndDeletion1766000000000 implements MigrationInterface {
  name = 'AddExportDownloadsAndDeletion1766000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const timestamp = queryRunner.connection.driver.normalizeType({ type: Date });
    await queryRunner.addColumns('data_exports', [
      new TableColumn({ name: 'deletedAt', type: timestamp, precision: 3, isNullable: true }),
      new TableColumn({ name: 'deletedBy', type: 'varchar', length: '191', isNullable: true }),
    ]);
    await queryRunner.createTable(
      new Table({
        name: 'data_export_downloads',
        columns: [
          { name: 'id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'exportId', type: 'varchar', length: '36' },
          { name: 'at', type: timestamp, precision: 3 },
          { name: 'ip', type: 'varchar', length: '64', isNullable: true },
        ],
      }),
      true,
    );
    await queryRunner.createIndex(
      'data_export_downloads',
      new TableIndex({ name: 'IDX_data_export_downloads_export_at', columnNames: ['exportId', 'at'] }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('data_export_downloads', true);
    await queryRunner.dropColumn('data_exports', 'deletedBy');
    await queryRunner.dropColumn('data_exports', 'deletedAt');
  }
}
