import { INestApplication } from '@nestjs/common';
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { DataExport, ExportService, ExportStatus } from 'nestjs-data-export';
import { insertBulkMessages, seedHelpDesk, TEAM_A } from '../fixtures/help-desk.seed';
import { downloadArchive, TestApp, waitForExport } from '../utils/test-app';
import { readZip } from '../utils/zip';
import { startApiHost, startWorker, stopWorker } from './worker-processes';

const OWNER = { userId: 'owner-a', accountId: TEAM_A, role: 'owner' };
const ROWS = 20_000;

describe('a worker process killed with SIGKILL mid-export (PostgreSQL)', () => {
  let api: INestApplication;
  let dataSource: DataSource;
  const dir = mkdtempSync(join(tmpdir(), 'data-export-crash-'));
  const storageDir = join(dir, 'archives');
  const logFile = join(dir, 'workers.log');
  const prefix = `crash-${randomUUID().slice(0, 8)}`;
  const workers: ChildProcess[] = [];

  beforeAll(async () => {
    mkdirSync(storageDir, { recursive: true });
    api = await startApiHost(prefix, storageDir);
    dataSource = api.get(DataSource);
    await seedHelpDesk(dataSource, 3);
    await insertBulkMessages(dataSource, ROWS, (i) => `bulk message ${i} ${'x'.repeat(100)}`);
  }, 60_000);

  afterAll(async () => {
    for (const w of workers) await stopWorker(w, 'SIGTERM');
    await api?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('is taken up by another worker within 20 s with the library defaults and completes with a correct archive, nothing stuck, one file', async () => {
    // The library's own lock settings (no Bull settings from the host); a killed run counts as
    // one of the export's attempts.
    const env = {
      FAULT_DB: 'postgres',
      FAULT_PREFIX: prefix,
      FAULT_STORAGE: storageDir,
      FAULT_BATCH: '20',
      FAULT_LIBRARY_LOCK: '1',
      FAULT_LOG: logFile,
      FAULT_OPTIONS: JSON.stringify({ attempts: 2 }),
    };
    // Two workers are up before the request: recovery is measured, not a boot. The one that
    // takes the job (its pid in the log) is killed.
    workers.push(await startWorker(env), await startWorker(env));
    const view = await api.get(ExportService).request(OWNER);

    // Wait until the first worker is writing the archive, then kill it without warning.
    const repo = dataSource.getRepository(DataExport);
    for (let i = 0; ; i++) {
      const row = await repo.findOneByOrFail({ id: view.id });
      if (row.status === ExportStatus.Processing && row.rowsDone > 2000) break;
      if (i > 600) throw new Error(`the first worker never got going (${row.status})`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const active = readFileSync(logFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l)).find((l) => l.event === 'active' && l.jobId === view.id);
    const first = workers.find((w) => w.pid === active.pid)!;
    await stopWorker(first, 'SIGKILL');
    const killTime = Date.now();
    const partial = readdirSync(storageDir);
    expect(partial.some((f) => f.endsWith('.partial'))).toBe(true);
    const killedAt = await repo.findOneByOrFail({ id: view.id });
    expect(killedAt.status).toBe(ExportStatus.Processing);
    expect(killedAt.rowsDone).toBeLessThan(ROWS);

    // Running again: a new run (its own storage key) on the second worker.
    for (;;) {
      const row = await repo.findOneByOrFail({ id: view.id });
      if (row.status === ExportStatus.Processing && row.storageKey !== killedAt.storageKey) break;
      if (Date.now() - killTime > 60_000) throw new Error(`not running again after 60 s (${row.status})`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const runningAgain = Date.now() - killTime;
    const done = await waitForExport(dataSource, view.id, 120_000);
    const completed = Date.now() - killTime;
    process.stdout.write(`SIGKILL → processing on another worker ${(runningAgain / 1000).toFixed(1)} s, → completed ${(completed / 1000).toFixed(1)} s (library lock defaults)\n`);
    expect(runningAgain).toBeLessThan(20_000);
    expect(done.status).toBe(ExportStatus.Completed);
    expect(done.attempts).toBe(2);
    expect(done.activeSlot).toBe(TEAM_A);
    expect(readdirSync(storageDir)).toEqual([done.storageKey]);

    const t = { app: api, dataSource, service: api.get(ExportService), storageDir } as TestApp;
    const entries = await readZip(await downloadArchive(t, done.id, OWNER));
    const messages = entries.get('messages.ndjson')!.toString('utf8').trim().split('\n');
    expect(messages).toHaveLength(ROWS + 6);
    expect(new Set(messages.map((l) => JSON.parse(l).id)).size).toBe(ROWS + 6);
    const manifest = JSON.parse(entries.get('manifest.json')!.toString('utf8'));
    expect(manifest.summary.byCategory.messages).toBe(ROWS + 6);
  }, 180_000);
});
