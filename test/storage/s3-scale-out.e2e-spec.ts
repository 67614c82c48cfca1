import { ListMultipartUploadsCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { BullModule } from '@nestjs/bull';
import { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import type { ChildProcess } from 'node:child_process';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { DATA_EXPORT_ENTITIES, DataExport, ExportModule, ExportService, ExportStatus } from 'nestjs-data-export';
import { S3ExportStorage } from 'nestjs-data-export/s3';
import { ExportProducer } from '../../lib/queue/export.producer';
import { startWorker, stopWorker } from '../faults/worker-processes';
import { HELP_DESK_ENTITIES } from '../fixtures/help-desk.entities';
import { insertBulkMessages, seedHelpDesk, TEAM_A, TEAM_B } from '../fixtures/help-desk.seed';
import { dataSourceOptions, REDIS_URL } from '../utils/databases';
import { trackRedisPrefix } from '../utils/global-setup';
import { S3TestServer, startS3Server } from '../utils/s3-server';
import { downloadArchive, TEST_SECRET, TestApp, waitForExport } from '../utils/test-app';
import { readZip } from '../utils/zip';
import { recordFault } from '../faults/fault-matrix';

const MiB = 1024 * 1024;
/** Team A's extra messages: random text, about 15 MiB of archive (three parts of 5 MiB). */
const BIG_ROWS = 24_000;
const owner = (accountId: string) => ({ userId: `owner-${accountId}`, accountId, role: 'owner' });

interface LogLine {
  event: string;
  pid: number;
  key?: string;
  jobId?: string;
}

/**
 * Several machines: this process is an API-only host (`worker: false`); two worker processes
 * (test/faults/worker-process.ts with `FAULT_S3`) share its Redis prefix, its PostgreSQL database
 * and one bucket of a real S3-compatible server.
 */
describe('an API-only host and two worker processes sharing one Redis and one S3 bucket (PostgreSQL)', () => {
  let server: S3TestServer;
  let api: INestApplication;
  let dataSource: DataSource;
  const dir = mkdtempSync(join(tmpdir(), 'data-export-s3-scale-'));
  const logFile = join(dir, 'workers.log');
  const bullPrefix = `s3scale-${randomUUID().slice(0, 8)}`;
  const prefix = `scale-${randomUUID().slice(0, 8)}/`;
  const workers: ChildProcess[] = [];

  const log = (): LogLine[] =>
    readFileSync(logFile, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l));
  async function keys(): Promise<string[]> {
    const res = await server.client.send(new ListObjectsV2Command({ Bucket: server.bucket, Prefix: prefix }));
    return (res.Contents ?? []).map((o) => o.Key!.slice(prefix.length)).sort();
  }
  async function uploads(): Promise<string[]> {
    const res = await server.client.send(new ListMultipartUploadsCommand({ Bucket: server.bucket, Prefix: prefix }));
    return (res.Uploads ?? []).map((u) => u.Key!.slice(prefix.length));
  }

  beforeAll(async () => {
    server = await startS3Server();
    trackRedisPrefix(bullPrefix);
    const storage = new S3ExportStorage({ bucket: server.bucket, prefix, client: server.clientConfig });
    const moduleRef = await Test.createTestingModule({
      imports: [
        TypeOrmModule.forRoot(dataSourceOptions('postgres', [...HELP_DESK_ENTITIES, ...DATA_EXPORT_ENTITIES])),
        BullModule.forRoot({ url: REDIS_URL, prefix: bullPrefix }),
        ExportModule.forRoot({ secret: TEST_SECRET, storage, worker: false, http: false }),
      ],
    }).compile();
    api = moduleRef.createNestApplication({ logger: false });
    await api.init();
    dataSource = api.get(DataSource);
    await seedHelpDesk(dataSource, 3);
    await insertBulkMessages(dataSource, BIG_ROWS, () => randomBytes(600).toString('base64'));
    writeFileSync(logFile, '');

    const env = {
      FAULT_DB: 'postgres',
      FAULT_PREFIX: bullPrefix,
      FAULT_STORAGE: join(dir, 'unused'),
      FAULT_S3: JSON.stringify({ bucket: server.bucket, prefix, client: server.clientConfig, partSize: 5 * MiB }),
      FAULT_STORAGE_DELAY_MS: '2',
      FAULT_BATCH: '500',
      FAULT_LOG: logFile,
      FAULT_OPTIONS: JSON.stringify({ attempts: 2 }),
    };
    workers.push(...(await Promise.all([startWorker(env), startWorker(env)])));
    // Both workers listen before any job exists, so neither takes the whole backlog alone.
    const queue = api.get(ExportProducer).getQueue();
    for (let i = 0; ((await queue.getWorkers()) ?? []).length < 2; i++) {
      if (i > 200) throw new Error('the two workers did not register on the queue');
      await new Promise((r) => setTimeout(r, 50));
    }
  }, 120_000);

  afterAll(async () => {
    await Promise.all(workers.map((w) => stopWorker(w)));
    await api?.close();
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const asTestApp = () => ({ app: api, dataSource, service: api.get(ExportService) }) as TestApp;

  it('eight exports: each processed once, stored once in the bucket, downloadable with Range through the API host', async () => {
    const accounts = [TEAM_B, ...Array.from({ length: 7 }, (_, i) => `acct-${i}`)];
    const service = api.get(ExportService);
    const views = await Promise.all(accounts.map((a) => service.request(owner(a))));
    const rows = await Promise.all(views.map((v) => waitForExport(dataSource, v.id, 60_000)));
    for (const row of rows) {
      expect({ status: row.status, error: row.error, attempts: row.attempts }).toEqual({ status: ExportStatus.Completed, error: null, attempts: 1 });
    }
    const lines = log();
    for (const row of rows) expect(lines.filter((l) => l.event === 'active' && l.jobId === row.id)).toHaveLength(1);
    const puts = lines.filter((l) => l.event === 'put');
    expect(puts.map((p) => p.key).sort()).toEqual(rows.map((r) => r.storageKey).sort());
    expect(new Set(puts.map((p) => p.pid)).size).toBe(2);
    expect(await keys()).toEqual(rows.map((r) => r.storageKey).sort());

    for (const [i, row] of rows.entries()) {
      const whole = await downloadArchive(asTestApp(), row.id, owner(accounts[i]));
      expect(createHash('sha256').update(whole).digest('hex')).toBe(row.sha256);
      expect((await readZip(whole)).has('manifest.json')).toBe(true);
      const cut = Math.floor(whole.length / 2) + 1;
      const rest = await downloadArchive(asTestApp(), row.id, owner(accounts[i]), { start: cut, end: whole.length - 1 });
      expect(rest.equals(whole.subarray(cut))).toBe(true);
    }
  }, 120_000);

  it('a worker killed mid-upload leaves no object, and its export completes on the other worker', async () => {
    const repo = dataSource.getRepository(DataExport);
    const view = await api.get(ExportService).request(owner(TEAM_A));
    // The first part is in the bucket as part of an unfinished upload: kill the worker that sends it.
    let first!: DataExport;
    for (let i = 0; ; i++) {
      first = await repo.findOneByOrFail({ id: view.id });
      if (first.storageKey && (await uploads()).includes(first.storageKey)) break;
      if (i > 2000) throw new Error(`the upload never started (${first.status})`);
      await new Promise((r) => setTimeout(r, 20));
    }
    const deadKey = first.storageKey!;
    const writer = log().find((l) => l.event === 'put-start' && l.key === deadKey)!;
    const victim = workers.find((w) => w.pid === writer.pid)!;
    await stopWorker(victim, 'SIGKILL');
    const killed = Date.now();
    expect(log().some((l) => l.event === 'put' && l.key === deadKey)).toBe(false);
    expect(await keys()).not.toContain(deadKey);

    const done = await waitForExport(dataSource, view.id, 90_000);
    recordFault('S3: worker killed mid-upload', 'postgres', done.status, Date.now() - killed);
    expect({ status: done.status, error: done.error, attempts: done.attempts }).toEqual({ status: ExportStatus.Completed, error: null, attempts: 2 });
    expect(done.storageKey).not.toBe(deadKey);
    const survivor = log().find((l) => l.event === 'put' && l.key === done.storageKey)!;
    expect(survivor.pid).not.toBe(victim.pid);
    // The dead run's parts go with its key: the new run deleted it before starting.
    expect(await keys()).toContain(done.storageKey);
    expect(await keys()).not.toContain(deadKey);
    for (let i = 0; (await uploads()).length > 0; i++) {
      if (i > 200) throw new Error(`unfinished uploads left: ${(await uploads()).join(', ')}`);
      await new Promise((r) => setTimeout(r, 50));
    }

    const whole = await downloadArchive(asTestApp(), done.id, owner(TEAM_A));
    expect(createHash('sha256').update(whole).digest('hex')).toBe(done.sha256);
    const tail = await downloadArchive(asTestApp(), done.id, owner(TEAM_A), { start: 5 * MiB - 3, end: whole.length - 1 });
    expect(tail.equals(whole.subarray(5 * MiB - 3))).toBe(true);
    const messages = (await readZip(whole)).get('messages.ndjson')!.toString('utf8').trim().split('\n');
    expect(messages).toHaveLength(BIG_ROWS + 6);
  }, 180_000);
});
