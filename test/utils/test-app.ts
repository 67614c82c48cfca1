import { BullModule } from '@nestjs/bull';
import { INestApplication, LoggerService, ModuleMetadata } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import type { AbstractHttpAdapter } from '@nestjs/core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import {
  DATA_EXPORT_ENTITIES,
  DataExport,
  ExportModule,
  ExportModuleExtras,
  ExportModuleOptions,
  ExportService,
  ExportStatus,
  ExportClock,
  ExportNotifier,
  ExportView,
  ExportPrincipal,
  ByteRange,
  LocalDiskStorage,
} from 'nestjs-data-export';
import { DatabaseName, dataSourceOptions, REDIS_URL } from './databases';
import { deleteRedisKeys, testRedisPrefix } from './global-setup';

export { deleteRedisKeys, testRedisPrefix, trackRedisPrefix } from './global-setup';

/** A fixed 48-character secret for tests. */
export const TEST_SECRET = 'test-secret-0123456789-abcdefghij-klmnopqrstuvwx';

export interface TestApp {
  app: INestApplication;
  dataSource: DataSource;
  service: ExportService;
  storageDir: string;
  close(): Promise<void>;
}

export interface TestAppOptions {
  entities: Function[];
  exportOptions?: Partial<ExportModuleOptions> & ExportModuleExtras;
  /** Extra imports/providers of the host module. */
  metadata?: ModuleMetadata;
  /** Replaces the module's clock, for time rules without sleeping. */
  clock?: TestClock;
  /** Runs on the app before init (middleware such as a demo sign-in). */
  configure?: (app: INestApplication) => void;
  /** Receives the app's log output (default: none). */
  logger?: LoggerService;
  /** Skips BullModule.forRoot, for hosts whose queue connection comes from the `redis` option. */
  noBullRoot?: boolean;
  /** The HTTP adapter of the Nest app (default: Express). */
  adapter?: TestAdapter;
}

/** The HTTP adapters the built-in endpoints are tested on. */
export type TestAdapter = 'express' | 'fastify';

/**
 * A fresh Fastify adapter. Loaded on demand, so that the suites on Express need no Fastify.
 */
export function fastifyAdapter(): AbstractHttpAdapter {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { FastifyAdapter } = require('@nestjs/platform-fastify') as { FastifyAdapter: new () => AbstractHttpAdapter };
  return new FastifyAdapter();
}

/** A clock the test moves by hand. */
export class TestClock extends ExportClock {
  private current: number;
  constructor(start = Date.UTC(2026, 10, 25, 12, 0, 0)) {
    super();
    this.current = start;
  }
  now(): Date {
    return new Date(this.current);
  }
  advance(ms: number): void {
    this.current += ms;
  }
}

/** Records every notifier call (the URLs hold tokens: only tests look at them). */
export class RecordingNotifier extends ExportNotifier {
  readonly calls: { kind: 'confirmationRequested' | 'ready' | 'failed'; view: ExportView; url?: string }[] = [];
  confirmationRequested(view: ExportView, url: string): void {
    this.calls.push({ kind: 'confirmationRequested', view, url });
  }
  ready(view: ExportView, url: string): void {
    this.calls.push({ kind: 'ready', view, url });
  }
  failed(view: ExportView): void {
    this.calls.push({ kind: 'failed', view });
  }
  /** The token of the last link of a kind. */
  token(kind: 'confirmationRequested' | 'ready', exportId: string): string {
    const call = [...this.calls].reverse().find((c) => c.kind === kind && c.view.id === exportId);
    if (!call?.url) throw new Error(`no ${kind} link for ${exportId}`);
    return new URL(call.url).searchParams.get('token')!;
  }
}

/**
 * Boots a host app: TypeORM on a real database, Bull on real Redis with a prefix of its own,
 * and ExportModule storing archives in a fresh temporary directory. Closing it removes the
 * directory and the prefix's keys.
 */
export async function createTestApp(db: DatabaseName, options: TestAppOptions): Promise<TestApp> {
  const storageDir = mkdtempSync(join(tmpdir(), 'data-export-'));
  const prefix = options.noBullRoot ? undefined : testRedisPrefix('t');
  const moduleRef = await Test.createTestingModule({
    imports: [
      TypeOrmModule.forRoot(dataSourceOptions(db, [...options.entities, ...DATA_EXPORT_ENTITIES])),
      ...(prefix === undefined ? [] : [BullModule.forRoot({ url: REDIS_URL, prefix })]),
      ExportModule.forRoot({
        secret: TEST_SECRET,
        storage: new LocalDiskStorage(storageDir),
        attempts: 1,
        ...options.exportOptions,
      }),
      ...(options.metadata?.imports ?? []),
    ],
    providers: options.metadata?.providers ?? [],
    controllers: options.metadata?.controllers ?? [],
  })
    .overrideProvider(ExportClock)
    .useValue(options.clock ?? new ExportClock())
    .compile();
  const app =
    options.adapter === 'fastify'
      ? moduleRef.createNestApplication(fastifyAdapter(), { logger: options.logger ?? false })
      : moduleRef.createNestApplication({ logger: options.logger ?? false });
  options.configure?.(app);
  await app.init();
  // Fastify routes once the app is ready (supertest then reaches it through its Node server).
  if (options.adapter === 'fastify') await (app.getHttpAdapter().getInstance() as { ready(): Promise<unknown> }).ready();
  // Tests that reboot close the app themselves and again in afterEach: the app closes once.
  let closing: Promise<void> | undefined;
  return {
    app,
    dataSource: app.get(DataSource),
    service: app.get(ExportService),
    storageDir,
    close() {
      closing ??= app
        .close()
        .then(async () => {
          if (prefix !== undefined) await deleteRedisKeys([prefix]);
        })
        .then(() => rmSync(storageDir, { recursive: true, force: true }));
      return closing;
    },
  };
}

const FINAL = [ExportStatus.Completed, ExportStatus.Failed, ExportStatus.Cancelled, ExportStatus.Expired];

/** Polls the export until it reaches a final status (completed, failed, cancelled, expired). */
export async function waitForExport(dataSource: DataSource, id: string, timeoutMs = 30_000): Promise<DataExport> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const row = await dataSource.getRepository(DataExport).findOneByOrFail({ id });
    if (FINAL.includes(row.status)) return row;
    if (Date.now() > deadline) throw new Error(`Export ${id} still ${row.status} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Downloads a completed export the way a user does: a fresh signed link, decrypted on the fly. */
export async function downloadArchive(t: TestApp, id: string, principal: ExportPrincipal, range?: ByteRange): Promise<Buffer> {
  const { downloadUrl } = await t.service.get(principal, id);
  if (!downloadUrl) throw new Error(`export ${id} has no download link`);
  const download = await t.service.openDownload(id, new URL(downloadUrl).searchParams.get('token'), range);
  const chunks: Buffer[] = [];
  for await (const chunk of download.stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
