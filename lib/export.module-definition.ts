import { ConfigurableModuleBuilder, Provider } from '@nestjs/common';
import type { ExportModuleExtras, ExportModuleOptions } from './options/export-module-options.interface';

/** Extras' defaults: switches that shape the module graph. */
export const DEFAULT_EXPORT_EXTRAS = {
  isGlobal: false,
  worker: true,
  http: true,
  path: 'exports',
  dataSource: 'default',
} as const;

/** The extras with their defaults, as `ExportModule` assembles itself from them. @internal */
export type ResolvedExportExtras = { -readonly [K in keyof typeof DEFAULT_EXPORT_EXTRAS]: (typeof DEFAULT_EXPORT_EXTRAS)[K] extends boolean ? boolean : string } &
  Pick<ExportModuleExtras, 'policy' | 'notifier'> & { extraProviders: Provider[] };

/**
 * Every extras key, so that the builder keeps them out of the module options. Their defaults are
 * applied once, where `ExportModule` assembles itself.
 */
const EXTRAS_KEYS: Record<keyof Required<ExportModuleExtras>, undefined> = {
  isGlobal: undefined,
  worker: undefined,
  http: undefined,
  path: undefined,
  policy: undefined,
  notifier: undefined,
  dataSource: undefined,
  extraProviders: undefined,
};

/** @internal */
export const {
  ConfigurableModuleClass,
  MODULE_OPTIONS_TOKEN: EXPORT_MODULE_OPTIONS,
  OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<ExportModuleOptions>({ moduleName: 'DataExport' })
  .setClassMethodName('forRoot')
  .setFactoryMethodName('createExportOptions')
  .setExtras<ExportModuleExtras>(EXTRAS_KEYS, (definition) => definition)
  .build();

/** The options `ExportModule.forRootAsync()` takes. @publicApi */
export type ExportModuleAsyncOptions = typeof ASYNC_OPTIONS_TYPE;
