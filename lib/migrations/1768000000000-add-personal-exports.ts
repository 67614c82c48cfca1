import { MigrationInterface, QueryRunner, TableColumn } from 'typeorm';

/**
 * Adds what personal exports record on `data_exports`: the export's `kind` (`'account'` for
 * every existing row, which keeps its slot) and the member it is about (`subjectUserId`,
 * `subjectEmail`). Portable across PostgreSQL, MySQL/MariaDB and SQLite.
 * @publicApi
 */
export class AddPersonalExports1768000000000 implements MigrationInterface {
  name = 'AddPersonalExports1768000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.addColumns('data_exports', [
      new TableColumn({ name: 'kind', type: 'varchar', length: '16', default: "'account'" }),
      new TableColumn({ name: 'subjectUserId', type: 'varchar', length: '191', isNullable: true }),
      new TableColumn({ name: 'subjectEmail', type: 'varchar', length: '320', isNullable: true }),
    ]);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    // Without `kind` a personal export would read as the whole account's: each one still going
    // or downloadable ends (expired, its slot freed; the sweeper deletes its file) first.
    const q = (name: string) => queryRunner.connection.driver.escape(name);
    await queryRunner.query(
      `UPDATE data_exports SET ${q('status')} = 'expired', ${q('activeSlot')} = NULL WHERE ${q('kind')} <> 'account' AND ${q('status')} IN ('pending', 'confirmed', 'processing', 'completed')`,
    );
    await queryRunner.dropColumn('data_exports', 'subjectEmail');
    await queryRunner.dropColumn('data_exports', 'subjectUserId');
    await queryRunner.dropColumn('data_exports', 'kind');
  }
}
