import { INestApplication } from '@nestjs/common';
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
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
  const storageDir = mkdtempSync(join(tmpdir(), 'data-export-crash-'));
  const prefix = `crash-${randomUUID().slice(0, 8)}`;
  const workers: ChildProcess[] = [];

  beforeAll(async () => {
    api = await startApiHost(prefix, storageDir);
    dataSource = api.get(DataSource);
    await seedHelpDesk(dataSource, 3);
    await insertBulkMessages(dataSource, ROWS, (i) => `bulk message ${i} ${'x'.repeat(100)}`);
  }, 60_000);

  afterAll(async () => {
    for (const w of workers) await stopWorker(w, 'SIGTERM');
    await api?.close();
    rmSync(storageDir, { recursive: true, force: true });
  });

  it('is taken up by another worker and completes with a correct archive, nothing stuck, one file', async () => {
    const env = { FAULT_DB: 'postgres', FAULT_PREFIX: prefix, FAULT_STORAGE: storageDir, FAULT_BATCH: '20' };
    const first = await startWorker(env);
    workers.push(first);
    const view = await api.get(ExportService).request(OWNER);

    // Wait until the first worker is writing the archive, then kill it without warning.
    const repo = dataSource.getRepository(DataExport);
    for (let i = 0; ; i++) {
      const row = await repo.findOneByOrFail({ id: view.id });
      if (row.status === ExportStatus.Processing && row.rowsDone > 2000) break;
      if (i > 600) throw new Error(`the first worker never got going (${row.status})`);
      await new Promise((r) => setTimeout(r, 50));
    }
    await stopWorker(first, 'SIGKILL');
    const partial = readdirSync(storageDir);
    expect(partial.some((f) => f.endsWith('.partial'))).toBe(true);
    const killedAt = await repo.findOneByOrFail({ id: view.id });
    expect(killedAt.status).toBe(ExportStatus.Processing);
    expect(killedAt.rowsDone).toBeLessThan(ROWS);

    const second = await startWorker(env);
    workers.push(second);
    const done = await waitForExport(dataSource, view.id, 120_000);
    expect(done.status).toBe(ExportStatus.Completed);
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
