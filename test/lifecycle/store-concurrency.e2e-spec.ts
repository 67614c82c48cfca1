import { DataExport, ExportFormat, ExportStatus } from 'nestjs-data-export';
import { ExportStore } from '../../lib/lifecycle/export.store';
import { HELP_DESK_ENTITIES } from '../fixtures/help-desk.entities';
import { TEAM_A } from '../fixtures/help-desk.seed';
import { DATABASES } from '../utils/databases';
import { createTestApp, TestApp } from '../utils/test-app';

const ROWS = 40;

describe.each(DATABASES)('export store transitions raced by several actors on %s', (db) => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp(db, { entities: HELP_DESK_ENTITIES, exportOptions: { worker: false } });
  });
  afterAll(() => t?.close());

  it('of an expiry, a cancel and two failures racing on each export, exactly one applies, and none throws (a deadlock is retried)', async () => {
    const store = t.app.get(ExportStore);
    const repo = store.repo;
    const now = new Date();
    const rows: DataExport[] = Array.from({ length: ROWS }, (_, i) =>
      repo.create({
        id: `0000000${i % 10}-0000-4000-8000-${String(i).padStart(12, '0')}`,
        accountId: `${TEAM_A}-${i}`,
        requestedBy: 'owner-a',
        status: ExportStatus.Processing,
        format: ExportFormat.Zip,
        filters: {},
        activeSlot: `${TEAM_A}-${i}`,
        storageKey: `k-${i}`,
        heartbeatAt: now,
        rowsDone: 0,
        percent: 0,
        attempts: 1,
        downloadCount: 0,
        createdAt: now,
      }),
    );
    await repo.insert(rows);
    const outcomes = await Promise.all(
      rows.map(async (row) => {
        const applied = await Promise.all([
          store.cancel(row),
          store.endRun(row, [ExportStatus.Processing], { storageKey: row.storageKey! }, { retry: false, set: { error: 'x' } }),
          store.expire(row, [ExportStatus.Processing]),
          store.endRun(row, [ExportStatus.Processing], {}, { retry: false, set: { error: 'y' } }),
        ]);
        return applied.filter(Boolean).length;
      }),
    );
    expect(outcomes).toEqual(rows.map(() => 1));
    const after = await repo.find();
    expect(after).toHaveLength(ROWS);
    for (const row of after) {
      expect([ExportStatus.Cancelled, ExportStatus.Failed, ExportStatus.Expired]).toContain(row.status);
      // Every transition that ends an export frees the slot in the same update.
      expect(row.activeSlot).toBeNull();
    }
  });
});
