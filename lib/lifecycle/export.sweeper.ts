import { Inject, Injectable, Logger } from '@nestjs/common';
import { DataSource, In, IsNull, LessThanOrEqual, Not, Repository } from 'typeorm';
import { ExportClock } from '../clock/export.clock';
import { DataExport } from '../entities/data-export.entity';
import { ExportStatus } from '../enums/export-status.enum';
import { EXPORT_DATA_SOURCE, EXPORT_RESOLVED_OPTIONS } from '../export.internal-constants';
import { ExportNotifier } from '../notifier/export.notifier';
import type { ResolvedExportOptions } from '../options/export-module-options.interface';
import { ExportProducer } from '../queue/export.producer';
import { transitionExport } from '../utils/export-transition.util';
import { ExportEvents } from '../service/export-events';
import { requesterOf, toExportView } from '../service/export-view.util';

/** What one sweep changed. @publicApi */
export interface ExportSweepResult {
  expired: number;
  unconfirmed: number;
  stale: number;
  requeued: number;
  filesDeleted: number;
}

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
    @Inject(EXPORT_DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(EXPORT_RESOLVED_OPTIONS) private readonly options: ResolvedExportOptions,
    private readonly producer: ExportProducer,
    private readonly notifier: ExportNotifier,
    private readonly events: ExportEvents,
    private readonly clock: ExportClock,
  ) {}

  private get repo(): Repository<DataExport> {
    return this.dataSource.getRepository(DataExport);
  }

  async sweep(): Promise<ExportSweepResult> {
    const now = this.clock.now();
    const result: ExportSweepResult = { expired: 0, unconfirmed: 0, stale: 0, requeued: 0, filesDeleted: 0 };

    for (const row of await this.find({ status: ExportStatus.Completed, expiresAt: LessThanOrEqual(now) })) {
      if (await this.move(row, [ExportStatus.Completed], { status: ExportStatus.Expired, activeSlot: null })) result.expired++;
    }

    const unconfirmedBefore = new Date(now.getTime() - this.options.confirmation.ttlMs);
    for (const row of await this.find({ status: ExportStatus.Pending, createdAt: LessThanOrEqual(unconfirmedBefore) })) {
      if (await this.move(row, [ExportStatus.Pending], { status: ExportStatus.Expired, activeSlot: null })) result.unconfirmed++;
    }

    const staleBefore = new Date(now.getTime() - this.options.staleAfterMs);
    for (const row of await this.find({ status: ExportStatus.Processing, heartbeatAt: LessThanOrEqual(staleBefore) })) {
      if (row.attempts < this.options.attempts) {
        if (await this.move(row, [ExportStatus.Processing], { status: ExportStatus.Confirmed, error: 'The worker stopped responding; the export was queued again.' })) {
          await this.requeue(row.id);
          result.requeued++;
        }
      } else if (
        await this.move(row, [ExportStatus.Processing], {
          status: ExportStatus.Failed,
          activeSlot: null,
          error: 'The worker stopped responding.',
        })
      ) {
        result.stale++;
        await this.safely(() => this.notifier.failed(toExportView({ ...row, status: ExportStatus.Failed }), requesterOf(row)));
      }
    }

    for (const row of await this.find({ status: ExportStatus.Confirmed, confirmedAt: LessThanOrEqual(staleBefore) })) {
      const job = await this.producer.getQueue().getJob(row.id).catch(() => null);
      if (!job) {
        await this.requeue(row.id);
        result.requeued++;
      }
    }

    const done = [ExportStatus.Expired, ExportStatus.Cancelled, ExportStatus.Failed];
    for (const row of await this.find({ status: In(done), storageKey: Not(IsNull()) })) {
      await this.options.storage.delete(row.storageKey!);
      await this.repo.update({ id: row.id, status: In(done) }, { storageKey: null });
      result.filesDeleted++;
    }

    if (Object.values(result).some((n) => n > 0)) {
      this.logger.log(`Sweep: ${JSON.stringify(result)}`);
    }
    return result;
  }

  private find(where: Record<string, unknown>): Promise<DataExport[]> {
    return this.repo.find({ where, take: SWEEP_BATCH, order: { createdAt: 'ASC' } });
  }

  private async move(row: DataExport, from: ExportStatus[], set: Partial<DataExport>): Promise<boolean> {
    if (!(await transitionExport(this.repo, row.id, from, set))) return false;
    this.events.emit('status', { ...row, ...set } as DataExport);
    return true;
  }

  private async requeue(id: string): Promise<void> {
    await this.safely(() => this.producer.enqueue(id));
  }

  private async safely(call: () => Promise<void> | void): Promise<void> {
    try {
      await call();
    } catch (err) {
      this.logger.warn(`Sweep step failed: ${(err as Error)?.name ?? 'Error'}`);
    }
  }
}
