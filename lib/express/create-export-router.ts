import { BullModule } from '@nestjs/bull';
import { ConsoleLogger, DynamicModule, Global, INestApplication, LoggerService, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { getDataSourceToken } from '@nestjs/typeorm';
import express from 'express';
import type { Router } from 'express';
import type { DataSource } from 'typeorm';
import { DataExport } from '../entities/data-export.entity';
import { ExportModule } from '../export.module';
import type { ExportModuleExtras, ExportModuleOptions, ExportRedisOptions } from '../options/export-module-options.interface';
import { ExportService } from '../service/export.service';

/**
 * Options of {@link createExportRouter}: the host's TypeORM `DataSource`, every
 * `ExportModule` option, and the extras that make sense outside Nest.
 * @publicApi
 */
export interface ExportRouterOptions extends ExportModuleOptions, Pick<ExportModuleExtras, 'worker' | 'path' | 'policy' | 'notifier'> {
  /**
   * The host's TypeORM DataSource, initialized, whose `entities` include
   * `...DATA_EXPORT_ENTITIES` (the library's tables live next to the host's; a DataSource cannot
   * gain entities once initialized). It stays open when the router closes.
   */
  dataSource: DataSource;
  /**
   * The host's exportable entities (classes with `@Exportable()`), checked to be part of the
   * DataSource at startup. The exported categories are found in the DataSource either way.
   */
  entities?: Function[];
  /** Where the feature logs (default: the console, without Nest's boot messages; `false`: nothing). */
  logger?: LoggerService | false;
}

/**
 * What {@link createExportRouter} returns.
 * @publicApi
 */
export interface ExportRouter {
  /**
   * The endpoints, to mount behind the host's auth middleware (which sets `req.user`):
   * `app.use('/exports', authenticate, feature.router)`. The mount path must end in the `path`
   * option (default `exports`) under `baseUrl`, so that links point back at it.
   */
  router: Router;
  /** The service, for the host's own code (request, list, cancel, open a download). */
  service: ExportService;
  /** Stops the worker and closes the queue's Redis connections; the DataSource stays open. */
  close(): Promise<void>;
}

/** The host's DataSource, under the token the library reads it from. */
@Global()
@Module({})
class HostDataSourceModule {
  static of(dataSource: DataSource): DynamicModule {
    return { module: HostDataSourceModule, providers: [{ provide: getDataSourceToken(), useValue: dataSource }], exports: [getDataSourceToken()] };
  }
}

@Module({})
class ExportRouterModule {}

/** Nest's own boot messages, which a host without Nest has no use for. */
const NEST_CONTEXTS = new Set(['NestFactory', 'InstanceLoader', 'RoutesResolver', 'RouterExplorer', 'NestApplication']);

/** The default logger: the console, without Nest's boot messages. */
class ExportRouterLogger extends ConsoleLogger {
  log(message: unknown, context?: string): void {
    if (context !== undefined && NEST_CONTEXTS.has(context)) return;
    super.log(message, context);
  }
}

/** Bull's connection options from the `redis` option (a URL, or ioredis options). */
function bullConnection(redis: string | ExportRedisOptions | undefined): { url?: string; redis?: ExportRedisOptions } {
  if (redis === undefined) return {};
  return typeof redis === 'string' ? { url: redis } : { redis };
}

/**
 * The data-export feature for a plain Express app: the endpoints as an Express router, built
 * around the host's existing TypeORM DataSource, with no Nest code in the host.
 *
 * @example
 * const feature = await createExportRouter({
 *   dataSource,                     // includes ...DATA_EXPORT_ENTITIES
 *   secret: process.env.EXPORT_SECRET,
 *   redis: process.env.REDIS_URL,
 *   storage: new LocalDiskStorage('/var/lib/exports'),
 *   baseUrl: 'https://app.example.com/api',
 * });
 * app.use('/api/exports', authenticate, feature.router);
 * process.on('SIGTERM', () => feature.close());
 * @publicApi
 */
export async function createExportRouter(options: ExportRouterOptions): Promise<ExportRouter> {
  const { dataSource, entities = [], prefix, logger, worker, path, policy, notifier, redis, ...moduleOptions } = options;
  if (!dataSource?.isInitialized) throw new Error('createExportRouter: pass an initialized TypeORM DataSource (await dataSource.initialize() first).');
  const missing = [DataExport, ...entities].filter((entity) => !dataSource.hasMetadata(entity));
  if (missing.length > 0) {
    throw new Error(
      `createExportRouter: ${missing.map((e) => e.name).join(', ')} not part of the DataSource. ` +
        'List ...DATA_EXPORT_ENTITIES and your exportable entities in the DataSource\'s entities.',
    );
  }
  const routePath = (path ?? 'exports').replace(/^\/+|\/+$/g, '');
  const host = express();
  const app: INestApplication = await NestFactory.create(
    {
      module: ExportRouterModule,
      imports: [
        HostDataSourceModule.of(dataSource),
        BullModule.forRoot({ ...bullConnection(redis), ...(prefix === undefined ? {} : { prefix }) }),
        ExportModule.forRoot({ ...moduleOptions, worker, path: routePath, policy, notifier, http: true } as Parameters<typeof ExportModule.forRoot>[0]),
      ],
    },
    new ExpressAdapter(host),
    { logger: logger ?? new ExportRouterLogger(), abortOnError: false },
  );
  await app.init();
  // Mounted at `/api/exports`, the router sees `/123/download`; the endpoints live under `/exports`.
  const router = express.Router();
  router.use((req, res, next) => {
    req.url = `/${routePath}${req.url === '/' ? '' : req.url}`;
    host(req, res, next);
  });
  let closing: Promise<void> | undefined;
  return {
    router,
    service: app.get(ExportService),
    close: () => (closing ??= app.close()),
  };
}
