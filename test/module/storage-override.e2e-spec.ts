import { BullModule } from '@nestjs/bull';
import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { DataSource } from 'typeorm';
import { DATA_EXPORT_ENTITIES, ExportModule, ExportService, ExportStatus, ExportStorage, ExportStorageStat, LocalDiskStorage } from 'nestjs-data-export';
import { HELP_DESK_ENTITIES } from '../fixtures/help-desk.entities';
import { seedHelpDesk, TEAM_A } from '../fixtures/help-desk.seed';
import { dataSourceOptions, REDIS_URL } from '../utils/databases';
import { testRedisPrefix } from '../utils/global-setup';
import { downloadArchive, TestApp, TEST_SECRET, waitForExport } from '../utils/test-app';
import { readZip } from '../utils/zip';

const OWNER = { userId: 'owner-a', accountId: TEAM_A, role: 'owner' };

/** A host's own storage, put in place with Nest's `overrideProvider`: it records every call. */
class RecordingStorage extends LocalDiskStorage {
  readonly calls: string[] = [];
  override put(key: string, body: Readable): Promise<ExportStorageStat> {
    this.calls.push(`put ${key}`);
    return super.put(key, body);
  }
  override get(key: string, range?: { start: number; end: number }): Promise<Readable> {
    this.calls.push(`get ${key}`);
    return super.get(key, range);
  }
  override delete(key: string): Promise<void> {
    this.calls.push(`delete ${key}`);
    return super.delete(key);
  }
}

describe('a host that overrides ExportStorage with Nest (overrideProvider)', () => {
  const configured = mkdtempSync(join(tmpdir(), 'data-export-configured-'));
  const overriding = mkdtempSync(join(tmpdir(), 'data-export-override-'));
  const storage = new RecordingStorage(overriding);
  let app: INestApplication;

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        TypeOrmModule.forRoot(dataSourceOptions('sqlite', [...HELP_DESK_ENTITIES, ...DATA_EXPORT_ENTITIES])),
        BullModule.forRoot({ url: REDIS_URL, prefix: testRedisPrefix('override') }),
        ExportModule.forRoot({ secret: TEST_SECRET, storage: new LocalDiskStorage(configured), attempts: 1 }),
      ],
    })
      .overrideProvider(ExportStorage)
      .useValue(storage)
      .compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    await seedHelpDesk(app.get(DataSource), 3);
  });

  afterAll(async () => {
    await app?.close();
    for (const dir of [configured, overriding]) rmSync(dir, { recursive: true, force: true });
  });

  it('stores, serves and deletes every archive through the overriding storage, never the configured one', async () => {
    const service = app.get(ExportService);
    const dataSource = app.get(DataSource);
    const view = await service.request(OWNER);
    const done = await waitForExport(dataSource, view.id);
    expect(done.status).toBe(ExportStatus.Completed);
    expect(app.get(ExportStorage)).toBe(storage);

    const t = { app, dataSource, service, storageDir: overriding } as TestApp;
    const entries = await readZip(await downloadArchive(t, done.id, OWNER));
    expect(entries.has('manifest.json')).toBe(true);
    await service.cancel(OWNER, done.id);

    expect(storage.calls).toEqual([`put ${done.storageKey}`, ...storage.calls.filter((c) => c.startsWith('get ')), `delete ${done.storageKey}`]);
    expect(storage.calls.some((c) => c.startsWith('get '))).toBe(true);
    expect(readdirSync(configured)).toEqual([]);
    expect(readdirSync(overriding)).toEqual([]);
  });
});
