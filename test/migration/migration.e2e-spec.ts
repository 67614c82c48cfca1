import { DataSource } from 'typeorm';
import { DATA_EXPORT_ENTITIES, DATA_EXPORT_MIGRATIONS, DataExport, DataExportDownload, DataExportEvent, ExportStatus } from 'nestjs-data-export';
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
  const q = (name: string) => dataSource.driver.escape(name);

  it('adds the personal columns to a table that holds exports, which keep their slot and read as account exports', async () => {
    await dataSource.runMigrations({ transaction: 'each' });
    // Back to the second version (the personal columns and the audit trail undone), with rows written by it.
    await dataSource.undoLastMigration();
    await dataSource.undoLastMigration();
    const runner = dataSource.createQueryRunner();
    expect(await runner.hasColumn('data_exports', 'kind')).toBe(false);
    const columns = ['id', 'accountId', 'requestedBy', 'status', 'format', 'activeSlot', 'createdAt'].map(q).join(', ');
    await dataSource.query(
      `INSERT INTO data_exports (${columns}) VALUES ` +
        `('00000000-0000-4000-8000-0000000000a1', 'acc-old', 'u', 'completed', 'zip', 'acc-old', '2026-01-01 00:00:00'), ` +
        `('00000000-0000-4000-8000-0000000000a2', 'acc-old', 'u', 'expired', 'zip', NULL, '2026-01-01 00:00:00')`,
    );
    await dataSource.runMigrations();
    const rows = await dataSource.getRepository(DataExport).find({ order: { id: 'ASC' } });
    expect(rows.map((r) => [r.id.slice(-2), r.kind, r.subjectUserId, r.activeSlot])).toEqual([
      ['a1', 'account', null, 'acc-old'],
      ['a2', 'account', null, null],
    ]);
    await runner.release();
    // Back to nothing, for the next test.
    for (let i = 0; i < 4; i++) await dataSource.undoLastMigration();
  });

  it('creates exactly the schema the entity declares, and reverts', async () => {
    const applied = await dataSource.runMigrations();
    expect(applied.map((m) => m.name)).toEqual([
      'CreateDataExports1764000000000',
      'AddExportDownloadsAndDeletion1766000000000',
      'AddPersonalExports1768000000000',
      'AddExportEvents1770000000000',
    ]);
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

    // A personal export holds its own slot: it does not block the account's, nor the account's it.
    await repo.insert({ ...base, id: '00000000-0000-4000-8000-000000000005', kind: 'personal', subjectUserId: 'm', activeSlot: 'personal-slot' });
    await expect(repo.insert({ ...base, id: '00000000-0000-4000-8000-000000000006', kind: 'personal', subjectUserId: 'm', activeSlot: 'personal-slot' })).rejects.toThrow();

    // The audit trail stores its records, detail as JSON.
    const events = dataSource.getRepository(DataExportEvent);
    const at = new Date('2026-03-01T10:00:00.123Z');
    await events.insert({ id: '00000000-0000-4000-8000-0000000000e1', at, type: 'downloaded', exportId: '00000000-0000-4000-8000-000000000003', accountId: 'acc', actor: 'u', ip: '203.0.113.7', userAgent: 'curl/8', detail: { range: '0-9' } });
    expect(await events.findOneByOrFail({ id: '00000000-0000-4000-8000-0000000000e1' })).toMatchObject({ at, type: 'downloaded', ip: '203.0.113.7', userAgent: 'curl/8', detail: { range: '0-9' } });

    const runner = dataSource.createQueryRunner();
    await dataSource.undoLastMigration();
    expect(await runner.hasTable('data_export_events')).toBe(false);
    await dataSource.undoLastMigration();
    expect(await runner.hasColumn('data_exports', 'kind')).toBe(false);
    expect(await runner.hasColumn('data_exports', 'subjectUserId')).toBe(false);
    // The account's exports keep their slot; a personal one ends, so it cannot read as the account's.
    const slots = await dataSource.query(`SELECT id, ${q('activeSlot')} AS slot, status FROM data_exports ORDER BY id`);
    expect(slots.map((r: { slot: string | null; status: string }) => [r.slot, r.status])).toEqual([
      ['acc', 'confirmed'],
      [null, 'confirmed'],
      [null, 'confirmed'],
      [null, 'expired'],
    ]);
    await dataSource.query(`DELETE FROM data_exports WHERE id = '00000000-0000-4000-8000-000000000005'`);

    await dataSource.undoLastMigration();
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
