import { Inject, Injectable } from '@nestjs/common';
import { DataSource, FindOptionsWhere, IsNull, Not, Repository } from 'typeorm';
import { ExportClock } from '../common/export.clock';
import { ExportStatus } from '../common/export-status.enum';
import { ExportCooldownException, ExportForbiddenException } from '../common/export.exception';
import { EXPORT_DATA_SOURCE, EXPORT_RESOLVED_OPTIONS } from '../common/export.internal-constants';
import { DataExport } from '../entities/data-export.entity';
import type { ExportEligibility, ExportIneligibleReason } from '../interfaces/export-eligibility.interface';
import type { ExportKind, ExportPrincipal } from '../interfaces/export-principal.interface';
import { exportSlot } from '../lifecycle/export-slot.util';
import { ExportStore } from '../lifecycle/export.store';
import type { ResolvedExportOptions } from '../options/export-module-options.interface';
import { ExportPolicy, ExportRequestContext } from '../policy/export.policy';
import { ArchiveStore } from '../storage/archive.store';
import { assertMember, assertPrincipal } from './principal.util';

/**
 * What an account's exports allow now: the export holding its slot (a lapsed holder is expired
 * on the way), its last completed export, and whether a request may start, as `request()` and
 * `eligibility()` of `ExportService` see it.
 * @internal
 */
@Injectable()
export class ExportAccountState {
  constructor(
    @Inject(EXPORT_DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(EXPORT_RESOLVED_OPTIONS) private readonly options: ResolvedExportOptions,
    private readonly policy: ExportPolicy,
    private readonly clock: ExportClock,
    private readonly archives: ArchiveStore,
    private readonly store: ExportStore,
  ) {}

  private get repo(): Repository<DataExport> {
    return this.dataSource.getRepository(DataExport);
  }

  /**
   * Whether the principal may request an export now, and if not why (the code `request()` would
   * refuse with) and from when. Asks the policy as `request()` does, so a host's policy is
   * followed; a lapsed export holding the slot is expired on the way, as a request would.
   * @throws ExportUnauthenticatedException without a (valid) principal
   */
  async eligibility(principal: ExportPrincipal | null | undefined, kind: ExportKind = 'account'): Promise<ExportEligibility> {
    const refused = (reason: ExportIneligibleReason, next: Date | null, activeExportId: string | null): ExportEligibility => ({
      canRequest: false,
      reason,
      nextAllowedAt: next ? next.toISOString() : null,
      activeExportId,
    });
    try {
      if (kind === 'personal') assertMember(this.policy, principal);
      else assertPrincipal(this.policy, principal);
    } catch (err) {
      if (err instanceof ExportForbiddenException) return refused('EXPORT_FORBIDDEN', null, null);
      throw err;
    }
    const who = principal as ExportPrincipal;
    const subjectUserId = kind === 'personal' ? who.userId : null;
    const now = this.clock.now();
    const holder = await this.activeHolder(exportSlot(who.accountId, kind, subjectUserId), now);
    const activeExportId = holder?.id ?? null;
    if (this.lacksConfirmationEmail(who)) return refused('EXPORT_EMAIL_REQUIRED', null, activeExportId);
    const lastCompleted = await this.lastCompleted(who.accountId, kind, subjectUserId);
    const context = { kind, ...(subjectUserId ? { subjectUserId } : {}) };
    if (holder) {
      // The slot frees when a completed export's window ends or a pending one's link lapses;
      // the policy may still hold the next request back from then (a longer cooldown).
      const freedAt =
        holder.status === ExportStatus.Completed ? holder.expiresAt
        : holder.status === ExportStatus.Pending ? new Date(holder.createdAt.getTime() + this.options.confirmation.ttlMs)
        : null;
      const then = freedAt ? await this.policyRefusal(who, freedAt, lastCompleted, context) : undefined;
      return refused('EXPORT_ALREADY_ACTIVE', then ? then.availableAt : freedAt, activeExportId);
    }
    const refusal = await this.policyRefusal(who, now, lastCompleted, context);
    if (refusal) return refused(refusal.reason, refusal.availableAt, null);
    return { canRequest: true, nextAllowedAt: null, activeExportId: null };
  }

  /**
   * The export holding `slot` (the account's, or a member's personal slot), if it still holds it
   * rightly. A holder that lapsed without the sweeper noticing yet (a completed export past its
   * download window, a pending one past the confirmation ttl) is expired on the way and its file
   * deleted.
   */
  async activeHolder(slot: string, now: Date): Promise<DataExport | null> {
    const holder = await this.repo.findOneBy({ activeSlot: slot });
    if (!holder) return null;
    const lapsed =
      (holder.status === ExportStatus.Completed && holder.expiresAt !== null && holder.expiresAt <= now) ||
      (holder.status === ExportStatus.Pending && holder.createdAt.getTime() + this.options.confirmation.ttlMs <= now.getTime());
    if (!lapsed) return holder;
    if (await this.store.expire(holder)) {
      await this.deleteFile(holder);
      return null;
    }
    // Another actor changed it meanwhile: read the slot again.
    return this.repo.findOneBy({ activeSlot: slot });
  }

  /** The last completed export of one slot: the account's exports, or one member's personal exports. */
  lastCompleted(accountId: string, kind: ExportKind = 'account', subjectUserId: string | null = null): Promise<DataExport | null> {
    const where: FindOptionsWhere<DataExport> =
      kind === 'personal' ? { accountId, kind, subjectUserId: subjectUserId ?? IsNull(), completedAt: Not(IsNull()) } : { accountId, kind: 'account', completedAt: Not(IsNull()) };
    return this.repo.findOne({ where, order: { completedAt: 'DESC' } });
  }

  /**
   * What the policy would refuse a request with at `at`, as an eligibility reason: a cooldown
   * (with its end) or a refusal of the principal. Other errors are the caller's.
   */
  private async policyRefusal(
    principal: ExportPrincipal,
    at: Date,
    lastCompleted: DataExport | null,
    context: Pick<ExportRequestContext, 'kind' | 'subjectUserId'> = {},
  ): Promise<{ reason: ExportIneligibleReason; availableAt: Date | null } | undefined> {
    try {
      await this.policy.assertCanRequest(principal, { now: at, lastCompleted, ...context });
      return undefined;
    } catch (err) {
      if (err instanceof ExportCooldownException) {
        const availableAt = new Date(String(err.details.availableAt));
        return { reason: 'EXPORT_COOLDOWN', availableAt: Number.isNaN(availableAt.getTime()) ? null : availableAt };
      }
      if (err instanceof ExportForbiddenException) return { reason: 'EXPORT_FORBIDDEN', availableAt: null };
      throw err;
    }
  }

  /** With confirmation on, whether the principal has no address to send the link to. */
  lacksConfirmationEmail(principal: ExportPrincipal): boolean {
    if (!this.options.confirmation.required) return false;
    const email = principal.email;
    return typeof email !== 'string' || email.length > 320 || !/^[^\s@]+@[^\s@]+$/.test(email);
  }

  /** Deletes an export's file and forgets its key. */
  async deleteFile(row: DataExport): Promise<void> {
    if (!row.storageKey) return;
    await this.archives.delete(row.storageKey);
    await this.store.forgetFile(row.id);
  }
}
