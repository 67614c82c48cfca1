import { readdirSync } from 'node:fs';
import { Column, Entity, PrimaryColumn } from 'typeorm';
import { DataExport, Exportable, ExportStatus, Redact } from 'nestjs-data-export';
import { DATABASES } from '../utils/databases';
import { createTestApp, TestApp, waitForExport } from '../utils/test-app';
import { HELP_DESK_ENTITIES } from '../fixtures/help-desk.entities';
import { REDACTED_CANARY, seedHelpDesk, TEAM_A } from '../fixtures/help-desk.seed';

/** A category written last whose mask throws on a planted value, after other files were written. */
@Exportable({ category: 'zz-broken', scope: 'teamId', order: 99 })
@Entity('hd_broken')
class Broken {
  @PrimaryColumn({ type: 'integer' }) id: number;
  @Column({ type: 'varchar', length: 64 }) teamId: string;
  @Redact({
    with: (v) => {
      if (String(v).includes('CANARY')) throw new Error(`cannot mask ${String(v)}`);
      return v;
    },
  })
  @Column({ type: 'varchar', length: 200 })
  note: string;
}

describe.each(DATABASES)('a failing export on %s', (db) => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp(db, {
      entities: [...HELP_DESK_ENTITIES, Broken],
      exportOptions: { attempts: 2, retryDelay: 10, batchSize: 5 },
    });
    await seedHelpDesk(t.dataSource);
    await t.dataSource.getRepository(Broken).insert(
      Array.from({ length: 12 }, (_, i) => ({ id: i, teamId: TEAM_A, note: i === 9 ? `${REDACTED_CANARY}-note` : `note ${i}` })),
    );
  });
  afterAll(() => t?.close());

  it('is retried, then marked failed with a safe message, leaving no file and freeing the slot', async () => {
    const view = await t.service.request({ userId: 'u1', accountId: TEAM_A, role: 'admin' });
    const row = await waitForExport(t.dataSource, view.id);
    expect(row.status).toBe(ExportStatus.Failed);
    expect(row.attempts).toBe(2);
    expect(row.error).toBe('Export failed while reading category "zz-broken" (Error).');
    expect(row.error).not.toContain(REDACTED_CANARY);
    expect(row.activeSlot).toBeNull();
    expect(row.storageKey).toBeNull();
    expect(readdirSync(t.storageDir)).toEqual([]);

    // The failure held no slot: the account can ask again at once.
    const again = await t.service.request({ userId: 'u1', accountId: TEAM_A, role: 'admin' });
    expect(again.status).toBe(ExportStatus.Confirmed);
    const stored = await t.dataSource.getRepository(DataExport).findOneByOrFail({ id: again.id });
    expect(stored.activeSlot).toBe(TEAM_A);
    await waitForExport(t.dataSource, again.id);
  });
});
