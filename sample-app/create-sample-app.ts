import 'reflect-metadata';
import type { INestApplicationContext, LoggerService, LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { mkdirSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { DataSource } from 'typeorm';
import type { ExportModuleOptions } from 'nestjs-data-export';
import { Team, Ticket } from './entities';
import { freePort } from './infra/redis';
import { SampleAppModule } from './sample.module';
import type { SampleSettings } from './sample.settings';
import { DemoUser, demoUsers, seedHelpDesk, SeedSummary } from './seed/seed';
import { demoAuthMiddleware } from './web/demo-auth';
import { mountQueueBoard } from './web/queue-board';
import { PUBLIC_DIR } from './web/demo.controller';

/** The repository root: `var/` lives there whatever the working directory. */
export const SAMPLE_ROOT = resolve(__dirname, '..');
export const DEFAULT_DATABASE = join(SAMPLE_ROOT, 'var', 'sample.sqlite');
export const DEFAULT_EXPORTS_DIR = join(SAMPLE_ROOT, 'var', 'exports');
export const DEFAULT_OUTBOX_DIR = join(SAMPLE_ROOT, 'var', 'outbox');
export const DEFAULT_TICKETS = 20_000;
export const DEFAULT_BULL_PREFIX = 'helpdesk-sample';
/** A redis-server the web process started is announced here, for `npm run sample:worker`. */
export const REDIS_SHARE_FILE = join(SAMPLE_ROOT, 'var', 'sample-redis.url');

export interface SampleProcessOptions {
  /** Redis of the Bull queue (see `resolveRedis`). */
  redisUrl: string;
  /** SQLite file, or ':memory:'. @default var/sample.sqlite */
  database?: string;
  /** @default 'helpdesk-sample' */
  bullPrefix?: string;
  /** @default var/exports */
  exportsDir?: string;
  /** @default var/outbox */
  outboxDir?: string;
  /** Email confirmation before an export starts. @default true */
  confirm?: boolean;
  /** Nest logger setting. */
  logger?: LoggerService | LogLevel[] | false;
  /** Extra library options. */
  exportOptions?: Partial<ExportModuleOptions>;
}

export interface CreateSampleAppOptions extends SampleProcessOptions {
  /** Port to listen on; 0 picks a free one. @default 3000 */
  port?: number;
  /** Address to listen on. @default '127.0.0.1' (the demo sign-in must not face a network) */
  host?: string;
  /** Host name in the public URL (printed, and in emailed links). @default 'localhost' */
  publicHost?: string;
  /** Also run export jobs in this process. @default true */
  worker?: boolean;
  /** Tickets to seed when the database is empty. @default 20000 */
  tickets?: number;
  /** PRNG seed of the data set. */
  seed?: number;
  /** Delete the database, stored archives and outbox first, then seed again. */
  reset?: boolean;
  /** Seeding progress, per batch. */
  onSeedProgress?: (done: number, total: number) => void;
}

export interface SampleApp {
  app: NestExpressApplication;
  /** Where it listens, e.g. http://localhost:3000 */
  url: string;
  dataSource: DataSource;
  /** The users of the demo sign-in page. */
  users: DemoUser[];
  /** What was seeded now (null when the database already had data). */
  seeded: SeedSummary | null;
  /** Tickets in the database. */
  tickets: number;
  close(): Promise<void>;
}

function settingsOf(options: SampleProcessOptions, extra: Pick<SampleSettings, 'baseUrl' | 'worker' | 'http'>): SampleSettings {
  return {
    database: options.database ?? DEFAULT_DATABASE,
    redisUrl: options.redisUrl,
    bullPrefix: options.bullPrefix ?? DEFAULT_BULL_PREFIX,
    exportsDir: options.exportsDir ?? DEFAULT_EXPORTS_DIR,
    outboxDir: options.outboxDir ?? DEFAULT_OUTBOX_DIR,
    confirm: options.confirm ?? true,
    allowedRoles: ['owner', 'admin'],
    exportOptions: options.exportOptions,
    ...extra,
  };
}

/**
 * Boots the help-desk sample: the web app (pages + the library's endpoints), by default also
 * working export jobs. Seeds the database when it is empty. `npm run sample` and the tests both
 * start it through here.
 */
export async function createSampleApp(options: CreateSampleAppOptions): Promise<SampleApp> {
  const requestedPort = options.port ?? 3000;
  const host = options.host ?? '127.0.0.1';
  const port = requestedPort === 0 ? await freePort(host) : requestedPort;
  const url = `http://${options.publicHost ?? 'localhost'}:${port}`;
  const settings = settingsOf(options, { baseUrl: url, worker: options.worker ?? true, http: true });

  if (options.reset) resetFiles(settings);
  if (settings.database !== ':memory:') mkdirSync(dirname(settings.database), { recursive: true });

  const app = await NestFactory.create<NestExpressApplication>(SampleAppModule.register(settings), {
    logger: options.logger ?? ['log', 'warn', 'error'],
  });
  const dataSource = app.get(DataSource);
  app.use(demoAuthMiddleware(dataSource));
  mountQueueBoard(app);
  app.useStaticAssets(PUBLIC_DIR, { prefix: '/assets/', index: false });
  try {
    await app.init();
    let seeded: SeedSummary | null = null;
    if ((await dataSource.getRepository(Team).count()) === 0) {
      seeded = await seedHelpDesk(dataSource, { tickets: options.tickets ?? DEFAULT_TICKETS, seed: options.seed, onProgress: options.onSeedProgress });
    }
    const users = await demoUsers(dataSource);
    const tickets = await dataSource.getRepository(Ticket).count();
    await app.listen(port, host);
    return { app, url, dataSource, users, seeded, tickets, close: () => app.close() };
  } catch (err) {
    await app.close().catch(() => undefined);
    throw err;
  }
}

export interface SampleWorker {
  app: INestApplicationContext;
  dataSource: DataSource;
  close(): Promise<void>;
}

/**
 * A worker-only process of the same app: same database, same queue, no HTTP. Links in the
 * emails it sends point at `baseUrl` (the web process).
 */
export async function createSampleWorker(options: SampleProcessOptions & { baseUrl: string }): Promise<SampleWorker> {
  const settings = settingsOf(options, { baseUrl: options.baseUrl, worker: true, http: false });
  if (settings.database !== ':memory:') mkdirSync(dirname(settings.database), { recursive: true });
  const app = await NestFactory.createApplicationContext(SampleAppModule.register(settings), {
    logger: options.logger ?? ['log', 'warn', 'error'],
  });
  await app.init();
  return { app, dataSource: app.get(DataSource), close: () => app.close() };
}

/** `--reset`: forget the database, the stored archives and the outbox. */
function resetFiles(settings: SampleSettings): void {
  if (settings.database !== ':memory:') {
    for (const suffix of ['', '-wal', '-shm']) rmSync(`${settings.database}${suffix}`, { force: true });
  }
  rmSync(settings.exportsDir, { recursive: true, force: true });
  rmSync(settings.outboxDir, { recursive: true, force: true });
}
