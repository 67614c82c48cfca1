import { BullModule } from '@nestjs/bull';
import { DynamicModule, Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DATA_EXPORT_ENTITIES, ExportModule, LocalDiskStorage } from 'nestjs-data-export';
import { BillingExporter, DemoPaymentProvider } from './billing/billing.exporter';
import { SAMPLE_ENTITIES } from './entities';
import { MailExportNotifier } from './mail/mail-export.notifier';
import { Outbox } from './mail/outbox';
import { exportSecret, SAMPLE_SETTINGS, SampleSettings } from './sample.settings';
import { DemoController } from './web/demo.controller';
import { BillingController } from './web/billing.controller';
import { MembersController } from './web/members.controller';
import { AdminController } from './web/admin.controller';
import { SampleExportPolicy } from './policy/sample-export.policy';

/** The outbox and the settings, visible to every module (the notifier lives inside ExportModule). */
@Global()
@Module({})
class SampleCoreModule {
  static register(settings: SampleSettings): DynamicModule {
    return {
      module: SampleCoreModule,
      providers: [
        { provide: SAMPLE_SETTINGS, useValue: settings },
        { provide: Outbox, useValue: new Outbox(settings.outboxDir) },
      ],
      exports: [SAMPLE_SETTINGS, Outbox],
    };
  }
}

/**
 * The help desk's module graph, shared by the web process, the worker process and the tests:
 * TypeORM on SQLite, Bull on Redis, and the data export module wired the way a host app does it.
 */
@Module({})
export class SampleAppModule {
  static register(settings: SampleSettings): DynamicModule {
    const sqliteFile = settings.database !== ':memory:';
    return {
      module: SampleAppModule,
      imports: [
        SampleCoreModule.register(settings),
        TypeOrmModule.forRoot({
          type: 'better-sqlite3',
          database: settings.database,
          entities: [...SAMPLE_ENTITIES, ...DATA_EXPORT_ENTITIES],
          // A demo: the schema follows the entities. A real app runs migrations
          // (the library ships DATA_EXPORT_MIGRATIONS for its table).
          synchronize: true,
          // WAL lets the web and worker processes use the same file at the same time.
          enableWAL: sqliteFile,
          timeout: 10_000,
          // The usual WAL pairing (synchronous NORMAL) and a 64 MB page cache: seeding and
          // exporting 100 000+ tickets stay fast.
          prepareDatabase: (db: { pragma(sql: string): unknown }) => {
            db.pragma('synchronous = NORMAL');
            db.pragma('cache_size = -65536');
          },
          logging: false,
        }),
        // The export queue reuses this connection (no `redis` option on ExportModule), which is
        // how the key prefix is set.
        BullModule.forRoot({ url: settings.redisUrl, prefix: settings.bullPrefix }),
        ExportModule.forRoot({
          secret: exportSecret(),
          storage: new LocalDiskStorage(settings.exportsDir),
          baseUrl: settings.baseUrl,
          confirmation: { required: settings.confirm },
          // The page signs in by cookie, so a download also needs the account's signed-in member.
          downloadRequiresPrincipal: true,
          allowedRoles: settings.allowedRoles,
          notifier: MailExportNotifier,
          policy: SampleExportPolicy,
          worker: settings.worker,
          http: settings.http,
          // A livelier progress bar than the default 1 s.
          progressInterval: '250ms',
          // Every table is exported or excluded on purpose: a new one cannot silently miss the export.
          coverage: {
            required: true,
            notes: ['Emails we sent you: kept by our mail provider for 30 days, not in this archive.'],
          },
          about: {
            purpose: 'To provide the help desk to your team',
            retention: 'While your team has an account, then 30 days in backups',
          },
          // "Export My Data" on the Billing page downloads at once (no email confirmation in between,
          // so only when confirmation is off): the smaller seeded team fits.
          ...(settings.confirm ? {} : { instant: { maxRows: 100_000, cooldown: '30s' } }),
          ...settings.exportOptions,
        }),
      ],
      providers: [DemoPaymentProvider, BillingExporter],
      controllers: settings.http ? [DemoController, BillingController, MembersController, AdminController] : [],
    };
  }
}
