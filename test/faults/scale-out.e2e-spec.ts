import { INestApplication } from '@nestjs/common';
import type { ChildProcess } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { ExportService, ExportStatus } from 'nestjs-data-export';
import { ExportProducer } from '../../lib/queue/export.producer';
import { Customer, Ticket, TicketPriority, Webhook } from '../fixtures/help-desk.entities';
import { downloadArchive, TestApp, waitForExport } from '../utils/test-app';
import { parseNdjson, readZip } from '../utils/zip';
import { startApiHost, startWorker, stopWorker } from './worker-processes';

/**
 * Scale-out: this process is an API-only host (`worker: false`); two separate worker processes
 * (`worker: true`, `concurrency: 2`) consume one Redis queue, read one PostgreSQL database and
 * write to one storage directory. Several accounts' exports are in flight at once.
 */

const ACCOUNTS = Array.from({ length: 8 }, (_, i) => `scale-${i}`);
/** Messages per account: a different number each, so an archive with another account's rows shows. */
const messagesOf = (i: number) => 3000 + 137 * i;
const CONCURRENCY = 2;
const owner = (accountId: string) => ({ userId: `owner-${accountId}`, accountId, role: 'owner' });

/** One line of the workers' shared log (see worker-process.ts). */
interface LogLine {
  event: 'put-start' | 'put' | 'delete' | 'active' | 'completed' | 'failed' | 'stalled';
  pid: number;
  at: number;
  key?: string;
  jobId?: string;
  size?: number;
}

/** Seeds one account: a customer, a ticket, `messages` messages on it and a webhook. */
async function seedAccount(dataSource: DataSource, accountId: string, index: number, messages: number): Promise<void> {
  await dataSource.getRepository(Customer).insert({
    id: `c-${accountId}`,
    teamId: accountId,
    name: `Customer of ${accountId}`,
    email: `${accountId}@example.com`,
    customFields: null,
    portalPasswordHash: 'hash',
    tokenCount: index,
    nationalId: 'nid',
    phone: '+15550001234',
    createdAt: new Date(Date.UTC(2026, 0, 1)),
  });
  await dataSource.getRepository(Ticket).insert({
    id: `t-${accountId}`,
    teamId: accountId,
    customerId: `c-${accountId}`,
    subject: `Ticket of ${accountId}`,
    priority: TicketPriority.Low,
    open: true,
    amountCents: '100',
    satisfaction: null,
    createdAt: new Date(Date.UTC(2026, 0, 2)),
    deletedAt: null,
  });
  await dataSource.query(
    `INSERT INTO hd_messages (id, "ticketId", body, internal, "authorIp", "createdAt")
     SELECT 'm-' || $1::text || '-' || lpad(g::text, 6, '0'), $2::text, 'message ' || g || ' of ' || $1::text || ' ' || repeat('x', 120), false, NULL,
            timestamp '2026-02-01 00:00:00' + g * interval '1 millisecond'
     FROM generate_series(0, $3::int - 1) AS g`,
    [accountId, `t-${accountId}`, messages],
  );
  await dataSource.getRepository(Webhook).insert({ id: 1000 + index, ownerTeam: accountId, url: `https://hooks.example.com/${accountId}`, signingSecret: 'whsec' });
}

describe('an API-only host and two worker processes on one queue (PostgreSQL)', () => {
  let api: INestApplication;
  let dataSource: DataSource;
  const dir = mkdtempSync(join(tmpdir(), 'data-export-scale-'));
  const storageDir = join(dir, 'archives');
  const logFile = join(dir, 'workers.log');
  const prefix = `scale-${randomUUID().slice(0, 8)}`;
  const workers: ChildProcess[] = [];

  beforeAll(async () => {
    api = await startApiHost(prefix, storageDir);
    dataSource = api.get(DataSource);
    for (const [i, accountId] of ACCOUNTS.entries()) await seedAccount(dataSource, accountId, i, messagesOf(i));
    writeFileSync(logFile, '');
  }, 60_000);

  afterAll(async () => {
    await Promise.all(workers.map((w) => stopWorker(w)));
    await api?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('processes every export exactly once, loses none, writes no archive twice, and uses both workers', async () => {
    // No worker dies here, so Bull's lock need not be short: renewed every second and only lost
    // after 15 s without renewal, a busy but healthy worker keeps its jobs. The stalled check
    // still runs every second, so a job taken over by the other worker would show (as `stalled`
    // and a second `active` in the log).
    const env = {
      FAULT_DB: 'postgres',
      FAULT_PREFIX: prefix,
      FAULT_STORAGE: storageDir,
      FAULT_BATCH: '50',
      FAULT_CONCURRENCY: String(CONCURRENCY),
      FAULT_LOCK_DURATION: '15000',
      FAULT_LOCK_RENEW: '1000',
      FAULT_STALLED_INTERVAL: '1000',
      FAULT_LOG: logFile,
    };
    workers.push(...(await Promise.all([startWorker(env), startWorker(env)])));
    const pids = workers.map((w) => w.pid!);

    // Both workers' blocking connections are registered on the queue before any job exists, so
    // neither can take the whole backlog before the other one listens.
    const queue = api.get(ExportProducer).getQueue();
    for (let i = 0; ; i++) {
      const registered = (await queue.getWorkers()) ?? [];
      if (registered.length >= 2) break;
      if (i > 200) throw new Error(`only ${registered.length} worker(s) registered on the queue`);
      await new Promise((r) => setTimeout(r, 50));
    }

    const service = api.get(ExportService);
    const views = await Promise.all(ACCOUNTS.map((accountId) => service.request(owner(accountId))));
    expect(new Set(views.map((v) => v.id)).size).toBe(ACCOUNTS.length);
    const rows = await Promise.all(views.map((v) => waitForExport(dataSource, v.id, 50_000)));

    // Every export completed once: one attempt, its own account's counts, one storage key.
    for (const [i, row] of rows.entries()) {
      const expected = messagesOf(i);
      expect({ id: row.id, status: row.status, error: row.error }).toEqual({ id: views[i].id, status: ExportStatus.Completed, error: null });
      expect(row.accountId).toBe(ACCOUNTS[i]);
      expect(row.activeSlot).toBe(ACCOUNTS[i]);
      expect(row.attempts).toBe(1);
      expect(row.storageKey).toMatch(new RegExp(`^${row.id}\\.[0-9a-f]{12}\\.zip$`));
      expect(row.counts).toEqual({ customers: 1, tickets: 1, messages: expected, webhooks: 1 });
      expect(row.rowsDone).toBe(expected + 3);
      expect(row.rowsEstimated).toBe(expected + 3);
      expect(row.startedAt!.getTime()).toBeLessThanOrEqual(row.completedAt!.getTime());
    }

    // Bull saw each job run once: completed on the first try, never moved back to wait as stalled.
    for (const view of views) {
      const job = await queue.getJob(view.id);
      expect(await job!.getState()).toBe('completed');
      const hash = await queue.client.hgetall(`${prefix}:${queue.name}:${view.id}`);
      expect(hash.processedOn).toBeDefined();
      expect(hash.finishedOn).toBeDefined();
      expect({ attemptsMade: hash.attemptsMade ?? '0', stalledCounter: hash.stalledCounter, failedReason: hash.failedReason }).toEqual({
        attemptsMade: '0',
        stalledCounter: undefined,
        failedReason: undefined,
      });
    }

    // The workers' own record: per export one `active`, one put started and finished, one
    // `completed`, all in the same worker process; no failure, stall or delete anywhere.
    const log: LogLine[] = readFileSync(logFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(log.filter((l) => ['failed', 'stalled', 'delete'].includes(l.event))).toEqual([]);
    expect(new Set(log.map((l) => l.pid))).toEqual(new Set(pids));
    const ownerPid = new Map<string, number>();
    for (const row of rows) {
      const mine = log.filter((l) => l.jobId === row.id || l.key === row.storageKey);
      expect(mine.map((l) => l.event)).toEqual(['active', 'put-start', 'put', 'completed']);
      expect(new Set(mine.map((l) => l.pid)).size).toBe(1);
      expect(mine[2].size).toBeGreaterThan(0);
      ownerPid.set(row.id, mine[0].pid);
    }
    expect(log.filter((l) => l.event === 'put')).toHaveLength(ACCOUNTS.length);
    expect(log.filter((l) => l.event === 'active')).toHaveLength(ACCOUNTS.length);

    // Both workers built archives, each ran exactly `concurrency` at once at its busiest, and at some moment
    // both were building one at the same time.
    const perWorker = pids.map((pid) => rows.filter((r) => ownerPid.get(r.id) === pid).length);
    expect(perWorker.every((n) => n >= 1)).toBe(true);
    expect(perWorker[0] + perWorker[1]).toBe(ACCOUNTS.length);
    for (const pid of pids) {
      let running = 0;
      let most = 0;
      for (const l of log.filter((x) => x.pid === pid && (x.event === 'active' || x.event === 'completed'))) {
        running += l.event === 'active' ? 1 : -1;
        most = Math.max(most, running);
      }
      expect(most).toBe(CONCURRENCY);
    }
    const spans = rows.map((r) => {
      const mine = log.filter((l) => l.jobId === r.id);
      return { pid: ownerPid.get(r.id)!, from: mine[0].at, to: mine[mine.length - 1].at };
    });
    const overlapping = spans.some((a) => spans.some((b) => a.pid !== b.pid && a.from < b.to && b.from < a.to));
    expect(overlapping).toBe(true);

    // One complete file per export in the shared directory, and nothing else (no `.partial`).
    expect(readdirSync(storageDir).sort()).toEqual(rows.map((r) => r.storageKey!).sort());

    // Each archive downloads intact and holds exactly its own account's rows.
    const t = { app: api, dataSource, service, storageDir } as TestApp;
    for (const [i, row] of rows.entries()) {
      const accountId = ACCOUNTS[i];
      const archive = await downloadArchive(t, row.id, owner(accountId));
      expect(archive.length).toBe(row.size);
      expect(createHash('sha256').update(archive).digest('hex')).toBe(row.sha256);
      const entries = await readZip(archive);
      const manifest = JSON.parse(entries.get('manifest.json')!.toString('utf8'));
      expect(manifest.exportId).toBe(row.id);
      expect(manifest.accountId).toBe(accountId);
      expect(manifest.summary.byCategory).toEqual({ customers: 1, tickets: 1, messages: messagesOf(i), webhooks: 1 });
      const messages = parseNdjson(entries.get('messages.ndjson')!);
      expect(messages).toHaveLength(messagesOf(i));
      const ids = new Set(messages.map((m) => m.id as string));
      expect(ids.size).toBe(messagesOf(i));
      expect([...ids].every((id) => id.startsWith(`m-${accountId}-`))).toBe(true);
      expect(parseNdjson(entries.get('customers.ndjson')!).map((c) => c.teamId)).toEqual([accountId]);
      expect(parseNdjson(entries.get('webhooks.ndjson')!).map((w) => w.ownerTeam)).toEqual([accountId]);
    }
  }, 120_000);
});
