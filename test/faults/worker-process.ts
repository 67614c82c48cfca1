/**
 * A worker process for fault tests: the same host module with `worker: true`, on the database,
 * Redis prefix and storage directory given in the environment. Bull's lock is short so that a
 * killed worker's job is taken up again within seconds.
 */
import 'reflect-metadata';
import { BullModule } from '@nestjs/bull';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DATA_EXPORT_ENTITIES, ExportModule, LocalDiskStorage } from 'nestjs-data-export';
import { HELP_DESK_ENTITIES } from '../fixtures/help-desk.entities';
import { DatabaseName, dataSourceOptions, REDIS_URL } from '../utils/databases';
import { TEST_SECRET } from '../utils/test-app';

const env = (name: string) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};

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
      settings: { lockDuration: 1500, lockRenewTime: 500, stalledInterval: 500, maxStalledCount: 3 },
    }),
    ExportModule.forRoot({
      secret: TEST_SECRET,
      storage: new LocalDiskStorage(env('FAULT_STORAGE')),
      batchSize: Number(process.env.FAULT_BATCH ?? 50),
      attempts: 1,
      http: false,
    }),
  ],
})
class WorkerModule {}

async function main(): Promise<void> {
  const app = await NestFactory.createApplicationContext(WorkerModule, { logger: ['error'] });
  app.enableShutdownHooks();
  process.stdout.write('worker ready\n');
  void app;
}

main().catch((err) => {
  process.stderr.write(`worker failed: ${(err as Error).stack}\n`);
  process.exit(1);
});
