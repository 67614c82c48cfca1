import { Inject, Injectable, Logger } from '@nestjs/common';
import { In, IsNull, LessThanOrEqual, Repository } from 'typeorm';
import { ExportClock } from '../common/export.clock';
import { DataExport } from '../entities/data-export.entity';
import { ExportStatus } from '../common/export-status.enum';
import { EXPORT_RESOLVED_OPTIONS } from '../common/export.internal-constants';
import { ExportNotifier } from '../notifier/export.notifier';
import type { ResolvedExportOptions } from '../options/export-module-options.interface';
import { ExportProducer } from './export.producer';
import { ENDED_STATUSES, ExportStore } from '../lifecycle/export.store';
import { requesterOf, toExportView } from '../lifecycle/export-view.util';
import { ArchiveStore } from '../storage/archive.store';
import { ExportAudit } from '../lifecycle/export-audit';

/** What one sweep changed. @publicApi */
export interface ExportSweepResult {
  expired: number;
  unconfirmed: number;
  stale: number;
  requeued: number;
  filesDeleted: number;
  /** Audit records deleted past `audit.retention`. */
  auditPruned: number;
}

/** What `ExportSweeper.recover` did. @internal */
export type ExportRecovery = 'requeued' | 'failed' | undefined;

/** Statuses of an export that a job should be moving. */
const RUN_STATUSES: readonly ExportStatus[] = [ExportStatus.Confirmed, ExportStatus.Processing];

const STALE_REQUEUED = 'The worker stopped responding; the export was queued again.';
const STALE_FAILED = 'The worker stopped responding.';
const DEAD_RUN_REQUEUED = 'The worker running the export stopped; the export was queued again.';
const DEAD_RUN_FAILED = 'The worker running the export stopped on every attempt.';
const LOST_JOB_FAILED = 'The export could not be queued again: every attempt was used.';

/** Rows handled per step of one sweep; the next sweep takes the rest. */
const SWEEP_BATCH = 500;

/**
 * Keeps the lifecycle moving when nobody asks: expires completed exports past their window and
 * deletes their files, expires unconfirmed ones past the confirmation ttl, fails (or re-queues)
 * processing exports whose worker stopped reporting, re-queues confirmed exports whose job was
 * lost. Every change is a conditional update, so sweeps are idempotent and safe to run on
 * several workers at once. Runs as a Bull repeatable job on worker processes.
 * @publicApi
 */
@Injectable()
export class ExportSweeper {
  private readonly logger = new Logger('ExportSweeper');

  constructor(
    @Inject(EXPORT_RESOLVED_OPTIONS) private readonly options: ResolvedExportOptions,
    private readonly producer: ExportProducer,
    private readonly notifier: ExportNotifier,
    private readonly clock: ExportClock,
    private readonly archives: ArchiveStore,
    private readonly store: ExportStore,
    private readonly audit: ExportAudit,
  ) {}

  private get repo(): Repository<DataExport> {
    return this.store.repo;
  }

  async sweep(): Promise<ExportSweepResult> {
    const now = this.clock.now();
    const result: ExportSweepResult = { expired: 0, unconfirmed: 0, stale: 0, requeued: 0, filesDeleted: 0, auditPruned: 0 };

    for (const row of await this.find({ status: ExportStatus.Completed, expiresAt: LessThanOrEqual(now) })) {
      if (await this.store.expire(row, [ExportStatus.Completed])) result.expired++;
    }

    const unconfirmedBefore = new Date(now.getTime() - this.options.confirmation.ttlMs);
    for (const row of await this.find({ status: ExportStatus.Pending, createdAt: LessThanOrEqual(unconfirmedBefore) })) {
      if (await this.store.expire(row, [ExportStatus.Pending])) result.unconfirmed++;
    }

    // A run that has not reported for `staleAfter` is dead even if Bull still holds its job (a
    // hung worker): it is fenced out and the export queued again or failed.
    const staleBefore = new Date(now.getTime() - this.options.staleAfterMs);
    for (const row of await this.find({ status: ExportStatus.Processing, heartbeatAt: LessThanOrEqual(staleBefore) })) {
      const outcome = await this.settle(row, STALE_REQUEUED, STALE_FAILED);
      if (outcome === 'requeued') result.requeued++;
      else if (outcome === 'failed') result.stale++;
    }

    // Exports whose job is no longer alive: failed (a stall-out), completed without finishing,
    // or lost with Redis. Quiet for a short grace, so that a request still adding its job (or
    // a run delivered under another id) is left alone.
    for (const row of await this.find({ status: In(RUN_STATUSES) })) {
      const outcome = await this.recover(row, this.graceMs());
      if (outcome === 'requeued') result.requeued++;
      else if (outcome === 'failed') result.stale++;
    }

    for (const row of await this.store.endedWithFiles(SWEEP_BATCH)) {
      await this.archives.delete(row.storageKey!);
      await this.store.forgetFile(row.id, undefined, ENDED_STATUSES);
      result.filesDeleted++;
    }

    await this.safely(async () => {
      result.auditPruned = await this.audit.prune();
    });

    if (Object.values(result).some((n) => n > 0)) {
      this.logger.log(`Sweep: ${JSON.stringify(result)}`);
    }
    return result;
  }

  /**
   * Recovers one export (by row or id) whose job is no longer alive, after Bull's `failed`
   * event or in a sweep: queued again while runs remain (the row's `attempts` counts the runs
   * started), else failed with its slot freed. Nothing happens while the job is alive, while the
   * export is not `confirmed`/`processing`, or while its last sign of life is younger than
   * `graceMs`. Safe with several workers: the change is one conditional update, and only the
   * worker that applied it queues the job again.
   * @internal
   */
  async recover(target: DataExport | string, graceMs = 0): Promise<ExportRecovery> {
    const row = typeof target === 'string' ? await this.repo.findOneBy({ id: target }) : target;
    if (!row || !RUN_STATUSES.includes(row.status)) return undefined;
    const lastSign = Math.max(...[row.heartbeatAt, row.startedAt, row.confirmedAt, row.createdAt].map((d) => d?.getTime() ?? 0));
    if (this.clock.now().getTime() - lastSign < graceMs) return undefined;
    if ((await this.producer.jobState(row.id)) === 'alive') return undefined;
    return row.status === ExportStatus.Processing
      ? this.settle(row, DEAD_RUN_REQUEUED, DEAD_RUN_FAILED)
      : this.settle(row, undefined, LOST_JOB_FAILED);
  }

  /**
   * Before a delivery of an export job runs: the runs the export already started (the row's
   * `attempts`), or `undefined` when they are used up and the last one is dead, in which case
   * the export was failed with its slot freed instead. Bull delivers the job of a run killed
   * with its worker again without counting it; a run that still reports (a delivery after a
   * lapsed lock, e.g. a Redis freeze) is not dead, and the new run takes over from it.
   * @internal
   */
  async runsBefore(exportId: string): Promise<number | undefined> {
    const row = await this.repo.findOneBy({ id: exportId });
    if (!row) return 0;
    const silentMs = this.clock.now().getTime() - (row.heartbeatAt?.getTime() ?? 0);
    const dead = row.status === ExportStatus.Processing && silentMs >= this.producer.lockDurationMs() / 2;
    if (!dead || row.attempts < this.options.attempts) return row.attempts;
    await this.giveUp(row);
    return undefined;
  }

  /**
   * Fails an export whose runs are used up, with its slot freed: the worker calls it for a
   * delivery of an export that already started `attempts` runs (a worker killed each time).
   * @internal
   */
  async giveUp(row: DataExport): Promise<boolean> {
    return (await this.settle(row, undefined, DEAD_RUN_FAILED)) === 'failed';
  }

  /**
   * Moves a dead run's export on: back to `confirmed` and queued again while runs remain, else
   * `failed` with its slot freed and the notifier told. The update is fenced on what the row
   * held when read (the dead run's storage key, or a confirmed row's `heartbeatAt`), so of two
   * workers settling one export only one applies it; the dead run's file is deleted.
   */
  private async settle(row: DataExport, requeueError: string | undefined, failError: string): Promise<ExportRecovery> {
    const now = this.clock.now();
    const fence = row.status === ExportStatus.Processing
      ? { storageKey: row.storageKey ?? IsNull() }
      : { heartbeatAt: row.heartbeatAt ?? IsNull() };
    const retry = row.attempts < this.options.attempts;
    const set: Partial<DataExport> = retry
      ? { heartbeatAt: now, ...(requeueError ? { error: requeueError } : {}) }
      : { error: failError, heartbeatAt: now };
    if (!(await this.store.endRun(row, [row.status], fence, { retry, set }))) return undefined;
    if (row.storageKey) await this.safely(() => this.deleteFile(row.id, row.storageKey!));
    if (retry) {
      // Not queued when Bull still holds a job of the export (a hung run): the sweeper queues it
      // once that job ends, and Redis trouble is retried by the next sweep.
      await this.safely(async () => {
        if (await this.producer.requeue(row.id)) {
          this.logger.log(`Export ${row.id} queued again after run ${row.attempts} of ${this.options.attempts} ended without a result`);
        }
      });
      return 'requeued';
    }
    this.logger.warn(`Export ${row.id} failed: its job ended without a result after ${row.attempts} of ${this.options.attempts} runs`);
    await this.safely(() => this.notifier.failed(toExportView({ ...row, ...set, status: ExportStatus.Failed, activeSlot: null } as DataExport), requesterOf(row)));
    return 'failed';
  }

  /** Deletes a dead run's file (and its `.partial`), then forgets the key unless a new run set its own. */
  private async deleteFile(id: string, storageKey: string): Promise<void> {
    await this.archives.delete(storageKey);
    await this.store.forgetFile(id, storageKey);
  }

  /** How long an export must have shown no sign of life before its missing job counts as lost. */
  private graceMs(): number {
    return Math.max(this.options.enqueueTimeoutMs, this.producer.lockDurationMs());
  }

  private find(where: Record<string, unknown>): Promise<DataExport[]> {
    return this.repo.find({ where, take: SWEEP_BATCH, order: { createdAt: 'ASC' } });
  }

  private async safely(call: () => Promise<void> | void): Promise<void> {
    try {
      await call();
    } catch (err) {
      this.logger.warn(`Sweep step failed: ${(err as Error)?.name ?? 'Error'}`);
    }
  }
}
