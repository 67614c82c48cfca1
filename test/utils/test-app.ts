import { BullModule } from '@nestjs/bull';
import { INestApplication, ModuleMetadata } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import {
  DATA_EXPORT_ENTITIES,
  DataExport,
  ExportModule,
  ExportModuleExtras,
  ExportModuleOptions,
  ExportService,
  ExportStatus,
  LocalDiskStorage,
} from 'nestjs-data-export';
import { DatabaseName, dataSourceOptions, REDIS_URL } from './databases';

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
}

/**
 * Boots a host app: TypeORM on a real database, Bull on real Redis with a prefix of its own,
 * and ExportModule storing archives in a fresh temporary directory.
 */
export async function createTestApp(db: DatabaseName, options: TestAppOptions): Promise<TestApp> {
  const storageDir = mkdtempSync(join(tmpdir(), 'data-export-'));
  const moduleRef = await Test.createTestingModule({
    imports: [
      TypeOrmModule.forRoot(dataSourceOptions(db, [...options.entities, ...DATA_EXPORT_ENTITIES])),
      BullModule.forRoot({ url: REDIS_URL, prefix: `t-${randomUUID().slice(0, 8)}` }),
      ExportModule.forRoot({
        secret: TEST_SECRET,
        storage: new LocalDiskStorage(storageDir),
        attempts: 1,
        ...options.exportOptions,
      }),
      ...(options.metadata?.imports ?? []),
    ],
    providers: options.metadata?.providers ?? [],
  }).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  await app.init();
  return {
    app,
    dataSource: app.get(DataSource),
    service: app.get(ExportService),
    storageDir,
    async close() {
      await app.close();
      rmSync(storageDir, { recursive: true, force: true });
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
