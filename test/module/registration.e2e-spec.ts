import { BullModule, getQueueToken } from '@nestjs/bull';
import { Injectable, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import type { Queue } from 'bull';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DATA_EXPORT_ENTITIES,
  EXPORT_QUEUE,
  ExportModule,
  ExportModuleOptions,
  ExportOptionsFactory,
  ExportService,
  ExportStatus,
  LocalDiskStorage,
} from 'nestjs-data-export';
import { dataSourceOptions, REDIS_URL } from '../utils/databases';
import { TEST_SECRET, waitForExport } from '../utils/test-app';
import { deleteRedisKeys, testRedisPrefix } from '../utils/global-setup';
import { HELP_DESK_ENTITIES } from '../fixtures/help-desk.entities';
import { seedHelpDesk, TEAM_A } from '../fixtures/help-desk.seed';
import { DataSource } from 'typeorm';

const OWNER = { userId: 'u1', accountId: TEAM_A, role: 'owner' };
const storageDir = mkdtempSync(join(tmpdir(), 'data-export-reg-'));
afterAll(() => rmSync(storageDir, { recursive: true, force: true }));

/** A config provider such as a host's ConfigService. */
@Injectable()
class ExportConfig {
  readonly redisUrl = `${REDIS_URL}/4`;
  options(): ExportModuleOptions {
    return { secret: TEST_SECRET, redis: this.redisUrl, storage: new LocalDiskStorage(storageDir), attempts: 1 };
  }
}

@Module({ providers: [ExportConfig], exports: [ExportConfig] })
class ConfigModule {}

@Injectable()
class ExportOptionsFactoryImpl implements ExportOptionsFactory {
  constructor(private readonly config: ExportConfig) {}
  createExportOptions(): ExportModuleOptions {
    return this.config.options();
  }
}

@Module({ imports: [ConfigModule], providers: [ExportOptionsFactoryImpl], exports: [ExportOptionsFactoryImpl] })
class FactoryModule {}

describe('forRootAsync', () => {
  // These hosts have no BullModule.forRoot: their queue keys sit under Bull's default prefix, in
  // Redis database 4, which only this test uses.
  afterAll(() => deleteRedisKeys(['bull:data-export'], `${REDIS_URL}/4`));

  it.each([
    ['useFactory', ExportModule.forRootAsync({ imports: [ConfigModule], inject: [ExportConfig], useFactory: (c: ExportConfig) => c.options() })],
    ['useClass', ExportModule.forRootAsync({ imports: [ConfigModule], useClass: ExportOptionsFactoryImpl })],
    ['useExisting', ExportModule.forRootAsync({ imports: [FactoryModule], useExisting: ExportOptionsFactoryImpl })],
    // A provider of the host's with no module of its own, given to the factory.
    ['extraProviders', ExportModule.forRootAsync({ extraProviders: [ExportConfig], inject: [ExportConfig], useFactory: (c: ExportConfig) => c.options() })],
  ])('with %s: the queue connects through the "redis" option and an export completes', async (_style, exportModule) => {
    const moduleRef = await Test.createTestingModule({
      imports: [TypeOrmModule.forRoot(dataSourceOptions('sqlite', [...HELP_DESK_ENTITIES, ...DATA_EXPORT_ENTITIES])), exportModule],
    }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    try {
      const queue = app.get<Queue>(getQueueToken(EXPORT_QUEUE));
      // No BullModule.forRoot in this host: the queue uses the URL from the options (db 4).
      expect((queue as unknown as { clients: { options: { db: number } }[] }).clients[0].options.db).toBe(4);
      const dataSource = app.get(DataSource);
      await seedHelpDesk(dataSource, 3);
      const view = await app.get(ExportService).request(OWNER);
      const row = await waitForExport(dataSource, view.id);
      expect(row.status).toBe(ExportStatus.Completed);
      expect(row.counts).toEqual({ customers: 4, tickets: 2, messages: 6, webhooks: 2 });
    } finally {
      await app.close();
    }
  });
});

describe('worker: false', () => {
  it('makes an API-only process that enqueues; a separate worker process builds the archive', async () => {
    const prefix = testRedisPrefix('reg');
    const build = async (extras: { worker: boolean }, dropSchema: boolean) => {
      const moduleRef = await Test.createTestingModule({
        imports: [
          TypeOrmModule.forRoot({ ...dataSourceOptions('postgres', [...HELP_DESK_ENTITIES, ...DATA_EXPORT_ENTITIES]), dropSchema, synchronize: dropSchema }),
          BullModule.forRoot({ url: REDIS_URL, prefix }),
          ExportModule.forRoot({ secret: TEST_SECRET, storage: new LocalDiskStorage(storageDir), attempts: 1, ...extras }),
        ],
      }).compile();
      const app = moduleRef.createNestApplication({ logger: false });
      await app.init();
      return app;
    };
    const api = await build({ worker: false }, true);
    let worker: Awaited<ReturnType<typeof build>> | undefined;
    try {
      const dataSource = api.get(DataSource);
      await seedHelpDesk(dataSource, 3);
      const view = await api.get(ExportService).request(OWNER);
      const queue = api.get<Queue>(getQueueToken(EXPORT_QUEUE));
      // Nobody consumes the job: it waits in the queue, under the export's id.
      await new Promise((r) => setTimeout(r, 300));
      const waiting = await queue.getWaiting();
      expect(waiting.map((j) => j.id)).toEqual([view.id]);
      expect((await api.get(ExportService).get(OWNER, view.id)).status).toBe(ExportStatus.Confirmed);

      worker = await build({ worker: true }, false);
      const row = await waitForExport(dataSource, view.id);
      expect(row.status).toBe(ExportStatus.Completed);
    } finally {
      await worker?.close();
      await api.close();
    }
  });
});
