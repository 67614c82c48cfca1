import { INestApplication } from '@nestjs/common';
import { execFileSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { DataExport, ExportService, ExportStatus } from 'nestjs-data-export';
import { insertBulkMessages, seedHelpDesk, TEAM_A } from '../fixtures/help-desk.seed';
import { downloadArchive, TestApp, waitForExport } from '../utils/test-app';
import { readZip } from '../utils/zip';
import { recordFault } from './fault-matrix';
import { startApiHost, startWorker, stopWorker } from './worker-processes';

const OWNER = { userId: 'owner-a', accountId: TEAM_A, role: 'owner' };
/** Rows of three sha256 hashes: about 3.5 MB of archive, more than the 2 MB disk below holds. */
const ROWS = 30_000;
const hashes = (i: number) =>
  [0, 1, 2].map((k) => createHash('sha256').update(`${i}:${k}`).digest('hex')).join(' ');

/** Statements of the export's database that are running or hold a transaction (other than ours). */
async function busyConnections(dataSource: DataSource): Promise<number> {
  const [{ n }] = await dataSource.query(
    `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND (state = 'active' OR state LIKE 'idle in transaction%')`,
  );
  return n;
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Waits for the worker to exit on its own; resolves with how it ended and how long it took. */
function exitOf(child: ChildProcess): Promise<{ ms: number; code: number | null; signal: NodeJS.Signals | null }> {
  const started = Date.now();
  return new Promise((resolve) => {
    child.removeAllListeners('exit');
    child.once('exit', (code, signal) => resolve({ ms: Date.now() - started, code, signal }));
  });
}

describe('worker processes whose disk fills up or that are told to stop (PostgreSQL)', () => {
  let api: INestApplication;
  let dataSource: DataSource;
  const prefix = `wsd-${randomUUID().slice(0, 8)}`;
  const workers: ChildProcess[] = [];
  const dirs: string[] = [];
  let disk: string | undefined;
  /** The storage of the API host (downloads) and of the workers of the second test. */
  const home = mkdtempSync(join(tmpdir(), 'data-export-home-'));
  dirs.push(home);

  beforeAll(async () => {
    api = await startApiHost(prefix, home);
    dataSource = api.get(DataSource);
    await seedHelpDesk(dataSource, 3);
    await insertBulkMessages(dataSource, ROWS, hashes);
  }, 120_000);

  afterAll(async () => {
    for (const w of workers) await stopWorker(w, 'SIGKILL');
    await api?.close();
    if (disk) execFileSync('umount', [disk]);
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('a full disk (ENOSPC on a 2 MB tmpfs) fails each attempt within seconds, then the export, frees the slot and the connection; the worker goes on and stops on SIGTERM', async () => {
    disk = mkdtempSync(join(tmpdir(), 'data-export-disk-'));
    dirs.push(disk);
    // A real file system that runs out of space: needs root (CI runs as root on its machine).
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m,mode=0700', 'tmpfs', disk]);
    const worker = await startWorker({ FAULT_DB: 'postgres', FAULT_PREFIX: prefix, FAULT_STORAGE: disk, FAULT_BATCH: '500' });
    workers.push(worker);

    const service = api.get(ExportService);
    const started = Date.now();
    const view = await service.request(OWNER);
    // The API host queues with the default 3 attempts (5 s backoff, doubling): each fails in seconds.
    const row = await waitForExport(dataSource, view.id, 60_000);
    recordFault('disk full (ENOSPC, 2 MB tmpfs), worker process: last of 3 attempts', 'postgres', row.status, Date.now() - row.startedAt!.getTime());
    recordFault('disk full (ENOSPC, 2 MB tmpfs), worker process: request to failed, 3 attempts', 'postgres', row.status, Date.now() - started);
    expect(row.attempts).toBe(3);
    expect(row.status).toBe(ExportStatus.Failed);
    expect(row.error).toBe('Export failed while storing the archive (Error ENOSPC).');
    expect(row.activeSlot).toBeNull();
    expect(readdirSync(disk)).toEqual([]);
    // The COPY was cancelled and its snapshot ended: nothing of the run holds the database.
    await waitFor('the reader connection to end', async () => (await busyConnections(dataSource)) === 0);

    // The worker takes the next export: one small enough for the disk.
    const next = await service.request(OWNER, { categories: ['tickets'] });
    const done = await waitForExport(dataSource, next.id, 30_000);
    expect(done.status).toBe(ExportStatus.Completed);
    expect(readdirSync(disk)).toEqual([done.storageKey]);
    // Gone, so that the account may ask again at once (a completed export starts the cooldown).
    await service.cancel(OWNER, done.id);
    await dataSource.getRepository(DataExport).delete({ id: done.id });

    const exit = exitOf(worker);
    worker.kill('SIGTERM');
    expect((await exit).signal).toBe('SIGTERM');
  }, 120_000);

  it('SIGTERM mid-export: the worker stops the export after shutdownTimeout and exits; the export is retried and completes on another worker', async () => {
    const env = {
      FAULT_DB: 'postgres',
      FAULT_PREFIX: prefix,
      FAULT_STORAGE: home,
      FAULT_BATCH: '500',
      FAULT_OPTIONS: JSON.stringify({ shutdownTimeout: '1s', attempts: 2, retryDelay: '100ms' }),
    };
    // A slow storage: this export would run for tens of seconds.
    const slow = await startWorker({ ...env, FAULT_STORAGE_DELAY_MS: '300' });
    workers.push(slow);
    const service = api.get(ExportService);
    const view = await service.request(OWNER);
    const repo = dataSource.getRepository(DataExport);
    await waitFor('the export to be processing', async () => {
      const r = await repo.findOneByOrFail({ id: view.id });
      return r.status === ExportStatus.Processing && r.rowsDone > 0;
    });

    const exit = exitOf(slow);
    slow.kill('SIGTERM');
    const ended = await exit;
    recordFault('SIGTERM mid-export (shutdownTimeout 1 s): worker exit', 'postgres', `exit ${ended.signal ?? ended.code}`, ended.ms);
    expect(ended.signal).toBe('SIGTERM');
    // shutdownTimeout (1 s) and the run's wind-down: the process ends within seconds.
    expect(ended.ms).toBeLessThan(8000);
    const stopped = await repo.findOneByOrFail({ id: view.id });
    expect(stopped.status).toBe(ExportStatus.Confirmed);
    expect(stopped.error).toBe('Export stopped: the worker shut down while it ran.');
    expect(stopped.activeSlot).toBe(TEAM_A);
    expect(readdirSync(home)).toEqual([]);
    await waitFor('the reader connection to end', async () => (await busyConnections(dataSource)) === 0);

    const started = Date.now();
    const next = await startWorker(env);
    workers.push(next);
    const done = await waitForExport(dataSource, view.id, 60_000);
    recordFault('SIGTERM mid-export: retried on a new worker', 'postgres', done.status, Date.now() - started);
    expect(done.status).toBe(ExportStatus.Completed);
    expect(done.attempts).toBe(2);
    expect(readdirSync(home)).toEqual([done.storageKey]);
    const t = { app: api, dataSource, service, storageDir: home } as TestApp;
    const entries = await readZip(await downloadArchive(t, done.id, OWNER));
    const messages = entries.get('messages.ndjson')!.toString('utf8').trim().split('\n');
    expect(new Set(messages.map((l) => JSON.parse(l).id)).size).toBe(ROWS + 6);
  }, 120_000);
});
