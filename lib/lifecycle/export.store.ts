import { Inject, Injectable } from '@nestjs/common';
import { DataSource, FindOptionsWhere, In, IsNull, Not, Repository } from 'typeorm';
import { DataExport } from '../entities/data-export.entity';
import { ExportStatus } from '../common/export-status.enum';
import { ExportAlreadyActiveException } from '../common/export.exception';
import { EXPORT_DATA_SOURCE } from '../common/export.internal-constants';
import { ExportEvents } from './export-events';
import { ExportAudit, ExportAuditNote } from './export-audit';
import { isDeadlock, isUniqueViolation } from '../common/driver-errors.util';

/** Runs of a transition the database aborted to break a deadlock. */
const DEADLOCK_RETRIES = 4;

/** Statuses a cancel turns into `cancelled`. @internal */
export const CANCELLABLE_STATUSES: readonly ExportStatus[] = [ExportStatus.Pending, ExportStatus.Confirmed, ExportStatus.Processing];

/** Statuses an export never leaves. @internal */
export const FINAL_STATUSES: readonly ExportStatus[] = [ExportStatus.Completed, ExportStatus.Failed, ExportStatus.Cancelled, ExportStatus.Expired];

/** Statuses whose file, if one is left, the sweeper deletes. @internal */
export const ENDED_STATUSES: readonly ExportStatus[] = [ExportStatus.Expired, ExportStatus.Cancelled, ExportStatus.Failed];

/**
 * The order in which statuses follow one another, for showing an export's progress: a later
 * rank is news, an earlier one a stale report.
 * @internal
 */
export const STATUS_RANK: Readonly<Record<ExportStatus, number>> = {
  [ExportStatus.Pending]: 0,
  [ExportStatus.Confirmed]: 1,
  [ExportStatus.Processing]: 2,
  [ExportStatus.Completed]: 3,
  [ExportStatus.Failed]: 3,
  [ExportStatus.Cancelled]: 3,
  [ExportStatus.Expired]: 3,
};

/** A run's fencing condition: its own storage key, or what a row held when it was read. @internal */
export type ExportFence = FindOptionsWhere<DataExport>;

/**
 * The one owner of a `data_exports` row's life. Every change of status is a named transition
 * here: a conditional update (`… WHERE id = ? AND status IN (…)`, narrowed by a run's fence), so
 * two actors (a cancel and the worker, two sweepers) never both apply theirs; the transitions
 * that end an export free the account's slot in the same update; and each emits its status
 * event and appends its audit record (`data_export_events`) when it applied. The service, the
 * downloads, the processor, the sweeper and the admin service call it, and none of them writes
 * a status or `activeSlot` itself.
 * @internal
 */
@Injectable()
export class ExportStore {
  constructor(
    @Inject(EXPORT_DATA_SOURCE) private readonly dataSource: DataSource,
    private readonly events: ExportEvents,
    private readonly audit: ExportAudit,
  ) {}

  /** The repository, for reads. */
  get repo(): Repository<DataExport> {
    return this.dataSource.getRepository(DataExport);
  }

  /**
   * Inserts a requested export holding its slot (the account's, or a member's for a personal
   * export). The unique slot makes this the race-safe check: of concurrent requests for one slot,
   * the database lets exactly one in.
   * @throws ExportAlreadyActiveException
   */
  async request(row: DataExport, note: ExportAuditNote = {}): Promise<void> {
    try {
      await this.repo.insert(row);
    } catch (err) {
      if (!isUniqueViolation(err)) throw err;
      const active = row.activeSlot ? await this.repo.findOne({ where: { activeSlot: row.activeSlot }, select: { id: true } }) : null;
      throw new ExportAlreadyActiveException(active?.id ?? null);
    }
    this.events.emit('status', row);
    await this.audit.record('requested', row, {
      actor: row.requestedBy,
      ...note,
      detail: { kind: row.kind, format: row.format, ...(row.subjectUserId ? { subjectUserId: row.subjectUserId } : {}), ...note.detail },
    });
  }

  /** pending → confirmed (by the requester, who holds the confirmation link). */
  async confirm(row: DataExport, at: Date): Promise<boolean> {
    if (!(await this.move(row, [ExportStatus.Pending], { status: ExportStatus.Confirmed, confirmedAt: at }))) return false;
    await this.audit.record('confirmed', row, { actor: row.requestedBy });
    return true;
  }

  /** A confirmation link that expired: pending → expired, slot freed (no event: nothing was read). */
  async expireUnconfirmed(id: string): Promise<boolean> {
    if (!(await this.apply(id, [ExportStatus.Pending], { status: ExportStatus.Expired, activeSlot: null }))) return false;
    await this.audit.record('expired', id, { detail: { reason: 'unconfirmed' } });
    return true;
  }

  /** A job that could not be queued: failed, slot freed. */
  async failUnqueued(row: DataExport, error: string): Promise<void> {
    const set = { status: ExportStatus.Failed, activeSlot: null, error };
    await this.repo.update({ id: row.id }, set);
    this.events.emit('status', { ...row, ...set });
    await this.audit.record('failed', row, { detail: { reason: error } });
  }

  /** A run starts: confirmed (or a run's processing) → processing, under the run's own key. No event: the caller reads the row. */
  async start(id: string, set: Partial<DataExport>): Promise<boolean> {
    if (!(await this.apply(id, [ExportStatus.Confirmed, ExportStatus.Processing], { ...set, status: ExportStatus.Processing }))) return false;
    await this.audit.record('started', id, { detail: set.attempts !== undefined ? { attempt: set.attempts } : undefined });
    return true;
  }

  /** A run's progress and heartbeat; `false` once the export left `processing` or another run fenced this one out. */
  progress(id: string, fence: ExportFence, set: Partial<DataExport>): Promise<boolean> {
    return this.apply(id, [ExportStatus.Processing], set, fence);
  }

  /** A run's count estimate (no status change). */
  async estimate(id: string, fence: ExportFence, set: Partial<DataExport>): Promise<void> {
    await this.repo.update({ id, ...fence }, set);
  }

  /** processing → completed, under the run's fence. No event: the caller reads the row and emits it. */
  async complete(id: string, fence: ExportFence, set: Partial<DataExport>): Promise<boolean> {
    if (!(await this.apply(id, [ExportStatus.Processing], { ...set, status: ExportStatus.Completed }, fence))) return false;
    await this.audit.record('completed', id, { detail: { size: set.size ?? undefined, sha256: set.sha256 ?? undefined } });
    return true;
  }

  /**
   * A run (or a dead run the sweeper settles) ended without a result: back to `confirmed` to be
   * tried again, or `failed` with the slot freed. Applies only under `fence`, from `from`.
   */
  async endRun(
    row: DataExport,
    from: readonly ExportStatus[],
    fence: ExportFence,
    outcome: { retry: boolean; set?: Partial<DataExport> },
  ): Promise<boolean> {
    const set: Partial<DataExport> = outcome.retry
      ? { ...outcome.set, status: ExportStatus.Confirmed }
      : { currentCategory: null, ...outcome.set, status: ExportStatus.Failed, activeSlot: null };
    if (!(await this.move(row, from, set, fence))) return false;
    await this.audit.record(outcome.retry ? 'requeued' : 'failed', row, { detail: { reason: set.error ?? undefined } });
    return true;
  }

  /**
   * failed → confirmed, holding `slot` again, its runs counted afresh (an operator's retry). The
   * unique slot refuses it while the slot has another active export.
   * @throws ExportAlreadyActiveException
   */
  async retry(row: DataExport, slot: string, note: ExportAuditNote): Promise<boolean> {
    const set: Partial<DataExport> = { status: ExportStatus.Confirmed, activeSlot: slot, attempts: 0, error: null, heartbeatAt: null, currentCategory: null, rowsDone: 0, percent: 0 };
    try {
      if (!(await this.move(row, [ExportStatus.Failed], set))) return false;
    } catch (err) {
      if (!isUniqueViolation(err)) throw err;
      const active = await this.repo.findOne({ where: { activeSlot: slot }, select: { id: true } });
      throw new ExportAlreadyActiveException(active?.id ?? null);
    }
    await this.audit.record('admin.retried', row, note);
    return true;
  }

  /** pending, confirmed or processing → cancelled, slot freed (a running job stops at its next batch). */
  async cancel(row: DataExport, note: ExportAuditNote = {}): Promise<boolean> {
    if (!(await this.apply(row.id, CANCELLABLE_STATUSES, { status: ExportStatus.Cancelled, activeSlot: null, completedAt: null }))) return false;
    await this.audit.record('cancelled', row, note);
    return true;
  }

  /** A completed export deleted early by `by`: expired with its deletion recorded, slot freed (no event: the caller reads the row). */
  async deleteEarly(row: DataExport, by: string, at: Date, note: ExportAuditNote = {}): Promise<boolean> {
    if (!(await this.apply(row.id, [ExportStatus.Completed], { status: ExportStatus.Expired, activeSlot: null, expiresAt: at, deletedAt: at, deletedBy: by }))) {
      return false;
    }
    await this.audit.record('deleted', row, { actor: by, ...note });
    return true;
  }

  /** A completed export whose window ended, or a pending one whose link lapsed: expired, slot freed. */
  async expire(row: DataExport, from: readonly ExportStatus[] = [row.status]): Promise<boolean> {
    if (!(await this.move(row, from, { status: ExportStatus.Expired, activeSlot: null }))) return false;
    await this.audit.record('expired', row, { detail: { reason: row.status === ExportStatus.Pending ? 'unconfirmed' : 'window-ended' } });
    return true;
  }

  /**
   * A completed export whose archive is gone or cut behind the library's back: expired with
   * `error` saying why (slot freed, completion time kept for the cooldown), under the archive's key.
   */
  async loseArchive(id: string, key: string, error: string, at: Date): Promise<boolean> {
    if (!(await this.apply(id, [ExportStatus.Completed], { status: ExportStatus.Expired, activeSlot: null, expiresAt: at, error }, { storageKey: key }))) {
      return false;
    }
    const row = await this.repo.findOneBy({ id });
    if (row) this.events.emit('status', row);
    await this.audit.record('expired', row ?? id, { detail: { reason: 'archive-missing' } });
    return true;
  }

  /** Forgets the storage key once its file is deleted (only while the row still holds that key, when given). */
  async forgetFile(id: string, key?: string, statuses?: readonly ExportStatus[]): Promise<void> {
    await this.repo.update({ id, ...(key ? { storageKey: key } : {}), ...(statuses ? { status: In([...statuses]) } : {}) }, { storageKey: null });
  }

  /** Ended exports whose file is still on storage. */
  endedWithFiles(take: number): Promise<DataExport[]> {
    return this.repo.find({ where: { status: In([...ENDED_STATUSES]), storageKey: Not(IsNull()) }, take, order: { createdAt: 'ASC' } });
  }

  /** Applies `set` while the export is in `from` (and `where`); emits the row as it now is. */
  private async move(row: DataExport, from: readonly ExportStatus[], set: Partial<DataExport>, where: ExportFence = {}): Promise<boolean> {
    if (!(await this.apply(row.id, from, set, where))) return false;
    this.events.emit('status', { ...row, ...set } as DataExport);
    return true;
  }

  /**
   * The conditional update. Two actors updating one row at once (two sweepers, a sweeper and a
   * worker) can deadlock on MySQL/MariaDB, which then aborts one statement: it did nothing, and
   * its condition makes it safe to run again, so it is retried (a few times, after a short pause).
   */
  private async apply(id: string, from: readonly ExportStatus[], set: Partial<DataExport>, where: ExportFence = {}): Promise<boolean> {
    for (let attempt = 1; ; attempt++) {
      try {
        const result = await this.repo.update({ ...where, id, status: In([...from]) }, set);
        return (result.affected ?? 0) > 0;
      } catch (err) {
        if (!isDeadlock(err) || attempt >= DEADLOCK_RETRIES) throw err;
        await new Promise((resolve) => setTimeout(resolve, 10 + Math.floor(Math.random() * 40)));
      }
    }
  }
}
