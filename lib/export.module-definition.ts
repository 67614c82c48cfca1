import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { ExportModuleExtras, ExportModuleOptions } from './options/export-module-options.interface';

/** Extras' defaults: switches that shape the module graph. */
export const DEFAULT_EXPORT_EXTRAS = {
  isGlobal: false,
  worker: true,
  http: true,
  path: 'exports',
  dataSource: 'default',
} as const;

/** @internal */
export const {
  ConfigurableModuleClass,
  MODULE_OPTIONS_TOKEN: EXPORT_MODULE_OPTIONS,
  OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<ExportModuleOptions>({ moduleName: 'DataExport' })
  .setClassMethodName('forRoot')
  .setFactoryMethodName('createExportOptions')
  .setExtras<ExportModuleExtras>({ ...DEFAULT_EXPORT_EXTRAS }, (definition) => definition)
  .build();
