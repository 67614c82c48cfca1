import { pipeline } from 'node:stream/promises';
import { createWriteStream, readFileSync } from 'node:fs';
import 'reflect-metadata';
import { DynamicModule, INestApplicationContext, Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { getQueueToken } from '@nestjs/bull';
import { TypeOrmModule, TypeOrmModuleOptions } from '@nestjs/typeorm';
import type { Queue } from 'bull';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import {
  DATA_EXPORT_ENTITIES,
  DataExport,
  EXPORT_QUEUE,
  ExportModule,
  ExportService,
  ExportStatus,
  LocalDiskStorage,
} from 'nestjs-data-export';
import { SMOKE_ENTITIES } from './entities.js';
import { expectedRows, OTHER_TENANT_CANARY, REDACTED_CANARY, seedRows, TEAM_A } from './seed.js';
import { SmokeCheckError, verifyArchive } from './verify.js';

/**
 * A host app that installed the packed library: boots TypeORM + ExportModule on a real database
 * and Redis, runs one export through the Bull worker and checks the stored ZIP.
 *
 * Environment: SMOKE_SCENARIO (label), SMOKE_DB (postgres | mariadb | sqlite), SMOKE_DB_URL (a
 * URL, or the SQLite file), SMOKE_REDIS_URL, SMOKE_WORK_DIR (scratch directory of this run).
 */
const SECRET = 'smoke-secret-0123456789-abcdefghij-klmnopqrstuvw';
const TIMEOUT_MS = 60_000;

function env(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

function dataSourceOptions(db: string, url: string): TypeOrmModuleOptions {
  const common = {
    entities: [...SMOKE_ENTITIES, ...DATA_EXPORT_ENTITIES],
    synchronize: true,
    dropSchema: true,
    logging: false,
  };
  switch (db) {
    case 'postgres':
      return { type: 'postgres', url, ...common };
    case 'mariadb':
      return { type: 'mariadb', url, timezone: 'Z', ...common };
    case 'sqlite':
      return { type: 'better-sqlite3', database: url, ...common };
    default:
      throw new Error(`Unknown SMOKE_DB ${db}`);
  }
}

/** A host provider that gets the library's service and the DataSource by constructor injection. */
@Injectable()
export class SmokeProbe {
  constructor(
    readonly exportService: ExportService,
    readonly dataSource: DataSource,
  ) {}
}

@Module({})
export class SmokeAppModule {
  static forSmoke(db: string, url: string, redis: string, storageDir: string): DynamicModule {
    return {
      module: SmokeAppModule,
      imports: [
        TypeOrmModule.forRoot(dataSourceOptions(db, url)),
        ExportModule.forRoot({
          secret: SECRET,
          redis,
          storage: new LocalDiskStorage(storageDir),
          attempts: 1,
          // Small batches: every category spans several reads.
          batchSize: 3,
          // SMOKE_HTTP=0: a host without class-validator leaves the built-in endpoints out.
          http: process.env.SMOKE_HTTP !== '0',
        }),
      ],
      providers: [SmokeProbe],
    };
  }
}

async function waitForExport(dataSource: DataSource, id: string): Promise<DataExport> {
  const deadline = Date.now() + TIMEOUT_MS;
  for (;;) {
    const row = await dataSource.getRepository(DataExport).findOneByOrFail({ id });
    if (row.status === ExportStatus.Completed) return row;
    if (row.status === ExportStatus.Failed) throw new Error(`export ${id} failed: ${row.error}`);
    if (Date.now() > deadline) {
      throw new Error(`export ${id} still ${row.status} after ${TIMEOUT_MS / 1000} s`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function main(): Promise<void> {
  const scenario = env('SMOKE_SCENARIO');
  const workDir = env('SMOKE_WORK_DIR');
  const storageDir = join(workDir, 'exports');
  let app: INestApplicationContext | undefined;
  try {
    app = await NestFactory.createApplicationContext(
      SmokeAppModule.forSmoke(env('SMOKE_DB'), env('SMOKE_DB_URL'), env('SMOKE_REDIS_URL'), storageDir),
      { logger: ['error', 'warn'], abortOnError: false },
    );
    const service = app.get(ExportService);
    const probe = app.get(SmokeProbe);
    if (probe.exportService !== service) {
      throw new Error('the constructor-injected ExportService is not the one app.get() returns');
    }
    const dataSource = app.get(DataSource);
    if (process.env.SMOKE_HTTP !== '0') {
      // The `http` entry point (a base controller for hosts) resolves from the installed package.
      const http = await import('nestjs-data-export/http');
      if (typeof http.ExportController !== 'function') throw new Error('nestjs-data-export/http has no ExportController');
    }

    const seed = await seedRows(dataSource);
    const requestedBy = 'smoke-user-a1';
    const principal = { userId: requestedBy, accountId: TEAM_A, role: 'owner' };
    const view = await service.request(principal);
    if (view.status !== ExportStatus.Confirmed) throw new Error(`request() returned status ${view.status}`);
    const row = await waitForExport(dataSource, view.id);
    if (!row.storageKey) throw new Error('completed export has no storageKey');

    // At rest the archive is encrypted: no canary, not a ZIP.
    const stored = readFileSync(join(storageDir, row.storageKey));
    if (stored.subarray(0, 4).toString('latin1') !== 'NDX1') throw new Error('the stored archive is not encrypted at rest');
    for (const canary of [REDACTED_CANARY, OTHER_TENANT_CANARY]) {
      if (stored.includes(canary)) throw new Error(`a canary appears in the stored bytes: ${canary}`);
    }
    // What a user downloads: through a fresh signed link, decrypted on the fly.
    const { downloadUrl } = await service.get(principal, view.id);
    if (!downloadUrl) throw new Error('a completed export has no downloadUrl');
    const token = new URL(downloadUrl).searchParams.get('token');
    const download = await service.openDownload(view.id, token);
    const downloaded = join(workDir, 'download.zip');
    await pipeline(download.stream, createWriteStream(downloaded));

    const result = verifyArchive({
      file: downloaded,
      extractDir: join(workDir, 'unzipped'),
      exportRow: row,
      accountId: TEAM_A,
      requestedBy,
      expected: expectedRows(seed),
      canaries: [REDACTED_CANARY, OTHER_TENANT_CANARY],
      omittedFields: ['nationalId', 'internalNote'],
    });
    console.log(`smoke: ${scenario} ok (${result.rows} rows, ${result.bytes} bytes)`);
  } finally {
    if (app) {
      // Leave nothing behind in this scenario's Redis database: the queue's keys go with it.
      await app
        .get<Queue>(getQueueToken(EXPORT_QUEUE))
        .obliterate({ force: true })
        .catch((err: Error) => console.error(`smoke: ${scenario}: could not clear the queue: ${err.message}`));
      await app.close();
    }
  }
}

main().then(
  () => {
    // Everything is closed: the process must now exit on its own.
    setTimeout(() => {
      console.error('smoke: the process did not exit after app.close(): something still holds the event loop');
      process.exit(1);
    }, 15_000).unref();
  },
  (err: unknown) => {
    const scenario = process.env.SMOKE_SCENARIO ?? '?';
    const detail =
      err instanceof SmokeCheckError ? err.message : err instanceof Error ? (err.stack ?? err.message) : String(err);
    console.error(`smoke: ${scenario} FAILED: ${detail}`);
    process.exit(1);
  },
);
