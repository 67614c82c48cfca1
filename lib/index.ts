export { ExportModule } from './export.module';
export { EXPORT_MODULE_OPTIONS } from './export.module-definition';
export { EXPORT_QUEUE, EXPORT_JOB, EXPORT_SWEEP_JOB, EXPORT_FORMAT_VERSION } from './export.constants';
export type { ExportModuleOptions, ExportModuleExtras, ExportRedisOptions } from './options/export-module-options.interface';
export { DEFAULT_EXPORT_OPTIONS } from './options/export-options.defaults';
export type { Duration } from './utils/duration.util';

export { Exportable } from './decorators/exportable.decorator';
export type { ExportableOptions, ExportScopeFn } from './decorators/exportable.decorator';
export { Redact, ExportField } from './decorators/redact.decorator';
export type { RedactOptions, RedactFn, ExportFieldOptions } from './decorators/redact.decorator';

export { ExportRegistry } from './registry/export.registry';
export type { ExportCategory, ExportFieldPlan } from './registry/export-category.interface';

export { DataExport, DATA_EXPORT_ENTITIES } from './entities/data-export.entity';
export { DataExportDownload } from './entities/data-export-download.entity';
export type { ExportFilters } from './entities/data-export.entity';
export { CreateDataExports1764000000000 } from './migrations/1764000000000-create-data-exports';
export { AddExportDownloadsAndDeletion1766000000000 } from './migrations/1766000000000-add-export-downloads-and-deletion';
export { DATA_EXPORT_MIGRATIONS } from './migrations/data-export.migrations';
export { ExportStatus, ExportFormat, EXPORT_FORMATS } from './enums/export-status.enum';

export { ExportService } from './service/export.service';
export type { ExportDownload, ExportDownloadInfo, ExportDownloadContext, ExportRangeChooser } from './service/export-downloads';
export type { ExportEligibility, ExportIneligibleReason } from './service/export-eligibility.interface';
export type { ExportEvent } from './service/export-event.interface';
export { ExportPolicy } from './policy/export.policy';
export type { ExportRequestContext } from './policy/export.policy';
export { DefaultExportPolicy } from './policy/default-export.policy';
export { ExportNotifier, LoggingExportNotifier } from './notifier/export.notifier';
export type { ExportRequester } from './notifier/export.notifier';
export { ExportSweeper } from './queue/export.sweeper';
export type { ExportSweepResult } from './queue/export.sweeper';
export type { ExportLinkPurpose } from './links/export-link.signer';
export type { ExportPrincipal, ExportSubject } from './service/export-principal.interface';
export type { ExportView, ExportEndReason, ExportDownloadRecord } from './service/export-view.interface';
export type { RequestExportInput } from './service/request-export.interface';
export { ExportProducer } from './queue/export.producer';
export { ExportClock } from './clock/export.clock';

export { ExportStorage } from './storage/export.storage';
export type { ExportStorageStat, ByteRange } from './storage/export.storage';
export { LocalDiskStorage } from './storage/local-disk.storage';

export { ExportError, InvalidExportOptionsError, ExportRegistryError, ExportProcessingError } from './errors/export.error';
export {
  ExportException,
  ExportInvalidRequestException,
  ExportUnauthenticatedException,
  ExportForbiddenException,
  ExportLinkInvalidException,
  ExportNotFoundException,
  ExportAlreadyActiveException,
  ExportNotReadyException,
  ExportLinkExpiredException,
  ExportCooldownException,
  ExportQueueUnavailableException,
  ExportArchiveMissingException,
  ExportUnsupportedMediaTypeException,
  ExportDownloadLimitException,
  ExportRangeNotSatisfiableException,
  ExportEmailRequiredException,
} from './exceptions/export.exception';
export type { ExportErrorCode } from './exceptions/export.exception';
