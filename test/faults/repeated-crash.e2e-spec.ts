/**
 * One export whose worker is killed (SIGKILL) twice: the first kill is a stall Bull recovers
 * by itself (it delivers the job again); the second one makes Bull fail the job ("job stalled
 * more than allowable limit", `maxStalledCount` 1, Bull's default). The export must then be
 * queued again for real while attempts remain (the row's `attempts` counts the runs started),
 * or failed with its slot freed when they are used up — at once (Bull's `failed` event), not
 * after `staleAfter` (10 min, left at its default here) — and no `.partial` file may survive.
 */
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
const ROWS = 10_000;

describe('an export whose worker is killed twice (PostgreSQL)', () => {
  let api: INestApplication;
  let dataSource: DataSource;
  const dir = mkdtempSync(join(tmpdir(), 'data-export-recrash-'));
  const storageDir = join(dir, 'archives');
  const logFile = join(dir, 'workers.log');
  const prefix = `recrash-${randomUUID().slice(0, 8)}`;
  let workers: ChildProcess[] = [];

  const repo = () => dataSource.getRepository(DataExport);
  const env = (attempts: number) => ({
    FAULT_DB: 'postgres',
    FAULT_PREFIX: prefix,
    FAULT_STORAGE: storageDir,
    FAULT_BATCH: '20',
    FAULT_MAX_STALLED: '1',
    FAULT_LOG: logFile,
    FAULT_OPTIONS: JSON.stringify({ attempts }),
  });

  /**
   * Waits until a run other than the one that wrote `previousKey` (each run has its own storage
   * key) is writing, past 1000 rows, then kills its worker. Returns the run's key.
   */
  async function killDuringRun(id: string, worker: ChildProcess, previousKey?: string | null): Promise<string> {
    // A run's start leaves the previous run's count in place until it has counted the rows.
    let counted = false;
    for (let i = 0; ; i++) {
      const row = await repo().findOneByOrFail({ id });
      const current = row.status === ExportStatus.Processing && !!row.storageKey && row.storageKey !== previousKey;
      counted ||= current && row.rowsDone < 1000;
      if (current && counted && row.rowsDone > 1000) {
        await stopWorker(worker, 'SIGKILL');
        expect(readdirSync(storageDir).some((f) => f.endsWith('.partial'))).toBe(true);
        return row.storageKey!;
      }
      if (i > 1200) throw new Error(`the run after ${previousKey} never got going (${row.status})`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  /** Runs an export through two killed workers; a third one is left running. Returns the second kill's time. */
  async function crashTwice(id: string, attempts: number): Promise<number> {
    const first = await startWorker(env(attempts));
    workers.push(first);
    const firstKey = await killDuringRun(id, first);
    const second = await startWorker(env(attempts));
    workers.push(second);
    await killDuringRun(id, second, firstKey);
    const secondKill = Date.now();
    workers.push(await startWorker(env(attempts)));
    return secondKill;
  }

  const logLines = () =>
    readFileSync(logFile, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { event: string; jobId?: string; exportId?: string; error?: string });

  beforeAll(async () => {
    mkdirSync(storageDir, { recursive: true });
    api = await startApiHost(prefix, storageDir);
    dataSource = api.get(DataSource);
    await seedHelpDesk(dataSource, 3);
    await insertBulkMessages(dataSource, ROWS, (i) => `bulk message ${i} ${'x'.repeat(100)}`);
  }, 60_000);

  afterEach(async () => {
    for (const w of workers) await stopWorker(w, 'SIGTERM');
    workers = [];
  });

  afterAll(async () => {
    await api?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('is queued again for real and completes when attempts remain: one verified archive, no .partial', async () => {
    const view = await api.get(ExportService).request(OWNER);
    const secondKill = await crashTwice(view.id, 3);

    const done = await waitForExport(dataSource, view.id, 60_000);
    const seconds = (Date.now() - secondKill) / 1000;
    process.stdout.write(`repeated crash, attempts left: second SIGKILL → completed in ${seconds.toFixed(1)} s\n`);
    expect(done.status).toBe(ExportStatus.Completed);
    expect(done.attempts).toBe(3);
    expect(done.activeSlot).toBe(TEAM_A);
    // Bull did fail the job (the case that stranded exports), and the export went on.
    expect(logLines().some((l) => l.event === 'failed' && l.jobId === view.id && /stalled more than allowable limit/.test(l.error ?? ''))).toBe(true);
    expect(readdirSync(storageDir)).toEqual([done.storageKey]);

    const t = { app: api, dataSource, service: api.get(ExportService), storageDir } as TestApp;
    const entries = await readZip(await downloadArchive(t, done.id, OWNER));
    const messages = entries.get('messages.ndjson')!.toString('utf8').trim().split('\n');
    expect(messages).toHaveLength(ROWS + 6);
    expect(new Set(messages.map((l) => JSON.parse(l).id)).size).toBe(ROWS + 6);
  }, 150_000);

  it('fails with its slot freed and the user notified when no attempt is left; a new request then succeeds', async () => {
    // The account's completed export from the test above makes way.
    await repo().clear();
    rmSync(storageDir, { recursive: true, force: true });
    mkdirSync(storageDir, { recursive: true });

    const view = await api.get(ExportService).request(OWNER);
    const secondKill = await crashTwice(view.id, 2);

    const done = await waitForExport(dataSource, view.id, 60_000);
    const seconds = (Date.now() - secondKill) / 1000;
    process.stdout.write(`repeated crash, no attempt left: second SIGKILL → failed in ${seconds.toFixed(1)} s\n`);
    expect(done.status).toBe(ExportStatus.Failed);
    expect(done.activeSlot).toBeNull();
    expect(done.attempts).toBe(2);
    expect(done.error).toMatch(/stopped/);
    // The killed runs' files are gone, .partial included, and the row holds no key.
    // The sweeper deletes the file, then forgets its key: wait for both (a few seconds at most).
    const settled = async () => readdirSync(storageDir).length === 0 && (await repo().findOneByOrFail({ id: view.id })).storageKey === null;
    for (let i = 0; !(await settled()) && i < 100; i++) await new Promise((r) => setTimeout(r, 50));
    expect(readdirSync(storageDir)).toEqual([]);
    expect((await repo().findOneByOrFail({ id: view.id })).storageKey).toBeNull();
    expect(logLines().filter((l) => l.event === 'notify-failed' && l.exportId === view.id)).toHaveLength(1);

    const next = await api.get(ExportService).request(OWNER);
    expect(next.status).toBe(ExportStatus.Confirmed);
  }, 150_000);
});
