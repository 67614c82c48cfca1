import { readdirSync } from 'node:fs';
import { DataExport, ExportStatus } from 'nestjs-data-export';
import { createTestApp, TestApp, waitForExport } from '../utils/test-app';
import { HELP_DESK_ENTITIES } from '../fixtures/help-desk.entities';
import { seedHelpDesk, TEAM_A } from '../fixtures/help-desk.seed';
import { insertBulkMessages } from '../fixtures/help-desk.seed';
import { recordFault } from './fault-matrix';

const OWNER = { userId: 'owner-a', accountId: TEAM_A, role: 'owner' };
const ROWS = 20_000;

/** Kills the server connection that streams the export's rows. */
const KILL_READER: Record<'postgres' | 'mariadb', string> = {
  postgres: `SELECT pg_terminate_backend(pid) AS killed FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND (query LIKE 'FETCH FORWARD%' OR query LIKE 'COPY (%')`,
  mariadb: `SELECT id FROM information_schema.processlist WHERE db = DATABASE() AND id <> CONNECTION_ID() AND info LIKE '%hd_messages%'`,
};

describe.each(['postgres', 'mariadb'] as const)('the database failing mid-export on %s', (db) => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp(db, { entities: HELP_DESK_ENTITIES, exportOptions: { batchSize: 20, attempts: 1, staleAfter: '2s', stallTimeout: '2s' } });
    await seedHelpDesk(t.dataSource, 3);
    // About 20 MB of rows: more than the socket buffers hold, so the server is still sending
    // (and its statement visible) when the connection is killed.
    await insertBulkMessages(t.dataSource, ROWS, (i) => `bulk message ${i} ${'x'.repeat(1000)}`);
  }, 60_000);
  afterAll(() => t?.close());

  it('marks the export failed without row data, removes the temporary file and frees the slot', async () => {
    const view = await t.service.request(OWNER);
    const repo = t.dataSource.getRepository(DataExport);
    let killed = false;
    for (let i = 0; i < 600 && !killed; i++) {
      const row = await repo.findOneByOrFail({ id: view.id });
      if (row.status === ExportStatus.Processing && row.rowsDone > 1000) {
        if (db === 'postgres') {
          killed = (await t.dataSource.query(KILL_READER.postgres)).length > 0;
        } else {
          for (const { id } of await t.dataSource.query(KILL_READER.mariadb)) {
            await t.dataSource.query(`KILL CONNECTION ${Number(id)}`);
            killed = true;
          }
        }
      }
      if (!killed) await new Promise((r) => setTimeout(r, 20));
    }
    expect(killed).toBe(true);
    const killedAt = Date.now();
    const row = await waitForExport(t.dataSource, view.id, 60_000);
    recordFault('reader connection killed mid-read (stallTimeout 2 s)', db, row.status, Date.now() - killedAt);
    expect(row.status).toBe(ExportStatus.Failed);
    expect(row.error).toMatch(/^Export failed while reading category "messages"( \([A-Za-z]+( [A-Za-z0-9_.-]+)?\)\.|: the database stopped sending rows\.)$/);
    expect(row.error).not.toMatch(/bulk message|xxxx/);
    expect(row.activeSlot).toBeNull();
    expect(readdirSync(t.storageDir)).toEqual([]);
    // The account can ask again at once, and that export completes.
    const again = await t.service.request(OWNER);
    expect((await waitForExport(t.dataSource, again.id, 60_000)).status).toBe(ExportStatus.Completed);
  }, 120_000);
});
