import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { Observable } from 'rxjs';
import { DataSource, Repository } from 'typeorm';
import { DataExportDownload } from '../entities/data-export-download.entity';
import { ExportClock } from '../common/export.clock';
import { DataExport } from '../entities/data-export.entity';
import { ExportStatus } from '../common/export-status.enum';
import {
  ExportAlreadyActiveException,
  ExportEmailRequiredException,
  ExportLinkExpiredException,
  ExportNotFoundException,
} from '../common/export.exception';
import { EXPORT_DATA_SOURCE, EXPORT_RESOLVED_OPTIONS } from '../common/export.internal-constants';
import { ExportLinkSigner } from '../crypto/export-link.signer';
import { ExportNotifier } from '../notifier/export.notifier';
import type { ResolvedExportOptions } from '../options/export-module-options.interface';
import { ExportPolicy } from '../policy/export.policy';
import { ExportProducer } from '../queue/export.producer';
import { ExportRegistry } from '../metadata/export.registry';
import { notifySafely } from '../common/notify-safely.util';
import { CANCELLABLE_STATUSES, ExportStore } from '../lifecycle/export.store';
import { ExportRegistryError } from '../common/export.error';
import { ExportMessages } from '../common/export.messages';
import type { ExportEligibility } from '../interfaces/export-eligibility.interface';
import type { ExportEvent } from '../interfaces/export-event.interface';
import { ExportEvents } from '../lifecycle/export-events';
import type { ExportPrincipal } from '../interfaces/export-principal.interface';
import type { ExportView } from '../interfaces/export-view.interface';
import { requesterOf, toExportView } from '../lifecycle/export-view.util';
import type { RequestExportInput } from '../interfaces/request-export.interface';
import { isExportId } from '../common/export-id.util';
import { ExportAccountState } from './export-account-state';
import { ExportDownloads } from './export-downloads';
import { validateRequestInput } from './request-input.util';
import type { ExportDownload, ExportDownloadContext, ExportDownloadInfo, ExportRangeChooser } from './export-downloads';
import { assertPrincipal } from './principal.util';
import type { ByteRange } from '../storage/export.storage';
import type { ExportEstimate } from '../interfaces/export-estimate.interface';
import { ExportEstimator } from './export-estimator';
import { ExportInstant, ExportInstantDownload } from './export-instant';

/** What the boot warns about when email confirmation is on. */
const CONFIRMATION_NEEDS_EMAIL =
  'Email confirmation is on (confirmation.required): a request whose principal has no email is refused with 422 EXPORT_EMAIL_REQUIRED. Make your principal resolver return the user\'s email.';

/**
 * The export API for code: request, confirm, read, list, cancel and download an account's
 * exports. Every rule is enforced here, whatever calls it (the built-in endpoints, a GraphQL
 * resolver, a CLI).
 * @publicApi
 */
@Injectable()
export class ExportService implements OnModuleInit {
  private readonly logger = new Logger('ExportService');

  constructor(
    @Inject(EXPORT_DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(EXPORT_RESOLVED_OPTIONS) private readonly options: ResolvedExportOptions,
    private readonly registry: ExportRegistry,
    private readonly producer: ExportProducer,
    private readonly policy: ExportPolicy,
    private readonly links: ExportLinkSigner,
    private readonly notifier: ExportNotifier,
    private readonly events: ExportEvents,
    private readonly clock: ExportClock,
    private readonly accounts: ExportAccountState,
    private readonly exportDownloads: ExportDownloads,
    private readonly store: ExportStore,
    private readonly estimator: ExportEstimator,
    private readonly instantDownloads: ExportInstant,
  ) {}

  onModuleInit(): void {
    // The explorer checks DataExport; a host that lists it alone misses the downloads table.
    if (!this.dataSource.hasMetadata(DataExportDownload)) {
      throw new ExportRegistryError(ExportMessages.missingDataExportEntity());
    }
    if (this.options.confirmation.required) new Logger('ExportModule').warn(CONFIRMATION_NEEDS_EMAIL);
  }

  /** Lifecycle and progress events of every export, from every process. */
  get events$(): Observable<ExportEvent> {
    return this.events.events$;
  }

  private get repo(): Repository<DataExport> {
    return this.dataSource.getRepository(DataExport);
  }

  /**
   * Requests an export of the principal's account. It is queued at once, or waits for email
   * confirmation when `confirmation.required` is set.
   * @throws ExportUnauthenticatedException, ExportForbiddenException, ExportEmailRequiredException
   *   (confirmation on, no email on the principal), ExportInvalidRequestException,
   *   ExportAlreadyActiveException, ExportCooldownException, ExportQueueUnavailableException
   */
  async request(principal: ExportPrincipal | null | undefined, input: RequestExportInput = {}): Promise<ExportView> {
    this.assertPrincipal(principal);
    if (this.accounts.lacksConfirmationEmail(principal)) throw new ExportEmailRequiredException();
    const { format, filters } = validateRequestInput(input ?? {}, this.registry.getCategoryNames());
    const now = this.clock.now();
    const accountId = principal.accountId;

    const holder = await this.accounts.activeHolder(accountId, now);
    if (holder) throw new ExportAlreadyActiveException(holder.id);
    await this.policy.assertCanRequest(principal, { now, lastCompleted: await this.accounts.lastCompleted(accountId) });

    const confirmed = !this.options.confirmation.required;
    const row = this.repo.create({
      id: randomUUID(),
      accountId,
      requestedBy: principal.userId,
      requesterEmail: typeof principal.email === 'string' && principal.email.length <= 320 ? principal.email : null,
      status: confirmed ? ExportStatus.Confirmed : ExportStatus.Pending,
      format,
      filters,
      activeSlot: accountId,
      rowsDone: 0,
      rowsEstimated: null,
      percent: 0,
      attempts: 0,
      downloadCount: 0,
      createdAt: now,
      confirmedAt: confirmed ? now : null,
    });
    // Race-safe: of concurrent requests for one account, the unique slot lets one insert through.
    await this.store.request(row);
    if (confirmed) {
      await this.enqueueOrRelease(row);
    } else {
      await notifySafely(this.logger, () => this.notifier.confirmationRequested(toExportView(row), this.links.confirmationUrl(row), requesterOf(row)));
    }
    return toExportView(row);
  }

  /**
   * Confirms a pending export with the token from its confirmation link, and queues it.
   * Confirming twice is harmless.
   * @throws ExportLinkInvalidException, ExportLinkExpiredException (the export then expires),
   *   ExportNotFoundException, ExportQueueUnavailableException
   */
  async confirm(id: string, token: unknown): Promise<ExportView> {
    try {
      this.links.verify(String(id), 'confirm', token);
    } catch (err) {
      if (err instanceof ExportLinkExpiredException) {
        await this.store.expireUnconfirmed(String(id));
      }
      throw err;
    }
    const row = await this.repo.findOneBy({ id });
    if (!row) throw new ExportNotFoundException();
    if (row.status === ExportStatus.Pending) {
      const now = this.clock.now();
      if (await this.store.confirm(row, now)) {
        Object.assign(row, { status: ExportStatus.Confirmed, confirmedAt: now });
        await this.enqueueOrRelease(row);
        return toExportView(row);
      }
      return toExportView(await this.repo.findOneByOrFail({ id }));
    }
    if ([ExportStatus.Expired, ExportStatus.Cancelled, ExportStatus.Failed].includes(row.status)) {
      throw new ExportLinkExpiredException('This export is no longer available. Request a new export.');
    }
    return toExportView(row);
  }

  /**
   * Whether the principal may request an export now, and if not why (the code `request()` would
   * refuse with) and from when. Asks the policy as `request()` does, so a host's policy is
   * followed; a lapsed export holding the slot is expired on the way, as a request would.
   * @throws ExportUnauthenticatedException without a (valid) principal
   */
  eligibility(principal: ExportPrincipal | null | undefined): Promise<ExportEligibility> {
    return this.accounts.eligibility(principal);
  }

  /**
   * How big an export with this input would be, before it is requested: rows per category and
   * the approximate size of the archive, from index counts or the database planner's estimates,
   * never by reading the rows (see `ExportEstimate`). Takes what `request()` takes.
   * @throws ExportUnauthenticatedException, ExportForbiddenException, ExportInvalidRequestException
   */
  async estimate(principal: ExportPrincipal | null | undefined, input: RequestExportInput = {}): Promise<ExportEstimate> {
    this.assertPrincipal(principal);
    const { format, filters } = validateRequestInput(input ?? {}, this.registry.getCategoryNames());
    return this.estimator.estimate({ accountId: principal.accountId, userId: principal.userId }, format, filters);
  }

  /**
   * An instant download (the `instant` option): the archive of a small account, streamed as it
   * is written, with no job and no file at rest. Takes what `request()` takes. Checks the
   * principal as `request()` does, then the account's instant cooldown, then the estimate
   * against `instant.maxRows`.
   * @throws ExportInstantDisabledException (no `instant` option), ExportUnauthenticatedException,
   *   ExportForbiddenException, ExportInvalidRequestException, ExportInstantRateLimitedException,
   *   ExportTooLargeForInstantException (with the estimate), ExportQueueUnavailableException
   *   (Redis, which holds the rate limit, does not answer)
   */
  instant(principal: ExportPrincipal | null | undefined, input: RequestExportInput = {}): Promise<ExportInstantDownload> {
    return this.instantDownloads.open(principal, input);
  }

  /** One export of the principal's account, with a fresh download link when it is ready. */
  async get(principal: ExportPrincipal | null | undefined, id: string): Promise<ExportView> {
    this.assertPrincipal(principal);
    const row = await this.findOwned(principal, id);
    return this.exportDownloads.view(row);
  }

  /** The account's exports, newest first. */
  async list(principal: ExportPrincipal | null | undefined, limit = 50): Promise<ExportView[]> {
    this.assertPrincipal(principal);
    const rows = await this.repo.find({
      where: { accountId: principal.accountId },
      order: { createdAt: 'DESC' },
      take: Math.min(Math.max(1, limit), 200),
    });
    return Promise.all(rows.map(async (row) => this.exportDownloads.view(row)));
  }

  /**
   * Cancels a pending, confirmed or processing export (a running job stops at its next batch),
   * or deletes a completed one early (its file is removed; it becomes `expired` with reason
   * `deleted`, `deletedAt` and `deletedBy`). Other states are left as they are.
   */
  async cancel(principal: ExportPrincipal | null | undefined, id: string): Promise<ExportView> {
    this.assertPrincipal(principal);
    const row = await this.findOwned(principal, id);
    const now = this.clock.now();
    if (CANCELLABLE_STATUSES.includes(row.status)) {
      if (await this.store.cancel(row)) await this.producer.removeWaiting(id);
    } else if (row.status === ExportStatus.Completed) {
      if (await this.store.deleteEarly(row, principal.userId, now)) await this.accounts.deleteFile(row);
    } else {
      return toExportView(row, await this.exportDownloads.records(row));
    }
    const updated = await this.repo.findOneByOrFail({ id });
    this.events.emit('status', updated);
    return toExportView(updated, await this.exportDownloads.records(updated));
  }

  /**
   * Checks a download link and describes the archive it opens, without opening it (HTTP HEAD).
   * A `principal` in `context` must be of the export's account with a role that may manage
   * exports; without one, the link alone opens it unless `downloadRequiresPrincipal` is set.
   * @throws ExportLinkInvalidException, ExportUnauthenticatedException (no principal where one is
   *   required), ExportForbiddenException (another account's principal, or a role not allowed),
   *   ExportLinkExpiredException, ExportNotFoundException, ExportNotReadyException,
   *   ExportDownloadLimitException (`maxDownloads` reached), ExportArchiveMissingException (the
   *   stored file is gone or cut: the export then expires)
   */
  describeDownload(id: string, token: unknown, context: ExportDownloadContext = {}): Promise<ExportDownloadInfo> {
    return this.exportDownloads.describe(id, token, context);
  }

  /**
   * Opens a completed export for download, in one call: one token check, one read of the export.
   * `range` is a range, or a function choosing one from the archive's size and sha256 (HTTP
   * `Range` and `If-Range`). Counts the download against `maxDownloads` and records it with its
   * time and `context.ip`.
   * @throws what `describeDownload` throws, and ExportRangeNotSatisfiableException (416)
   */
  openDownload(id: string, token: unknown, range?: ByteRange | ExportRangeChooser, context: ExportDownloadContext = {}): Promise<ExportDownload> {
    return this.exportDownloads.open(id, token, range, context);
  }

  private assertPrincipal(principal: ExportPrincipal | null | undefined): asserts principal is ExportPrincipal {
    assertPrincipal(this.policy, principal);
  }

  /** @internal The stored row, scoped to the principal's account. */
  async findOwned(who: ExportPrincipal, id: string): Promise<DataExport> {
    const row = isExportId(id) ? await this.repo.findOneBy({ id, accountId: who.accountId }) : null;
    if (!row) throw new ExportNotFoundException();
    return row;
  }

  private async enqueueOrRelease(row: DataExport): Promise<void> {
    try {
      await this.producer.enqueue(row.id);
    } catch (err) {
      await this.store.failUnqueued(row, 'The job queue was unavailable.');
      throw err;
    }
  }
}
