import { Inject, Injectable, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DataSource, Repository } from 'typeorm';
import { ExportClock } from '../common/export.clock';
import { ExportStatus } from '../common/export-status.enum';
import { ExportAlreadyActiveException, ExportEmailRequiredException, ExportLinkExpiredException, ExportNotFoundException } from '../common/export.exception';
import { EXPORT_DATA_SOURCE, EXPORT_RESOLVED_OPTIONS } from '../common/export.internal-constants';
import { notifySafely } from '../common/notify-safely.util';
import { ExportLinkSigner } from '../crypto/export-link.signer';
import { DataExport } from '../entities/data-export.entity';
import type { ExportPrincipal } from '../interfaces/export-principal.interface';
import type { ExportView } from '../interfaces/export-view.interface';
import type { RequestExportInput } from '../interfaces/request-export.interface';
import type { ExportAuditNote } from '../lifecycle/export-audit';
import { exportSlot } from '../lifecycle/export-slot.util';
import { ExportStore } from '../lifecycle/export.store';
import { requesterOf, toExportView } from '../lifecycle/export-view.util';
import { ExportRegistry } from '../metadata/export.registry';
import { ExportNotifier } from '../notifier/export.notifier';
import type { ResolvedExportOptions } from '../options/export-module-options.interface';
import { ExportPolicy } from '../policy/export.policy';
import { ExportProducer } from '../queue/export.producer';
import { ExportAccountState } from './export-account-state';
import { resolveRequest } from './request-subject.util';

/** An address that fits its column, or none. */
function fitEmail(email: unknown): string | null {
  return typeof email === 'string' && email.length <= 320 ? email : null;
}

/** How a request is made, for the admin service: the policy's rules overridden, the audit record it writes. @internal */
export interface ExportRequestHow {
  override?: boolean;
  note?: ExportAuditNote;
}

/** What a confirmation link's page shows (see `ExportService.confirmationState`). @internal */
export type ExportConfirmationState = 'confirm' | 'confirmed' | 'completed' | 'unavailable';

/**
 * How an export comes to be: the request (who may ask for what, the slot, the policy, the row)
 * and its confirmation, each ending with the job queued or the slot freed. `ExportService`
 * delegates to it. @internal
 */
@Injectable()
export class ExportRequests {
  private readonly logger = new Logger('ExportService');

  constructor(
    @Inject(EXPORT_DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(EXPORT_RESOLVED_OPTIONS) private readonly options: ResolvedExportOptions,
    private readonly registry: ExportRegistry,
    private readonly producer: ExportProducer,
    private readonly policy: ExportPolicy,
    private readonly links: ExportLinkSigner,
    private readonly notifier: ExportNotifier,
    private readonly clock: ExportClock,
    private readonly accounts: ExportAccountState,
    private readonly store: ExportStore,
  ) {}

  private get repo(): Repository<DataExport> {
    return this.dataSource.getRepository(DataExport);
  }

  async request(principal: ExportPrincipal | null | undefined, input: RequestExportInput, how: ExportRequestHow): Promise<ExportView> {
    const { kind, member: subject, format, filters } = await resolveRequest(this.policy, this.registry, principal, input);
    const who = principal as ExportPrincipal;
    if (this.accounts.lacksConfirmationEmail(who)) throw new ExportEmailRequiredException();
    const now = this.clock.now();
    const accountId = who.accountId;
    const subjectUserId = subject?.userId ?? null;
    const slot = exportSlot(accountId, kind, subjectUserId);

    const holder = await this.accounts.activeHolder(slot, now);
    if (holder) throw new ExportAlreadyActiveException(holder.id);
    // An operator's override (ExportAdminService.requestFor) skips the policy's request rules
    // (cooldown, custom refusals); who may be exported, and the slot, still hold.
    if (!how.override) await this.policy.assertCanRequest(who, {
      now,
      lastCompleted: await this.accounts.lastCompleted(accountId, kind, subjectUserId),
      kind,
      ...(subjectUserId ? { subjectUserId } : {}),
    });

    const confirmed = !this.options.confirmation.required;
    const row = this.repo.create({
      id: randomUUID(),
      accountId,
      requestedBy: who.userId,
      requesterEmail: fitEmail(who.email),
      kind,
      subjectUserId,
      subjectEmail: subject ? fitEmail(subject.email) : null,
      status: confirmed ? ExportStatus.Confirmed : ExportStatus.Pending,
      format,
      filters,
      activeSlot: slot,
      rowsDone: 0,
      rowsEstimated: null,
      percent: 0,
      attempts: 0,
      downloadCount: 0,
      createdAt: now,
      confirmedAt: confirmed ? now : null,
    });
    // Race-safe: of concurrent requests for one slot, the unique index lets one insert through.
    await this.store.request(row, how.note);
    if (confirmed) {
      await this.enqueueOrRelease(row);
    } else {
      await notifySafely(this.logger, () => this.notifier.confirmationRequested(toExportView(row), this.links.confirmationUrl(row), requesterOf(row)));
    }
    return toExportView(row);
  }

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

  async confirmationState(id: string, token: unknown): Promise<ExportConfirmationState> {
    try {
      this.links.verify(String(id), 'confirm', token);
    } catch {
      return 'unavailable';
    }
    const row = await this.repo.findOneBy({ id });
    return row ? confirmationStateOf(row.status) : 'unavailable';
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

/** The confirmation page's state for an export's status. @internal */
export function confirmationStateOf(status: ExportStatus): ExportConfirmationState {
  if (status === ExportStatus.Pending) return 'confirm';
  if (status === ExportStatus.Completed) return 'completed';
  if (status === ExportStatus.Confirmed || status === ExportStatus.Processing) return 'confirmed';
  return 'unavailable';
}
