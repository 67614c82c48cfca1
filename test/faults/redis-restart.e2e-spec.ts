/**
 * Redis misbehaving under running workers, on a redis-server of this test's own (no
 * persistence, on a free port; the suite's shared Redis is never touched):
 * - restarted empty (a restart without persistence, a failover, a flush): the sweep schedule
 *   and the jobs of queued exports are gone. Without any worker restart, the schedule comes
 *   back, an expired archive is deleted and a queued export whose job was lost completes;
 * - stopped for a while mid-export, then back (empty): the sweep schedule is back within a
 *   sweep interval, the export ends with its slot handled, and the worker goes on with the next
 *   export;
 * - frozen (SIGSTOP, longer than Bull's lock) mid-export, then thawed: the export ends
 *   `completed` or `failed` with its slot free, and the worker goes on with the next export.
 */
import { getQueueToken } from '@nestjs/bull';
import { INestApplication } from '@nestjs/common';
import type { Queue } from 'bull';
import { ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import { DataSource } from 'typeorm';
import { DataExport, EXPORT_QUEUE, ExportService, ExportStatus } from 'nestjs-data-export';
import { EXPORT_SWEEP_JOB } from '../../lib/common/export.constants';
import { seedHelpDesk, TEAM_A, TEAM_B } from '../fixtures/help-desk.seed';
import { waitForExport } from '../utils/test-app';
import { startApiHost, startWorker, stopWorker } from './worker-processes';

const OWNER_A = { userId: 'owner-a', accountId: TEAM_A, role: 'owner' };
const OWNER_B = { userId: 'owner-b', accountId: TEAM_B, role: 'owner' };
const ROWS = 100_000;
const SWEEP_INTERVAL_MS = 2000;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** This test's own redis-server: no RDB, no AOF, so a restart comes back empty. */
class OwnRedis {
  private child?: ChildProcess;
  constructor(readonly port: number) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.child = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    const client = new Redis(this.port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    for (let i = 0; ; i++) {
      try {
        await client.connect();
        await client.ping();
        break;
      } catch {
        if (i > 100) throw new Error(`redis-server on ${this.port} did not start`);
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    client.disconnect();
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });
  }

  signal(signal: NodeJS.Signals): void {
    this.child?.kill(signal);
  }
}

describe('Redis restarted empty, stopped and frozen under running workers (PostgreSQL)', () => {
  let redis: OwnRedis;
  let api: INestApplication;
  let dataSource: DataSource;
  let worker: ChildProcess | undefined;
  const dir = mkdtempSync(join(tmpdir(), 'data-export-redis-'));
  const storageDir = join(dir, 'archives');
  const prefix = `redis-${randomUUID().slice(0, 8)}`;

  const repo = () => dataSource.getRepository(DataExport);
  /** The files of one export in storage (a `.partial` included). */
  const filesOf = (id: string) => readdirSync(storageDir).filter((f) => f.startsWith(id));
  const service = () => api.get(ExportService);
  const startOurWorker = () =>
    startWorker({
      EXPORT_TEST_REDIS_URL: redis.url,
      FAULT_DB: 'postgres',
      FAULT_PREFIX: prefix,
      FAULT_STORAGE: storageDir,
      FAULT_BATCH: '20',
      // A slow storage: an export of account A takes seconds, so that Redis fails while it runs.
      FAULT_STORAGE_DELAY_MS: '100',
      FAULT_OPTIONS: JSON.stringify({ attempts: 3, sweepInterval: `${SWEEP_INTERVAL_MS}ms` }),
    });

  async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 30_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      // Clients reconnecting to a restarted Redis may refuse a command: try again.
      const value = await probe().catch(() => undefined);
      if (value) return value;
      if (Date.now() > deadline) throw new Error(`${what}: not after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Waits until the export is writing, past 1000 rows. */
  const writing = (id: string) =>
    waitFor(`export ${id} writing`, async () => {
      const row = await repo().findOneByOrFail({ id });
      return row.status === ExportStatus.Processing && row.rowsDone > 1000 && row;
    });

  /** The next export, of the other account: the worker must still take jobs. */
  async function nextExportCompletes(principal = OWNER_B): Promise<void> {
    const next = await service().request(principal);
    expect((await waitForExport(dataSource, next.id, 30_000)).status).toBe(ExportStatus.Completed);
  }

  beforeAll(async () => {
    mkdirSync(storageDir, { recursive: true });
    redis = new OwnRedis(await freePort());
    await redis.start();
    api = await startApiHost(prefix, storageDir, redis.url);
    dataSource = api.get(DataSource);
    await seedHelpDesk(dataSource, 3);
    // Bodies that do not compress away: the archive spans many storage chunks.
    await dataSource.query(
      `INSERT INTO hd_messages (id, "ticketId", body, internal, "authorIp", "createdAt")
       SELECT 'a9000000-0000-4000-8000-' || lpad(g::text, 12, '0'), 'a2000000-0000-4000-8000-000000000000',
              'bulk message ' || g || ' ' || md5(g::text) || md5((g + 1)::text), false, NULL, timestamp '2026-02-01 00:00:00' + g * interval '1 millisecond'
       FROM generate_series(0, $1::int - 1) AS g`,
      [ROWS],
    );
    worker = await startOurWorker();
  }, 60_000);

  beforeEach(async () => {
    await repo().clear();
  });

  afterAll(async () => {
    redis?.signal('SIGCONT');
    await stopWorker(worker, 'SIGTERM');
    await api?.close();
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('restarted empty: without a worker restart, the expired archive is deleted and the queued export whose job was lost completes', async () => {
    // A completed export (account B) whose window will have ended...
    const old = await service().request(OWNER_B);
    const completed = await waitForExport(dataSource, old.id);
    expect(completed.status).toBe(ExportStatus.Completed);
    // ...and a queued one (account A) that no worker takes before Redis goes: the queue is
    // paused for all workers, so its job waits in Redis.
    const queue = api.get<Queue>(getQueueToken(EXPORT_QUEUE));
    await queue.pause();
    const queued = await service().request(OWNER_A);
    expect((await repo().findOneByOrFail({ id: queued.id })).status).toBe(ExportStatus.Confirmed);

    await redis.stop();
    await redis.start();
    const back = Date.now();
    await repo().update({ id: old.id }, { expiresAt: new Date(Date.now() - 1000) });

    const expired = await waitFor('the expired archive swept', async () => {
      const row = await repo().findOneByOrFail({ id: old.id });
      return row.status === ExportStatus.Expired && !existsSync(join(storageDir, completed.storageKey!)) && row;
    });
    const expiredAfter = Date.now() - back;
    expect(expired.activeSlot).toBeNull();
    const done = await waitForExport(dataSource, queued.id, 30_000);
    const completedAfter = Date.now() - back;
    process.stdout.write(`redis restarted empty: expired archive deleted ${(expiredAfter / 1000).toFixed(1)} s, lost job's export completed ${(completedAfter / 1000).toFixed(1)} s after Redis answered\n`);
    expect(done.status).toBe(ExportStatus.Completed);
    expect(filesOf(queued.id)).toEqual([done.storageKey]);
  }, 90_000);

  it('stopped for a while mid-export, then back: the export ends with its slot handled and the worker takes the next export', async () => {
    const view = await service().request(OWNER_A);
    await writing(view.id);
    await redis.stop();
    await new Promise((r) => setTimeout(r, 4000));
    await redis.start();
    const back = Date.now();
    const statusWhenBack = (await repo().findOneByOrFail({ id: view.id })).status;
    // The sweep schedule Redis lost is back within a sweep interval, with no worker restart.
    const queue = api.get<Queue>(getQueueToken(EXPORT_QUEUE));
    await waitFor('the sweep schedule back', async () => (await queue.getRepeatableJobs()).some((j) => j.name === EXPORT_SWEEP_JOB), SWEEP_INTERVAL_MS + 2000);
    const scheduleBack = Date.now() - back;

    const done = await waitForExport(dataSource, view.id, 60_000);
    process.stdout.write(`redis stopped 4 s mid-export (${statusWhenBack} when back): sweep schedule back ${(scheduleBack / 1000).toFixed(1)} s, ${done.status} ${((Date.now() - back) / 1000).toFixed(1)} s after Redis answered\n`);
    expect([ExportStatus.Completed, ExportStatus.Failed]).toContain(done.status);
    expect(done.activeSlot).toBe(done.status === ExportStatus.Completed ? TEAM_A : null);
    expect(filesOf(view.id)).toEqual(done.status === ExportStatus.Completed ? [done.storageKey] : []);
    await nextExportCompletes();
    process.stdout.write(`redis stopped: next export completed ${((Date.now() - back) / 1000).toFixed(1)} s after Redis answered\n`);
  }, 120_000);

  it('frozen longer than the lock mid-export, then thawed: the export ends completed or failed with its slot free, and the worker takes the next export', async () => {
    const view = await service().request(OWNER_A);
    await writing(view.id);
    redis.signal('SIGSTOP');
    await new Promise((r) => setTimeout(r, 6000));
    redis.signal('SIGCONT');
    const thawed = Date.now();
    const statusWhenThawed = (await repo().findOneByOrFail({ id: view.id })).status;

    const done = await waitForExport(dataSource, view.id, 60_000);
    process.stdout.write(`redis frozen 6 s mid-export (${statusWhenThawed} at the thaw): ${done.status} ${((Date.now() - thawed) / 1000).toFixed(1)} s after the thaw\n`);
    expect([ExportStatus.Completed, ExportStatus.Failed]).toContain(done.status);
    expect(done.activeSlot).toBe(done.status === ExportStatus.Completed ? TEAM_A : null);
    expect(filesOf(view.id)).toEqual(done.status === ExportStatus.Completed ? [done.storageKey] : []);
    await nextExportCompletes();
    process.stdout.write(`redis frozen: next export completed ${((Date.now() - thawed) / 1000).toFixed(1)} s after the thaw\n`);
  }, 120_000);
});
