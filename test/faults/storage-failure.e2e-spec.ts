import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline, Readable, Transform } from 'node:stream';
import { DataExport, ExportFormat, ExportStatus, ExportStorageStat, LocalDiskStorage } from 'nestjs-data-export';
import { HELP_DESK_ENTITIES } from '../fixtures/help-desk.entities';
import { insertBulkMessages, seedHelpDesk, TEAM_A } from '../fixtures/help-desk.seed';
import { DATABASES, DatabaseName } from '../utils/databases';
import { createTestApp, downloadArchive, TestApp, waitForExport } from '../utils/test-app';
import { readZip } from '../utils/zip';
import { recordFault } from './fault-matrix';

const OWNER = { userId: 'owner-a', accountId: TEAM_A, role: 'owner' };
/** Rows of hashes: about 1.3 MB of compressed archive, far more than the storages below take. */
const ROWS = 12_000;
/** Bytes a failing storage takes before it fails. */
const LIMIT = 128 * 1024;

type Mode = 'ok' | 'fails' | 'fails-keeping-body' | 'hangs' | 'slow';

const noSpace = () => Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });

/**
 * The library's disk storage, with a fault of the test's choosing:
 * - `fails`: takes LIMIT bytes, then fails as a full disk does, and destroys the body it was given;
 * - `fails-keeping-body`: takes LIMIT bytes, then rejects and leaves the body as it is (paused,
 *   never destroyed, never read again), which the storage contract does not forbid;
 * - `hangs`: never reads the body and never settles;
 * - `slow`: takes every chunk 250 ms late, for longer in all than `stallTimeout`, and stores the archive.
 */
class FaultyStorage extends LocalDiskStorage {
  mode: Mode = 'ok';

  override put(key: string, body: Readable): Promise<ExportStorageStat> {
    switch (this.mode) {
      case 'ok':
        return super.put(key, body);
      case 'fails': {
        let seen = 0;
        const disk = new Transform({
          transform(chunk: Buffer, _enc, done) {
            seen += chunk.length;
            if (seen > LIMIT) done(noSpace());
            else done(null, chunk);
          },
        });
        return super.put(key, pipeline(body, disk, () => undefined));
      }
      case 'fails-keeping-body':
        return new Promise((_, reject) => {
          let seen = 0;
          const take = (chunk: Buffer) => {
            seen += chunk.length;
            if (seen <= LIMIT) return;
            body.off('data', take);
            body.pause();
            reject(noSpace());
          };
          body.on('data', take);
        });
      case 'hangs':
        return new Promise(() => undefined);
      case 'slow': {
        const late = new Transform({
          transform(chunk: Buffer, _enc, done) {
            setTimeout(() => done(null, chunk), 250);
          },
        });
        return super.put(key, pipeline(body, late, () => undefined));
      }
    }
  }
}

/** Statements of the app's database other than this one that are running or hold a transaction. */
async function busyConnections(t: TestApp, db: DatabaseName): Promise<number> {
  if (db === 'postgres') {
    const [{ n }] = await t.dataSource.query(
      `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND (state = 'active' OR state LIKE 'idle in transaction%')`,
    );
    return n;
  }
  if (db === 'mariadb') {
    const rows = await t.dataSource.query(`SELECT id FROM information_schema.processlist WHERE db = DATABASE() AND id <> CONNECTION_ID() AND command <> 'Sleep'`);
    return rows.length;
  }
  return 0;
}

async function noBusyConnections(t: TestApp, db: DatabaseName): Promise<void> {
  for (let i = 0; (await busyConnections(t, db)) > 0; i++) {
    if (i > 100) throw new Error(`${await busyConnections(t, db)} connections of the run are still busy`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe.each(DATABASES)('a storage that fails, hangs or crawls on %s', (db) => {
  let t: TestApp;
  const dir = mkdtempSync(join(tmpdir(), 'data-export-faulty-'));
  const storage = new FaultyStorage(dir);

  beforeAll(async () => {
    t = await createTestApp(db, {
      entities: HELP_DESK_ENTITIES,
      exportOptions: { storage, batchSize: 200, attempts: 1, cooldown: 1, stallTimeout: 2000 },
    });
    await seedHelpDesk(t.dataSource, 3);
    await insertBulkMessages(t.dataSource, ROWS, (i) => `${i} ${createHash('sha256').update(String(i)).digest('hex')}`);
  }, 120_000);
  afterAll(async () => {
    await t?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Deletes a completed export early (its slot and file go), so that the account may ask again. */
  async function release(id: string): Promise<void> {
    await t.service.cancel(OWNER, id);
    expect(readdirSync(dir)).toEqual([]);
  }

  const cases: [Mode, ExportFormat][] = [
    ['fails', ExportFormat.Zip],
    ['fails-keeping-body', ExportFormat.Zip],
    ['fails-keeping-body', ExportFormat.Json],
    ['hangs', ExportFormat.Zip],
  ];

  it.each(cases)('%s (%s): the export fails promptly, frees its slot and leaves nothing; the next export completes', async (mode, format) => {
    storage.mode = mode;
    const started = Date.now();
    const view = await t.service.request(OWNER, { format });
    const row = await waitForExport(t.dataSource, view.id, 30_000);
    const took = Date.now() - started;
    recordFault(`storage ${mode} (${format})`, db, row.status, took);

    expect(row.status).toBe(ExportStatus.Failed);
    expect(row.activeSlot).toBeNull();
    expect(row.storageKey).toBeNull();
    expect(row.error).toBe(
      mode === 'hangs'
        ? 'Export failed: it made no progress for 2 s (the database stopped sending rows, or the storage stopped taking them).'
        : 'Export failed while storing the archive (Error ENOSPC).',
    );
    await noBusyConnections(t, db);
    expect(readdirSync(dir)).toEqual([]);

    // The same worker takes the next export, and the account may ask again at once.
    storage.mode = 'ok';
    const next = await t.service.request(OWNER, { format });
    const done = await waitForExport(t.dataSource, next.id, 60_000);
    expect(done.status).toBe(ExportStatus.Completed);
    expect(readdirSync(dir)).toEqual([done.storageKey]);
    await release(done.id);
  }, 120_000);

  it('a slow storage: the export completes with a whole archive', async () => {
    storage.mode = 'slow';
    const started = Date.now();
    const view = await t.service.request(OWNER);
    const row = await waitForExport(t.dataSource, view.id, 60_000);
    recordFault('storage slow (250 ms per chunk)', db, row.status, Date.now() - started);
    expect(row.status).toBe(ExportStatus.Completed);
    const entries = await readZip(await downloadArchive(t, row.id, OWNER));
    expect(entries.get('messages.ndjson')!.toString('utf8').trim().split('\n')).toHaveLength(ROWS + 6);
    const stored = t.dataSource.getRepository(DataExport);
    expect((await stored.findOneByOrFail({ id: row.id })).size).toBeGreaterThan(LIMIT);
    await release(row.id);
  }, 120_000);
});
