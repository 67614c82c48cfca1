import type { Provider, Type } from '@nestjs/common';
import type { ExportPolicy } from '../policy/export.policy';
import type { ExportNotifierChoice } from './export-option-parts.interface';

/**
 * Switches that change the module graph. They sit next to the options in `forRoot()` and at the
 * top level of `forRootAsync()`.
 * @publicApi
 */
export interface ExportModuleExtras {
  /**
   * Register the module globally.
   * @default false
   */
  isGlobal?: boolean;
  /**
   * Run export jobs in this process. `false` makes an API-only process that only enqueues.
   * @default true
   */
  worker?: boolean;
  /**
   * Serve the built-in HTTP endpoints. `false` leaves the controller out; the service still works.
   * @default true
   */
  http?: boolean;
  /**
   * Route prefix of the built-in endpoints.
   * @default 'exports'
   */
  path?: string;
  /**
   * The policy class (see `ExportPolicy`); usually a subclass of `DefaultExportPolicy`.
   * @default DefaultExportPolicy
   */
  policy?: Type<ExportPolicy>;
  /**
   * What sends confirmation and ready messages: a class (built by Nest, its dependencies from
   * the module's scope), an instance, or `{ imports, useFactory, inject }` (a factory with
   * injected dependencies from the modules in `imports`, such as the host's mailer:
   * `{ imports: [MailModule], useFactory: (mailer) => new MailNotifier(mailer), inject: [Mailer] }`).
   * @default LoggingExportNotifier
   */
  notifier?: ExportNotifierChoice;
  /**
   * Name of the host's TypeORM DataSource that holds the exportable entities and `data_exports`.
   * @default 'default'
   */
  dataSource?: string;
  /**
   * Providers added beside the options, for `forRootAsync()`'s factory to inject (a secret
   * reader, say) without a module of their own.
   * @example
   * ExportModule.forRootAsync({
   *   extraProviders: [SecretsReader],
   *   inject: [SecretsReader],
   *   useFactory: async (secrets: SecretsReader) => ({ secret: await secrets.read('export') }),
   * })
   */
  extraProviders?: Provider[];
}
