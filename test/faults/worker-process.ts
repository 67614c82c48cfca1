/**
 * A worker process for fault tests: the same host module with `worker: true`, on the database,
 * Redis prefix and storage directory given in the environment. Bull's lock is short by default
 * so that a killed worker's job is taken up again within seconds.
 *
 * Optional environment:
 * - `FAULT_BATCH`: rows per batch (default 50).
 * - `FAULT_CONCURRENCY`: the module's `concurrency` option (default: the module's default).
 * - `FAULT_LOCK_DURATION`, `FAULT_LOCK_RENEW`, `FAULT_STALLED_INTERVAL`, `FAULT_MAX_STALLED`:
 *   Bull's lock settings (defaults 1500, 500, 500, 3 ms/times).
 * - `FAULT_LIBRARY_LOCK=1`: no Bull settings in `BullModule.forRoot()`, so the library's own
 *   lock defaults apply (the figures users get).
 * - `FAULT_OPTIONS`: JSON merged last into the `ExportModule.forRoot()` options (durations as
 *   strings, e.g. `{"staleAfter":"2s","attempts":2}`).
 * - `FAULT_STORAGE_DELAY_MS`: the storage takes each chunk this much late (a slow disk or network).
 * - `FAULT_S3`: `S3ExportStorage` options (JSON) instead of the disk: archives go to that bucket
 *   (puts and deletes recorded with `FAULT_LOG`, chunks late with `FAULT_STORAGE_DELAY_MS`).
 * - `FAULT_VERBOSE=1`: the application logs at every level, not only errors (with
 *   `FAULT_WORKER_LOG` in the test process, see `worker-processes.ts`, to read what a worker did).
 * - `FAULT_LOG`: a file this process appends one JSON line to for every storage `put` (started
 *   and finished), storage `delete`, Bull job event (`active`, `completed`, `failed`,
 *   `stalled`) of an export job and notifier `failed` call (`notify-failed`), each with this
 *   process's pid.
 */
import 'reflect-metadata';
import { BullModule, getQueueToken } from '@nestjs/bull';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import type { Job, Queue } from 'bull';
import { appendFileSync } from 'node:fs';
import { pipeline, Transform, type Readable } from 'node:stream';
import { DATA_EXPORT_ENTITIES, EXPORT_QUEUE, ExportModule, LocalDiskStorage, LoggingExportNotifier } from 'nestjs-data-export';
import { EXPORT_JOB } from '../../lib/common/export.constants';
import type { ExportRequester, ExportStorage, ExportStorageStat, ExportView } from 'nestjs-data-export';
import { HELP_DESK_ENTITIES } from '../fixtures/help-desk.entities';
import { DatabaseName, dataSourceOptions, REDIS_URL } from '../utils/databases';
import { TEST_SECRET } from '../utils/test-app';

const env = (name: string) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};
const optionalNumber = (name: string, fallback: number) => (process.env[name] ? Number(process.env[name]) : fallback);

const LOG = process.env.FAULT_LOG;
const FAULT_OPTIONS: Record<string, unknown> = process.env.FAULT_OPTIONS ? JSON.parse(process.env.FAULT_OPTIONS) : {};

/** One line per event, appended synchronously so that a line is on disk before the next step. */
function record(event: string, fields: Record<string, unknown>): void {
  if (LOG) appendFileSync(LOG, `${JSON.stringify({ event, pid: process.pid, at: Date.now(), ...fields })}\n`);
}

/** The library's disk storage, recording each put (when it starts and once the file is in place). */
class RecordingDiskStorage extends LocalDiskStorage {
  override async put(key: string, body: Readable): Promise<ExportStorageStat> {
    record('put-start', { key });
    const stat = await super.put(key, body);
    record('put', { key, size: stat.size });
    return stat;
  }

  override async delete(key: string): Promise<void> {
    await super.delete(key);
    record('delete', { key });
  }
}

/** The library's disk storage behind a slow link: each chunk of the body arrives `delay` ms late. */
class SlowDiskStorage extends LocalDiskStorage {
  constructor(root: string, private readonly delay: number) {
    super(root);
  }

  override put(key: string, body: Readable): Promise<ExportStorageStat> {
    const late = new Transform({ transform: (chunk, _enc, done) => setTimeout(() => done(null, chunk), this.delay) });
    return super.put(key, pipeline(body, late, () => undefined));
  }
}

const DELAY = optionalNumber('FAULT_STORAGE_DELAY_MS', 0);

/** `FAULT_S3`'s storage; the SDK is loaded only then, as in a host that uses it. */
function s3Storage(options: import('nestjs-data-export/s3').S3ExportStorageOptions): ExportStorage {
  const { S3ExportStorage } = require('nestjs-data-export/s3') as typeof import('nestjs-data-export/s3');
  class RecordingS3Storage extends S3ExportStorage {
    override async put(key: string, body: Readable): Promise<ExportStorageStat> {
      record('put-start', { key });
      const late = DELAY > 0 ? pipeline(body, new Transform({ transform: (c, _e, done) => setTimeout(() => done(null, c), DELAY) }), () => undefined) : body;
      const stat = await super.put(key, late);
      record('put', { key, size: stat.size });
      return stat;
    }

    override async delete(key: string): Promise<void> {
      await super.delete(key);
      record('delete', { key });
    }
  }
  return new RecordingS3Storage(options);
}

/** The default notifier, recording each `failed` call (the export id only). */
class RecordingNotifier extends LoggingExportNotifier {
  override failed(view: ExportView, to: ExportRequester): void {
    record('notify-failed', { exportId: view.id });
    return super.failed(view, to);
  }
}

@Module({
  imports: [
    TypeOrmModule.forRoot({
      ...dataSourceOptions(env('FAULT_DB') as DatabaseName, [...HELP_DESK_ENTITIES, ...DATA_EXPORT_ENTITIES]),
      synchronize: false,
      dropSchema: false,
    }),
    BullModule.forRoot({
      url: REDIS_URL,
      prefix: env('FAULT_PREFIX'),
      ...(process.env.FAULT_LIBRARY_LOCK
        ? {}
        : {
            settings: {
              lockDuration: optionalNumber('FAULT_LOCK_DURATION', 1500),
              lockRenewTime: optionalNumber('FAULT_LOCK_RENEW', 500),
              stalledInterval: optionalNumber('FAULT_STALLED_INTERVAL', 500),
              maxStalledCount: optionalNumber('FAULT_MAX_STALLED', 3),
            },
          }),
    }),
    ExportModule.forRoot({
      secret: TEST_SECRET,
      storage: process.env.FAULT_S3
        ? s3Storage(JSON.parse(process.env.FAULT_S3))
        : LOG
        ? new RecordingDiskStorage(env('FAULT_STORAGE'))
        : DELAY > 0
          ? new SlowDiskStorage(env('FAULT_STORAGE'), DELAY)
          : new LocalDiskStorage(env('FAULT_STORAGE')),
      batchSize: Number(process.env.FAULT_BATCH ?? 50),
      ...(process.env.FAULT_CONCURRENCY ? { concurrency: Number(process.env.FAULT_CONCURRENCY) } : {}),
      attempts: 1,
      http: false,
      ...(LOG ? { notifier: RecordingNotifier } : {}),
      ...FAULT_OPTIONS,
    }),
  ],
})
class WorkerModule {}

async function main(): Promise<void> {
  const app = await NestFactory.createApplicationContext(WorkerModule, {
    logger: process.env.FAULT_VERBOSE ? ['error', 'warn', 'log', 'debug'] : ['error'],
  });
  app.enableShutdownHooks();
  if (LOG) {
    const queue = app.get<Queue>(getQueueToken(EXPORT_QUEUE));
    const exportJob = (job: Job | null | undefined) => job?.name === EXPORT_JOB;
    queue.on('active', (job: Job) => exportJob(job) && record('active', { jobId: job.id }));
    queue.on('completed', (job: Job) => exportJob(job) && record('completed', { jobId: job.id }));
    queue.on('failed', (job: Job, err: Error) => exportJob(job) && record('failed', { jobId: job.id, error: err?.message }));
    queue.on('stalled', (job: Job) => exportJob(job) && record('stalled', { jobId: job.id }));
  }
  process.stdout.write('worker ready\n');
}

main().catch((err) => {
  process.stderr.write(`worker failed: ${(err as Error).stack}\n`);
  process.exit(1);
});
