import { DataSource } from 'typeorm';
import { DATA_EXPORT_ENTITIES, DATA_EXPORT_MIGRATIONS, DataExport, DataExportDownload, ExportStatus } from 'nestjs-data-export';
import { DATABASES, dataSourceOptions } from '../utils/databases';

describe.each(DATABASES)('the data_exports migration on %s', (db) => {
  let dataSource: DataSource;

  beforeAll(async () => {
    dataSource = new DataSource({
      ...dataSourceOptions(db, DATA_EXPORT_ENTITIES),
      synchronize: false,
      migrations: DATA_EXPORT_MIGRATIONS,
    });
    await dataSource.initialize();
  });
  afterAll(() => dataSource?.destroy());

  it('creates exactly the schema the entity declares, and reverts', async () => {
    const applied = await dataSource.runMigrations();
    expect(applied.map((m) => m.name)).toEqual(['CreateDataExports1764000000000', 'AddExportDownloadsAndDeletion1766000000000']);
    // What synchronize would still change after the migration: nothing.
    const pending = await dataSource.driver.createSchemaBuilder().log();
    expect(pending.upQueries.map((q) => q.query)).toEqual([]);
    // The unique active slot is in place: a second active export of one account is refused.
    const repo = dataSource.getRepository(DataExport);
    const base = { accountId: 'acc', requestedBy: 'u', status: ExportStatus.Confirmed, activeSlot: 'acc', createdAt: new Date() };
    await repo.insert({ ...base, id: '00000000-0000-4000-8000-000000000001' });
    await expect(repo.insert({ ...base, id: '00000000-0000-4000-8000-000000000002' })).rejects.toThrow();
    await repo.insert({ ...base, id: '00000000-0000-4000-8000-000000000003', activeSlot: null });
    await repo.insert({ ...base, id: '00000000-0000-4000-8000-000000000004', activeSlot: null });

    // Downloads and who deleted an export are stored.
    await repo.update({ id: '00000000-0000-4000-8000-000000000003' }, { deletedAt: new Date(), deletedBy: 'u' });
    await dataSource.getRepository(DataExportDownload).insert({ id: '00000000-0000-4000-8000-0000000000d1', exportId: '00000000-0000-4000-8000-000000000003', at: new Date(), ip: '203.0.113.7' });

    await dataSource.undoLastMigration();
    const runner = dataSource.createQueryRunner();
    expect(await runner.hasTable('data_export_downloads')).toBe(false);
    expect(await runner.hasColumn('data_exports', 'deletedBy')).toBe(false);
    // The rows of the first version survive the revert of the second.
    const [{ n }] = await dataSource.query('SELECT COUNT(*) AS n FROM data_exports');
    expect(Number(n)).toBe(3);
    await dataSource.undoLastMigration();
    expect(await runner.hasTable('data_exports')).toBe(false);
    await runner.release();
  });
});
