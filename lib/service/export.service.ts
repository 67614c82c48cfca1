import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import type { Observable } from 'rxjs';
import { DataSource, FindOptionsWhere, Repository } from 'typeorm';
import { DataExportDownload } from '../entities/data-export-download.entity';
import { DataExportEvent } from '../entities/data-export-event.entity';
import { ExportClock } from '../common/export.clock';
import { DataExport } from '../entities/data-export.entity';
import { ExportStatus } from '../common/export-status.enum';
import { ExportNotFoundException } from '../common/export.exception';
import { EXPORT_DATA_SOURCE, EXPORT_RESOLVED_OPTIONS } from '../common/export.internal-constants';
import type { ResolvedExportOptions } from '../options/export-module-options.interface';
import { ExportPolicy } from '../policy/export.policy';
import { ExportProducer } from '../queue/export.producer';
import { ExportRegistry } from '../metadata/export.registry';
import { CANCELLABLE_STATUSES, ExportStore } from '../lifecycle/export.store';
import { ExportRegistryError } from '../common/export.error';
import { ExportMessages } from '../common/export.messages';
import type { ExportEligibility } from '../interfaces/export-eligibility.interface';
import type { ExportEvent } from '../interfaces/export-event.interface';
import { ExportEvents } from '../lifecycle/export-events';
import type { ExportKind, ExportPrincipal } from '../interfaces/export-principal.interface';
import type { ExportView } from '../interfaces/export-view.interface';
import { toExportView } from '../lifecycle/export-view.util';
import type { RequestExportInput } from '../interfaces/request-export.interface';
import { isExportId } from '../common/export-id.util';
import { ExportAccountState } from './export-account-state';
import { ExportDownloads } from './export-downloads';
import { validateRequestKind } from './request-input.util';
import { resolveRequest } from './request-subject.util';
import type { ExportDownload, ExportDownloadContext, ExportDownloadInfo, ExportRangeChooser } from './export-downloads';
import { assertMember, assertPrincipal, canManage } from './principal.util';
import type { ByteRange } from '../storage/export.storage';
import type { ExportEstimate } from '../interfaces/export-estimate.interface';
import { ExportEstimator } from './export-estimator';
import { ExportInstant, ExportInstantDownload } from './export-instant';
import { ExportConfirmationState, ExportRequestHow, ExportRequests } from './export-requests';

export type { ExportConfirmationState, ExportRequestHow } from './export-requests';

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
    private readonly events: ExportEvents,
    private readonly clock: ExportClock,
    private readonly accounts: ExportAccountState,
    private readonly exportDownloads: ExportDownloads,
    private readonly store: ExportStore,
    private readonly estimator: ExportEstimator,
    private readonly instantDownloads: ExportInstant,
    private readonly requests: ExportRequests,
  ) {}

  onModuleInit(): void {
    // The explorer checks DataExport; a host that lists it alone misses the downloads table.
    if (!this.dataSource.hasMetadata(DataExportDownload) || (this.options.audit && !this.dataSource.hasMetadata(DataExportEvent))) {
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
   * Requests an export: of the principal's account (`kind: 'account'`, the default; owners and
   * admins), or of the data about one member (`kind: 'personal'`): the principal themselves,
   * whatever their role, or with `userId` a member an owner or admin asks for on their behalf
   * (confirmed by `ExportPolicy.resolveSubject`). It is queued at once, or waits for email
   * confirmation (by the requester) when `confirmation.required` is set.
   * @throws ExportUnauthenticatedException, ExportForbiddenException (a role that may not, or
   *   exports on behalf refused by the policy), ExportNotFoundException (`userId` is not a member),
   *   ExportEmailRequiredException (confirmation on, no email on the principal),
   *   ExportInvalidRequestException, ExportAlreadyActiveException, ExportCooldownException,
   *   ExportQueueUnavailableException
   */
  request(principal: ExportPrincipal | null | undefined, input: RequestExportInput = {}, how: ExportRequestHow = {}): Promise<ExportView> {
    return this.requests.request(principal, input, how);
  }

  /**
   * What a confirmation link's page shows, read without changing anything (mail scanners open
   * links): `confirm` while the export awaits confirmation, `confirmed` while it is prepared,
   * `completed` once ready, `unavailable` for an ended export or a link that is not valid.
   */
  confirmationState(id: string, token: unknown): Promise<ExportConfirmationState> {
    return this.requests.confirmationState(id, token);
  }

  /**
   * Confirms a pending export with the token from its confirmation link, and queues it.
   * Confirming twice is harmless.
   * @throws ExportLinkInvalidException, ExportLinkExpiredException (the export then expires),
   *   ExportNotFoundException, ExportQueueUnavailableException
   */
  confirm(id: string, token: unknown): Promise<ExportView> {
    return this.requests.confirm(id, token);
  }

  /**
   * Whether the principal may request an export now, and if not why (the code `request()` would
   * refuse with) and from when. Asks the policy as `request()` does, so a host's policy is
   * followed; a lapsed export holding the slot is expired on the way, as a request would.
   * `kind: 'personal'` asks about a personal export of the principal's own data.
   * @throws ExportUnauthenticatedException without a (valid) principal, ExportInvalidRequestException (unknown kind)
   */
  eligibility(principal: ExportPrincipal | null | undefined, kind: ExportKind | string = 'account'): Promise<ExportEligibility> {
    return this.accounts.eligibility(principal, validateRequestKind({ kind }).kind);
  }

  /**
   * How big an export with this input would be, before it is requested: rows per category and
   * the approximate size of the archive, from index counts or the database planner's estimates,
   * never by reading the rows (see `ExportEstimate`). Takes what `request()` takes.
   * @throws ExportUnauthenticatedException, ExportForbiddenException, ExportInvalidRequestException
   */
  async estimate(principal: ExportPrincipal | null | undefined, input: RequestExportInput = {}): Promise<ExportEstimate> {
    const { subject, format, filters } = await resolveRequest(this.policy, this.registry, principal, input);
    return this.estimator.estimate(subject, format, filters);
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

  /**
   * One export the principal may see, with a fresh download link when it is ready: an account
   * export (owners and admins), or a personal export about them or that they asked for on a
   * member's behalf. Another member's personal export does not exist for them (404).
   */
  async get(principal: ExportPrincipal | null | undefined, id: string): Promise<ExportView> {
    assertMember(this.policy, principal);
    const row = await this.findOwned(principal, id);
    return this.exportDownloads.view(row);
  }

  /**
   * The exports the principal may see, newest first: their own personal exports (about them, or
   * asked for by them on a member's behalf) and, for owners and admins, the account's exports.
   */
  async list(principal: ExportPrincipal | null | undefined, limit = 50): Promise<ExportView[]> {
    assertMember(this.policy, principal);
    const { accountId, userId } = principal;
    const where: FindOptionsWhere<DataExport>[] = [
      { accountId, kind: 'personal', subjectUserId: userId },
      { accountId, kind: 'personal', requestedBy: userId },
    ];
    if (canManage(this.policy, principal)) where.push({ accountId, kind: 'account' });
    const rows = await this.repo.find({
      where,
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
    assertMember(this.policy, principal);
    const row = await this.findOwned(principal, id);
    const now = this.clock.now();
    if (CANCELLABLE_STATUSES.includes(row.status)) {
      if (await this.store.cancel(row, { actor: principal.userId })) await this.producer.removeWaiting(id);
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

  /**
   * @internal The stored row, if the principal may see it: of their account; an account export
   * only for a principal that may manage exports (403 otherwise, as before personal exports); a
   * personal one only for its member or whoever asked for it (404 for anyone else).
   */
  async findOwned(who: ExportPrincipal, id: string): Promise<DataExport> {
    const row = isExportId(id) ? await this.repo.findOneBy({ id, accountId: who.accountId }) : null;
    if (!row) throw new ExportNotFoundException();
    if (row.kind === 'personal') {
      if (row.subjectUserId !== who.userId && row.requestedBy !== who.userId) throw new ExportNotFoundException();
    } else {
      this.assertPrincipal(who);
    }
    return row;
  }
}
