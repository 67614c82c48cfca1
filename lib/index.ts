export { ExportModule } from './export.module';
export { EXPORT_MODULE_OPTIONS } from './export.module-definition';
export { EXPORT_QUEUE, EXPORT_FORMAT_VERSION } from './common/export.constants';
export type { ExportModuleOptions, ExportModuleExtras, ExportNotifierChoice, ExportConfirmationOptions, ExportConfirmationPage, ExportConfirmationPageState, ExportRedisOptions, ExportOptionsFactory, ExportCoverageOptions, ExportCsvOptions, ExportInstantOptions, ExportAuditOptions } from './options/export-module-options.interface';
export type { ExportAbout, ExportNotIncluded } from './interfaces/export-about.interface';
export type { ExportModuleAsyncOptions } from './export.module-definition';
export { DEFAULT_EXPORT_OPTIONS } from './options/export-options.defaults';
export type { Duration } from './common/duration.util';
export type { ExportSigningOptions } from './options/export-module-options.interface';
export { verifyExportArchive } from './cli/archive.verifier';
export type { ExportArchiveVerdict, VerifyExportArchiveOptions } from './cli/archive.verifier';
export type { ManifestSignatureInfo } from './archive/manifest-signature.util';

export { Exportable, ExportExcluded } from './metadata/exportable.decorator';
export type { ExportableOptions, ExportScopeFn, ExportExcludedOptions } from './metadata/exportable.decorator';
export { Redact, ExportField } from './metadata/redact.decorator';
export { ExportFile } from './metadata/export-file.decorator';
export type {
  ExportFileOptions,
  ExportFileResolver,
  ExportFileContext,
  ExportFileSource,
  ExportFileStream,
  ExportFileUrl,
} from './metadata/export-file.decorator';
export type { ExportAttachmentEntry, ExportMissingAttachment } from './archive/attachments.writer';
export { Exporter } from './metadata/exporter.decorator';
export type { CategoryExporter, ExporterOptions, ExporterFilters } from './metadata/exporter.decorator';
export type { RedactOptions, RedactFn, ExportFieldOptions } from './metadata/redact.decorator';

export { ExportRegistry } from './metadata/export.registry';
export type { ExportCategory, ExportFieldInfo } from './metadata/export-category.interface';

export { DataExport, DATA_EXPORT_ENTITIES } from './entities/data-export.entity';
export { DataExportDownload } from './entities/data-export-download.entity';
export { DataExportEvent } from './entities/data-export-event.entity';
export type { ExportAuditType } from './entities/data-export-event.entity';
export type { ExportFilters } from './entities/data-export.entity';
export { CreateDataExports1764000000000 } from './migrations/1764000000000-create-data-exports';
export { AddExportDownloadsAndDeletion1766000000000 } from './migrations/1766000000000-add-export-downloads-and-deletion';
export { AddPersonalExports1768000000000 } from './migrations/1768000000000-add-personal-exports';
export { AddExportEvents1770000000000 } from './migrations/1770000000000-add-export-events';
export { DATA_EXPORT_MIGRATIONS } from './migrations/data-export.migrations';
export { ExportStatus, ExportFormat, EXPORT_FORMATS } from './common/export-status.enum';

export { ExportService } from './service/export.service';
export { ExportAdminService } from './admin/export-admin.service';
export type { ExportActor, ExportAdminListQuery, ExportAdminItem, ExportAdminPage, ExportAdminRequestInput, ExportAuditRecord } from './admin/export-admin.interface';
export type { ExportDownload, ExportDownloadInfo, ExportDownloadContext, ExportRangeChooser } from './service/export-downloads';
export type { ExportEligibility, ExportIneligibleReason } from './interfaces/export-eligibility.interface';
export type { ExportEstimate, ExportCategoryEstimate } from './interfaces/export-estimate.interface';
export type { ExportInstantDownload } from './service/export-instant';
export type { ExportEvent } from './interfaces/export-event.interface';
export { ExportPolicy } from './policy/export.policy';
export type { ExportRequestContext } from './policy/export.policy';
export { DefaultExportPolicy } from './policy/default-export.policy';
export type { DefaultExportPolicySettings } from './policy/default-export.policy';
export { ExportNotifier, LoggingExportNotifier } from './notifier/export.notifier';
export type { ExportRequester } from './notifier/export.notifier';
export { ExportSweeper } from './queue/export.sweeper';
export type { ExportSweepResult } from './queue/export.sweeper';
export type { ExportLinkPurpose } from './crypto/export-link.signer';
export type { ExportKind, ExportPrincipal, ExportSubject, ExportSubjectUser } from './interfaces/export-principal.interface';
export { EXPORT_KINDS } from './interfaces/export-principal.interface';
export type { ExportView, ExportEndReason, ExportDownloadRecord } from './interfaces/export-view.interface';
export type { RequestExportInput } from './interfaces/request-export.interface';
export { ExportClock } from './common/export.clock';

export { ExportStorage } from './storage/export.storage';
export type { ExportStorageStat, ByteRange } from './storage/export.storage';
export { LocalDiskStorage } from './storage/local-disk.storage';

export { ExportError, InvalidExportOptionsError, ExportRegistryError, ExportProcessingError } from './common/export.error';
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
  ExportInstantDisabledException,
  ExportTooLargeForInstantException,
  ExportInstantRateLimitedException,
  ExportQueueUnavailableException,
  ExportArchiveMissingException,
  ExportUnsupportedMediaTypeException,
  ExportDownloadLimitException,
  ExportRangeNotSatisfiableException,
  ExportEmailRequiredException,
} from './common/export.exception';
export type { ExportErrorCode } from './common/export.exception';
