import { BullModule, BullModuleOptions, getSharedConfigToken } from '@nestjs/bull';
import type { AdvancedSettings } from 'bull';
import { DynamicModule, Module, ModuleMetadata, Provider, Type } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { getDataSourceToken } from '@nestjs/typeorm';
import { ExportClock } from './common/export.clock';
import { EXPORT_QUEUE } from './common/export.constants';
import { EXPORT_DATA_SOURCE, EXPORT_RESOLVED_OPTIONS, EXPORT_ROUTE_PATH } from './common/export.internal-constants';
import {
  ASYNC_OPTIONS_TYPE,
  ConfigurableModuleClass,
  DEFAULT_EXPORT_EXTRAS,
  EXPORT_MODULE_OPTIONS,
  OPTIONS_TYPE,
  ResolvedExportExtras,
} from './export.module-definition';
import type { ExportModuleExtras, ExportNotifierChoice, ResolvedExportOptions } from './options/export-module-options.interface';
import { DEFAULT_QUEUE_LOCK, resolveExportOptions } from './options/validate-export-options.util';
import { parseDuration } from './common/duration.util';
import { ExportProducer } from './queue/export.producer';
import { ExportArchiveBuilder } from './queue/export-archive.builder';
import { ExportWorker } from './queue/export.worker';
import { RedisChoiceCheck } from './queue/redis-choice.check';
import { ExportMetadataAccessor } from './metadata/export-metadata.accessor';
import { ExportExplorer } from './metadata/export.explorer';
import { ExportRegistry } from './metadata/export.registry';
import { ExportService } from './service/export.service';
import { ExportRequests } from './service/export-requests';
import { ExportAccountState } from './service/export-account-state';
import { ExportDownloads } from './service/export-downloads';
import { ExportStorage } from './storage/export.storage';
import { ArchiveStore } from './storage/archive.store';
import { ExportPolicy } from './policy/export.policy';
import { DefaultExportPolicy } from './policy/default-export.policy';
import { ExportNotifier, LoggingExportNotifier } from './notifier/export.notifier';
import { ExportEstimator } from './service/export-estimator';
import { ExportInstant } from './service/export-instant';
import { InstantDownloadLimiter } from './queue/instant-download.limiter';
import { ExportLinkSigner } from './crypto/export-link.signer';
import { ExportEvents } from './lifecycle/export-events';
import { ExportSweeper } from './queue/export.sweeper';
import { ExportStore } from './lifecycle/export.store';
import { ExportAudit } from './lifecycle/export-audit';
import { ExportAdminService } from './admin/export-admin.service';
import { InvalidExportOptionsError } from './common/export.error';
import { ExportMessages } from './common/export.messages';

/**
 * Holds the module options so that both `ExportModule` and the queue registration (whose
 * connection may come from the options) see one instance of them.
 * @internal
 */
@Module({})
export class ExportOptionsModule {}

/**
 * "Export my data" for a NestJS app: register it once with `forRoot()` or `forRootAsync()`.
 *
 * @example
 * ExportModule.forRoot({ secret: process.env.EXPORT_SECRET, redis: process.env.REDIS_URL })
 * @publicApi
 */
@Module({})
export class ExportModule extends ConfigurableModuleClass {
  static forRoot(options: typeof OPTIONS_TYPE): DynamicModule {
    return ExportModule.assemble(super.forRoot(options), options);
  }

  static forRootAsync(options: typeof ASYNC_OPTIONS_TYPE): DynamicModule {
    return ExportModule.assemble(super.forRootAsync(options), options);
  }

  private static assemble(definition: DynamicModule, extrasInput: ExportModuleExtras): DynamicModule {
    const extras: ResolvedExportExtras = {
      isGlobal: extrasInput.isGlobal ?? DEFAULT_EXPORT_EXTRAS.isGlobal,
      worker: extrasInput.worker ?? DEFAULT_EXPORT_EXTRAS.worker,
      http: extrasInput.http ?? DEFAULT_EXPORT_EXTRAS.http,
      path: normalizeRoutePath(extrasInput.path ?? DEFAULT_EXPORT_EXTRAS.path),
      dataSource: extrasInput.dataSource ?? DEFAULT_EXPORT_EXTRAS.dataSource,
      policy: extrasInput.policy,
      notifier: extrasInput.notifier,
      extraProviders: extrasInput.extraProviders ?? [],
    };
    const resolvedOptions: Provider = {
      provide: EXPORT_RESOLVED_OPTIONS,
      useFactory: resolveExportOptions,
      inject: [EXPORT_MODULE_OPTIONS],
    };
    const optionsModule: DynamicModule = {
      module: ExportOptionsModule,
      imports: definition.imports ?? [],
      providers: [...(definition.providers ?? []), ...extras.extraProviders, resolvedOptions],
      exports: [EXPORT_MODULE_OPTIONS, EXPORT_RESOLVED_OPTIONS],
    };
    const queue = BullModule.registerQueueAsync({
      name: EXPORT_QUEUE,
      imports: [optionsModule],
      inject: [EXPORT_RESOLVED_OPTIONS, { token: getSharedConfigToken(), optional: true }],
      useFactory: (options: ResolvedExportOptions, host?: BullModuleOptions) => ({
        ...(options.redis === undefined ? {} : typeof options.redis === 'string' ? { url: options.redis } : { redis: options.redis }),
        ...(options.prefix === undefined ? {} : { prefix: options.prefix }),
        settings: exportQueueSettings(options, host?.settings),
      }),
    });
    const providers: Provider[] = [
      { provide: EXPORT_DATA_SOURCE, useExisting: getDataSourceToken(extras.dataSource) },
      { provide: ExportStorage, useFactory: (o: ResolvedExportOptions) => o.storage, inject: [EXPORT_RESOLVED_OPTIONS] },
      { provide: EXPORT_ROUTE_PATH, useValue: extras.path },
      { provide: ExportPolicy, useClass: extras.policy ?? DefaultExportPolicy },
      notifierProvider(extras.notifier),
      ExportClock,
      ExportMetadataAccessor,
      ExportRegistry,
      ExportExplorer,
      ExportProducer,
      ExportLinkSigner,
      ExportEvents,
      ExportSweeper,
      ArchiveStore,
      ExportStore,
      ExportAudit,
      ExportDownloads,
      ExportAccountState,
      ExportRequests,
      ExportService,
      ExportAdminService,
      ExportEstimator,
      ExportInstant,
      InstantDownloadLimiter,
      RedisChoiceCheck,
      ...(extras.worker ? [ExportArchiveBuilder, ExportWorker] : []),
      ...(extras.http ? [loadHttpErrorHandler()] : []),
    ];
    return {
      module: ExportModule,
      global: extras.isGlobal,
      // DiscoveryModule: the explorer finds `@Exporter()` providers in every module of the host.
      imports: [optionsModule, queue, DiscoveryModule, ...notifierImports(extras.notifier)],
      controllers: extras.http ? [loadHttpController(extras.path)] : [],
      providers,
      // The resolved options too: a host's subclass of `ExportController` is built from them.
      exports: [ExportService, ExportAdminService, ExportRegistry, ExportStorage, ExportClock, ExportPolicy, ExportNotifier, ExportSweeper, optionsModule],
    };
  }
}

/** The modules a factory notifier injects from. @internal */
function notifierImports(choice: ExportNotifierChoice | undefined): NonNullable<ModuleMetadata['imports']> {
  const imports = choice && typeof choice === 'object' && 'useFactory' in choice ? choice.imports : undefined;
  return imports ?? [];
}

/** The notifier's provider from the `notifier` option: a class, an instance or a factory. @internal */
export function notifierProvider(choice: ExportNotifierChoice | undefined): Provider {
  if (choice === undefined) return { provide: ExportNotifier, useClass: LoggingExportNotifier };
  if (typeof choice === 'function') return { provide: ExportNotifier, useClass: choice };
  if (typeof (choice as { useFactory?: unknown }).useFactory === 'function') {
    const { useFactory, inject = [] } = choice as Extract<ExportNotifierChoice, { useFactory: unknown }>;
    return { provide: ExportNotifier, useFactory, inject };
  }
  return { provide: ExportNotifier, useValue: choice };
}

/**
 * Bull settings of the export queue: the host's `BullModule.forRoot({ settings })` (which Nest
 * would otherwise replace as a whole), over our shorter lock defaults, under the lock options
 * given to `ExportModule` (they concern this queue only). A host's lock renewal time that is not
 * shorter than the lock is dropped, so that Bull renews at half of it.
 */
function exportQueueSettings(options: ResolvedExportOptions, host: AdvancedSettings | undefined): AdvancedSettings {
  const settings: AdvancedSettings = {
    lockDuration: parseDuration(DEFAULT_QUEUE_LOCK.lockDuration),
    stalledInterval: parseDuration(DEFAULT_QUEUE_LOCK.stalledInterval),
    ...host,
  };
  if (options.lockDurationMs !== undefined) settings.lockDuration = options.lockDurationMs;
  if (options.stalledIntervalMs !== undefined) settings.stalledInterval = options.stalledIntervalMs;
  if (settings.lockRenewTime !== undefined && settings.lockRenewTime >= settings.lockDuration!) delete settings.lockRenewTime;
  return settings;
}

/** `'/exports/'` → `'exports'`; refuses what is not a plain route path. */
function normalizeRoutePath(path: unknown): string {
  const trimmed = typeof path === 'string' ? path.replace(/^\/+|\/+$/g, '') : '';
  if (!/^[A-Za-z0-9._~-]+(\/[A-Za-z0-9._~-]+)*$/.test(trimmed)) {
    throw new InvalidExportOptionsError(ExportMessages.badPath(path));
  }
  return trimmed;
}

/**
 * Loads the built-in controller only when it is wanted, so that hosts with `http: false` need
 * neither class-validator nor class-transformer.
 */
function loadHttpController(path: string): Type<unknown> {
  for (const pkg of ['class-validator', 'class-transformer']) {
    try {
      require.resolve(pkg);
    } catch {
      throw new InvalidExportOptionsError(ExportMessages.missingHttpPackage(pkg));
    }
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { createExportController } = require('./http/export.controller') as typeof import('./http/export.controller');
  return createExportController(path);
}

function loadHttpErrorHandler(): Type<unknown> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require('./http/body-error.handler') as typeof import('./http/body-error.handler')).ExportBodyErrorHandler;
}
