import { Inject, Injectable } from '@nestjs/common';
import { Brackets, DataSource, Repository } from 'typeorm';
import { ExportClock } from '../common/export.clock';
import { EXPORT_KINDS } from '../interfaces/export-principal.interface';
import { ExportStatus } from '../common/export-status.enum';
import { ExportInvalidRequestException, ExportNotFoundException, ExportNotReadyException } from '../common/export.exception';
import { isExportId } from '../common/export-id.util';
import { EXPORT_DATA_SOURCE } from '../common/export.internal-constants';
import { DataExport } from '../entities/data-export.entity';
import { DataExportEvent } from '../entities/data-export-event.entity';
import { ExportAudit } from '../lifecycle/export-audit';
import { CANCELLABLE_STATUSES, ExportStore } from '../lifecycle/export.store';
import { exportSlot } from '../lifecycle/export-slot.util';
import { toExportView } from '../lifecycle/export-view.util';
import { ExportEvents } from '../lifecycle/export-events';
import { ExportProducer } from '../queue/export.producer';
import { ExportAccountState } from '../service/export-account-state';
import { ExportService } from '../service/export.service';
import type { ExportPrincipal } from '../interfaces/export-principal.interface';
import type { ExportActor, ExportAdminItem, ExportAdminListQuery, ExportAdminPage, ExportAdminRequestInput, ExportAuditRecord } from './export-admin.interface';
import { actorId, decodeCursor, encodeCursor, listDate, reasonOf } from './export-admin.util';

const STATUSES = Object.values(ExportStatus) as string[];
const HISTORY_MAX = 5000;

/**
 * The operator's side of exports, for the host's admin panel (support, compliance): list exports
 * across accounts, force-expire, retry, cancel, request on behalf of an account or member, and
 * read the audit trail. The library never exposes it over HTTP: the host puts it behind its own
 * staff authorization. Every action goes through the export store's transitions (the slot rules
 * hold) and is recorded in the audit trail with its actor.
 * @publicApi
 */
@Injectable()
export class ExportAdminService {
  constructor(
    @Inject(EXPORT_DATA_SOURCE) private readonly dataSource: DataSource,
    private readonly store: ExportStore,
    private readonly audit: ExportAudit,
    private readonly events: ExportEvents,
    private readonly producer: ExportProducer,
    private readonly accounts: ExportAccountState,
    private readonly exports: ExportService,
    private readonly clock: ExportClock,
  ) {}

  private get repo(): Repository<DataExport> {
    return this.dataSource.getRepository(DataExport);
  }

  /**
   * Exports of every account, newest first (by request time), keyset-paged: filter by status,
   * account, kind and request time (`from` inclusive, `to` exclusive).
   * @throws ExportInvalidRequestException (an unknown status or kind, a bad date, limit or cursor)
   */
  async list(query: ExportAdminListQuery = {}): Promise<ExportAdminPage> {
    const { status, accountId, kind, limit = 50 } = query ?? {};
    if (status !== undefined && !STATUSES.includes(status)) throw new ExportInvalidRequestException(`Unknown status "${String(status)}".`, { validStatuses: STATUSES });
    if (kind !== undefined && !EXPORT_KINDS.includes(kind)) throw new ExportInvalidRequestException(`Unknown kind "${String(kind)}".`, { validKinds: EXPORT_KINDS });
    if (!Number.isInteger(limit) || limit < 1 || limit > 200) throw new ExportInvalidRequestException('limit must be an integer from 1 to 200.');
    const from = listDate('from', query.from);
    const to = listDate('to', query.to);
    const cursor = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
    const q = (name: string) => this.dataSource.driver.escape(name);
    const qb = this.repo.createQueryBuilder('e');
    if (status !== undefined) qb.andWhere(`e.${q('status')} = :status`, { status });
    if (accountId !== undefined) qb.andWhere(`e.${q('accountId')} = :accountId`, { accountId: String(accountId) });
    if (kind !== undefined) qb.andWhere(`e.${q('kind')} = :kind`, { kind });
    if (from) qb.andWhere(`e.${q('createdAt')} >= :from`, { from });
    if (to) qb.andWhere(`e.${q('createdAt')} < :to`, { to });
    if (cursor) {
      qb.andWhere(
        new Brackets((w) =>
          w.where(`e.${q('createdAt')} < :cAt`, { cAt: cursor.at }).orWhere(`(e.${q('createdAt')} = :cAt AND e.${q('id')} < :cId)`, { cId: cursor.id }),
        ),
      );
    }
    const rows = await qb.orderBy(`e.${q('createdAt')}`, 'DESC').addOrderBy(`e.${q('id')}`, 'DESC').take(limit + 1).getMany();
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return { items: page.map(toAdminItem), nextCursor: rows.length > limit && last ? encodeCursor(last.createdAt, last.id) : null };
  }

  /** One export of any account. @throws ExportNotFoundException */
  async get(id: string): Promise<ExportAdminItem> {
    return toAdminItem(await this.find(id));
  }

  /**
   * Ends a completed export now: its file is deleted and its links answer 410
   * `EXPORT_LINK_EXPIRED` (it becomes `expired`, reason `deleted`, `deletedBy` the operator). An
   * export already ended is left as it is.
   * @throws ExportNotFoundException, ExportNotReadyException (409: still running; cancel it instead)
   */
  async forceExpire(id: string, actor: ExportActor, reason?: string): Promise<ExportAdminItem> {
    const row = await this.find(id);
    const by = actorId(actor);
    if (CANCELLABLE_STATUSES.includes(row.status)) throw new ExportNotReadyException(row.status);
    if (row.status === ExportStatus.Completed) {
      if (await this.store.deleteEarly(row, by, this.clock.now(), { actor: by, type: 'admin.force-expired', detail: reasonOf(reason) })) {
        await this.accounts.deleteFile(row);
      }
      return this.emitted(id);
    }
    return toAdminItem(row);
  }

  /**
   * Queues a failed export again, its runs counted afresh, holding its slot again.
   * @throws ExportNotFoundException, ExportInvalidRequestException (400: the export has not
   *   failed), ExportAlreadyActiveException (409: the account, or the member for a personal
   *   export, has another active export now), ExportQueueUnavailableException
   */
  async retry(id: string, actor: ExportActor, reason?: string): Promise<ExportAdminItem> {
    const row = await this.find(id);
    if (row.status !== ExportStatus.Failed) {
      throw new ExportInvalidRequestException('Only a failed export can be retried.', { status: row.status });
    }
    const slot = exportSlot(row.accountId, row.kind, row.subjectUserId);
    // A holder that lapsed unnoticed frees the slot on the way, as a request would.
    await this.accounts.activeHolder(slot, this.clock.now());
    if (!(await this.store.retry(row, slot, { actor: actorId(actor), detail: reasonOf(reason) }))) return this.get(id);
    try {
      await this.producer.requeue(row.id);
    } catch (err) {
      await this.store.failUnqueued({ ...row, status: ExportStatus.Confirmed }, 'The job queue was unavailable.');
      throw err;
    }
    return this.get(id);
  }

  /**
   * Cancels a pending, confirmed or processing export (a running job stops at its next batch).
   * An export already ended is left as it is.
   * @throws ExportNotFoundException, ExportInvalidRequestException (400: a completed export;
   *   use `forceExpire`)
   */
  async cancel(id: string, actor: ExportActor, reason?: string): Promise<ExportAdminItem> {
    const row = await this.find(id);
    if (row.status === ExportStatus.Completed) {
      throw new ExportInvalidRequestException('This export is completed: force-expire it to delete its file.', { status: row.status });
    }
    if (!CANCELLABLE_STATUSES.includes(row.status)) return toAdminItem(row);
    if (await this.store.cancel(row, { actor: actorId(actor), type: 'admin.cancelled', detail: reasonOf(reason) })) {
      await this.producer.removeWaiting(id);
      return this.emitted(id);
    }
    return this.get(id);
  }

  /**
   * Requests an export on behalf of an account (an account export) or of one of its members
   * (`userId`: a personal export, the member confirmed by `ExportPolicy.resolveSubject`). It is
   * checked as `ExportService.request` checks a request of the operator acting as an owner of the
   * account (`actor.role` to use another role): the slot and, unless `override` is given, the
   * policy's request rules (the cooldown). `override.reason` is recorded in the audit trail.
   * @throws what `ExportService.request` throws, and ExportInvalidRequestException (a missing
   *   accountId, an override without a reason)
   */
  async requestFor(actor: ExportActor, input: ExportAdminRequestInput): Promise<ExportAdminItem> {
    const { accountId, userId, override, ...request } = input ?? ({} as ExportAdminRequestInput);
    if (typeof accountId !== 'string' || !accountId) throw new ExportInvalidRequestException('accountId is required.');
    if (override !== undefined && (typeof override?.reason !== 'string' || !override.reason.trim())) {
      throw new ExportInvalidRequestException('An override needs a reason, which the audit trail records.');
    }
    const by = actorId(actor);
    const principal: ExportPrincipal = {
      userId: by,
      accountId,
      role: typeof actor === 'object' && actor.role ? actor.role : 'owner',
      ...(typeof actor === 'object' && actor.email ? { email: actor.email } : {}),
    };
    const view = await this.exports.request(principal, { ...request, ...(userId === undefined ? {} : { kind: 'personal', userId }) }, {
      override: override !== undefined,
      note: { actor: by, type: 'admin.requested', detail: override ? { override: reasonOf(override.reason)!.reason } : {} },
    });
    return this.get(view.id);
  }

  /**
   * The audit trail of one export, or of every export of an account, oldest first (at most
   * 5000 records): when it was requested, confirmed, run, downloaded (from which address and
   * client), deleted or expired, and by whom.
   * @throws ExportInvalidRequestException (neither exportId nor accountId)
   */
  async history(of: { exportId: string } | { accountId: string }): Promise<ExportAuditRecord[]> {
    const where = of && 'exportId' in of && typeof of.exportId === 'string'
      ? { exportId: of.exportId }
      : of && 'accountId' in of && typeof of.accountId === 'string'
        ? { accountId: of.accountId }
        : undefined;
    if (!where) throw new ExportInvalidRequestException('history() takes { exportId } or { accountId }.');
    const records = await this.dataSource.getRepository(DataExportEvent).find({ where, order: { at: 'ASC', id: 'ASC' }, take: HISTORY_MAX });
    return records.map((r) => ({
      at: r.at.toISOString(),
      type: r.type,
      actor: r.actor,
      exportId: r.exportId,
      accountId: r.accountId,
      ...(r.ip ? { ip: r.ip } : {}),
      ...(r.userAgent ? { userAgent: r.userAgent } : {}),
      ...(r.detail ? { detail: r.detail } : {}),
    }));
  }

  private async find(id: string): Promise<DataExport> {
    const row = typeof id === 'string' && isExportId(id) ? await this.repo.findOneBy({ id }) : null;
    if (!row) throw new ExportNotFoundException();
    return row;
  }

  /** Reads the row after a change the store made without an event, and emits it. */
  private async emitted(id: string): Promise<ExportAdminItem> {
    const row = await this.find(id);
    this.events.emit('status', row);
    return toAdminItem(row);
  }
}

function toAdminItem(row: DataExport): ExportAdminItem {
  return { ...toExportView(row), accountId: row.accountId };
}
