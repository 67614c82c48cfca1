import { BullModule } from '@nestjs/bull';
import { DynamicModule, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import type { Logger as TypeOrmLogger, QueryRunner } from 'typeorm';
import { DATA_EXPORT_ENTITIES, DATA_EXPORT_MIGRATIONS, ExportModule, LocalDiskStorage } from 'nestjs-data-export';
import { BENCH_SECRET, PG_URL, REDIS_URL } from './config';
import { createMessageEntity } from './message.entity';

export interface BenchHostOptions {
  table: string;
  /** Bull key prefix shared by the API process and the worker of one bench run. */
  prefix: string;
  storageDir: string;
  /** `undefined`: the library's default. */
  batchSize?: number;
  compressionLevel: number;
  /** `undefined`: the library's default. */
  encryption?: boolean;
  /** Give the body column a transformer (see createMessageEntity). */
  transformer?: boolean;
  /** `false`: an API-only process (the bench's requesting side). */
  worker: boolean;
  /** PostgreSQL `application_name` of the process's connections (to find its backends). */
  applicationName: string;
  /** Receives every SQL statement (the worker records the cursor's `DECLARE`). */
  onQuery?: (sql: string, parameters?: unknown[]) => void;
}

/** Forwards queries to a callback; TypeORM calls `logQuery` for every statement. */
class QueryTap implements TypeOrmLogger {
  constructor(private readonly tap: (sql: string, parameters?: unknown[]) => void) {}
  logQuery(query: string, parameters?: unknown[], _qr?: QueryRunner): void {
    this.tap(query, parameters);
  }
  logQueryError(): void {}
  logQuerySlow(): void {}
  logSchemaBuild(): void {}
  logMigration(): void {}
  log(): void {}
}

@Module({})
export class BenchHostModule {
  /**
   * The host app as a user would write it: TypeOrmModule (PostgreSQL, migrations instead of
   * `synchronize` so the seeded table is never touched), BullModule on Redis with a prefix of
   * the run's own, and ExportModule storing archives on local disk.
   */
  static forRoot(o: BenchHostOptions): DynamicModule {
    return {
      module: BenchHostModule,
      imports: [
        TypeOrmModule.forRoot({
          type: 'postgres',
          url: PG_URL,
          applicationName: o.applicationName,
          entities: [createMessageEntity(o.table, { transformer: o.transformer }), ...DATA_EXPORT_ENTITIES],
          migrations: DATA_EXPORT_MIGRATIONS,
          migrationsRun: !o.worker,
          synchronize: false,
          ...(o.onQuery ? { logger: new QueryTap(o.onQuery), logging: ['query'] as const } : { logging: false }),
        }),
        BullModule.forRoot({ url: REDIS_URL, prefix: o.prefix }),
        ExportModule.forRoot({
          secret: BENCH_SECRET,
          storage: new LocalDiskStorage(o.storageDir),
          compressionLevel: o.compressionLevel,
          ...(o.batchSize ? { batchSize: o.batchSize } : {}),
          ...(o.encryption === undefined ? {} : { encryption: o.encryption }),
          attempts: 1,
          worker: o.worker,
          http: false,
        }),
      ],
    };
  }
}
