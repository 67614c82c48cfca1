import { Inject, Injectable, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { DataSource } from 'typeorm';
import { ARCHIVE_TYPES } from '../archive/archive-formats';
import { ExportClock } from '../common/export.clock';
import { ExportStatus } from '../common/export-status.enum';
import {
  ExportInstantDisabledException,
  ExportInstantRateLimitedException,
  ExportTooLargeForInstantException,
  ExportInvalidRequestException,
} from '../common/export.exception';
import { EXPORT_DATA_SOURCE, EXPORT_RESOLVED_OPTIONS } from '../common/export.internal-constants';
import { DataExport } from '../entities/data-export.entity';
import type { ExportEstimate } from '../interfaces/export-estimate.interface';
import type { ExportPrincipal, ExportSubject } from '../interfaces/export-principal.interface';
import type { RequestExportInput } from '../interfaces/request-export.interface';
import { ExportRegistry } from '../metadata/export.registry';
import type { ResolvedExportOptions } from '../options/export-module-options.interface';
import { ExportPolicy } from '../policy/export.policy';
import { streamInstantArchive } from '../queue/instant-archive.util';
import { InstantDownloadLimiter } from '../queue/instant-download.limiter';
import { ExportAudit } from '../lifecycle/export-audit';
import { safeName } from './export-downloads';
import { ExportEstimator } from './export-estimator';
import { assertPrincipal } from './principal.util';
import { validateRequestInput, validateRequestKind } from './request-input.util';

/**
 * An instant download: the archive, streamed as it is written. `stream` ends only when the
 * archive is whole; a failure destroys it (send it so that the client sees an error, never a
 * short file: the built-in endpoint aborts the response). @publicApi
 */
export interface ExportInstantDownload {
  /** A safe file name for `Content-Disposition`, as for a queued export's download. */
  fileName: string;
  contentType: string;
  /** The estimate the download was allowed by. */
  estimate: ExportEstimate;
  stream: Readable;
}

/**
 * Instant downloads of small accounts (the `instant` option): permission as for a request, then
 * the account's rate limit, then the estimate against `maxRows`, then the archive streamed.
 * @internal
 */
@Injectable()
export class ExportInstant {
  private readonly logger = new Logger('ExportService');

  constructor(
    @Inject(EXPORT_DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(EXPORT_RESOLVED_OPTIONS) private readonly options: ResolvedExportOptions,
    private readonly registry: ExportRegistry,
    private readonly policy: ExportPolicy,
    private readonly estimator: ExportEstimator,
    private readonly limiter: InstantDownloadLimiter,
    private readonly clock: ExportClock,
    private readonly audit: ExportAudit,
  ) {}

  async open(principal: ExportPrincipal | null | undefined, input: RequestExportInput): Promise<ExportInstantDownload> {
    const instant = this.options.instant;
    if (!instant) throw new ExportInstantDisabledException();
    assertPrincipal(this.policy, principal);
    if (validateRequestKind(input ?? {}).kind !== 'account') {
      throw new ExportInvalidRequestException('Instant downloads are account exports: request a personal export with POST /exports and { "kind": "personal" }.');
    }
    const { format, filters } = validateRequestInput(input ?? {}, this.registry.getCategoryNames());
    const wait = await this.limiter.take(principal.accountId, instant.cooldownMs);
    if (wait > 0) throw new ExportInstantRateLimitedException(wait);
    const subject: ExportSubject = { kind: 'account', accountId: principal.accountId, userId: principal.userId, requestedBy: principal.userId };
    const estimate = await this.estimator.estimate(subject, format, filters);
    const unknown = Object.values(estimate.categories).some((c) => c.rows === null);
    if (unknown || estimate.rows > instant.maxRows) throw new ExportTooLargeForInstantException(instant.maxRows, estimate);

    const now = this.clock.now();
    // What the archive says of itself; never stored.
    const exportRow = Object.assign(new DataExport(), {
      id: randomUUID(),
      accountId: subject.accountId,
      requestedBy: subject.userId,
      kind: 'account',
      subjectUserId: null,
      format,
      filters,
      status: ExportStatus.Processing,
      createdAt: now,
    });
    this.logger.log(`Instant download of account ${subject.accountId} started: about ${estimate.rows} rows, ${format}`);
    await this.audit.record('instant-downloaded', exportRow, { actor: subject.userId, detail: { format, rows: estimate.rows } });
    const { extension, contentType } = ARCHIVE_TYPES[format];
    const stream = streamInstantArchive({
      dataSource: this.dataSource,
      options: this.options,
      registry: this.registry,
      exportRow,
      subject,
      categories: this.estimator.categories(filters),
      logger: this.logger,
    });
    return { fileName: `data-export-${safeName(subject.accountId)}-${now.toISOString().slice(0, 10)}.${extension}`, contentType, estimate, stream };
  }
}
