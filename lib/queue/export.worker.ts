import { InjectQueue } from '@nestjs/bull';
import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import type { Job, Queue } from 'bull';
import { EXPORT_JOB, EXPORT_QUEUE, EXPORT_SWEEP_JOB } from '../common/export.constants';
import { ExportSweeper } from './export.sweeper';
import { EXPORT_RESOLVED_OPTIONS } from '../common/export.internal-constants';
import type { ResolvedExportOptions } from '../options/export-module-options.interface';
import type { ExportJobData } from './export-job.interface';
import { ExportArchiveBuilder } from './export-archive.builder';
import { settleWithin } from '../common/timeout.util';

/**
 * Starts consuming export jobs once the application has booted, with the configured
 * concurrency. Registered only when `worker` is not `false`. Bull's `queue.process` is called
 * here rather than through `@Process()` so that concurrency is an option, not a constant.
 * @internal
 */
@Injectable()
export class ExportWorker implements OnApplicationBootstrap, OnModuleDestroy, BeforeApplicationShutdown {
  private readonly logger = new Logger('ExportWorker');
  private scheduling?: Promise<void>;
  private scheduleInFlight?: Promise<void>;
  private scheduleCheck?: NodeJS.Timeout;
  private scheduledOnce = false;

  constructor(
    @InjectQueue(EXPORT_QUEUE) private readonly queue: Queue<ExportJobData>,
    @Inject(EXPORT_RESOLVED_OPTIONS) private readonly options: ResolvedExportOptions,
    private readonly processor: ExportArchiveBuilder,
    private readonly sweeper: ExportSweeper,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.guardWorkerName();
    // One handler for both job names: Bull adds up the concurrency of named handlers and lets
    // each of their loops take any job, so two handlers would run `concurrency + 1` exports.
    this.queue
      .process('*', this.options.concurrency, async (job) => {
        if (job.name === EXPORT_SWEEP_JOB) await this.sweeper.sweep();
        else if (job.name === EXPORT_JOB) await this.run(job);
      })
      .catch((err?: Error) => err && this.logger.error(`Export worker stopped: ${err.name}`));
    this.watchJobs();
    // Bounded wait: a worker that boots while Redis is down must not block the application.
    this.scheduling = this.scheduleSweep();
    await settleWithin(this.scheduling, this.options.enqueueTimeoutMs);
  }

  onModuleDestroy(): void {
    clearInterval(this.scheduleCheck);
    this.scheduleCheck = undefined;
  }

  /**
   * Runs one delivery of an export job. The row's `attempts` counts the runs started; Bull's
   * `attemptsMade` counts only the runs that threw, so a run killed with its worker, which
   * Bull delivers again (its stall check), would not count. A delivery of an export that already
   * started `attempts` runs fails it instead, and the job's count is raised to the row's, so that
   * Bull's retries and the processor's last-attempt decision count killed runs too.
   */
  private async run(job: Job<ExportJobData>): Promise<void> {
    const runs = await this.sweeper.runsBefore(job.data.exportId);
    if (runs === undefined) return;
    job.attemptsMade = Math.max(job.attemptsMade, runs);
    await this.processor.process(job);
  }

  /**
   * Keeps exports and the sweep schedule moving when Redis misbehaves:
   * - Bull's `failed` event of an export job (a stall-out: "job stalled more than allowable
   *   limit", or a last attempt whose failure could not be recorded) recovers the export at
   *   once: queued again while runs remain, else failed with its slot freed;
   * - when the Redis connection is ready again, and every `sweepInterval`, the repeatable sweep
   *   job is checked and added again when it is gone (a Redis restarted empty, a failover, a
   *   flush), with a sweep run at once, which also queues again the jobs Redis lost.
   */
  private watchJobs(): void {
    this.queue.on('failed', (job?: Job<ExportJobData>) => {
      if (job?.name !== EXPORT_JOB || typeof job.data?.exportId !== 'string') return;
      this.sweeper.recover(job.data.exportId).catch((err: Error) => this.logger.warn(`Could not recover export ${job.data.exportId}: ${err?.name ?? 'Error'}`));
    });
    this.queue.client.on('ready', () => void this.scheduleSweep());
    this.scheduleCheck = setInterval(() => void this.scheduleSweep(), this.options.sweepIntervalMs);
    this.scheduleCheck.unref();
  }

  /**
   * Bull's close (when the application shuts down) waits for the jobs running here, however long
   * they take. So first: this process stops taking jobs, the exports it runs get
   * `shutdownTimeout` to finish, and those still running are then stopped (their attempt fails,
   * their file and connection are released, and Bull retries them per `attempts`, here after a
   * restart or on another worker). The process ends a few seconds after `shutdownTimeout`.
   */
  async beforeApplicationShutdown(): Promise<void> {
    // Let a scheduling still in flight finish before Bull closes the queue under it.
    await settleWithin(this.scheduling, this.options.enqueueTimeoutMs);
    // A local pause: no new job starts in this process; the other workers go on.
    await settleWithin(this.queue.pause(true, true), this.options.enqueueTimeoutMs);
    if (!this.processor.busy) return;
    this.logger.log(`Waiting up to ${this.options.shutdownTimeoutMs} ms for running exports before stopping them`);
    await settleWithin(this.processor.idle(), this.options.shutdownTimeoutMs);
    if (this.processor.busy) await this.processor.interrupt();
  }

  /**
   * Bull's `process()` starts `setWorkerName()` (CLIENT SETNAME on its blocking connection) and
   * drops the promise: an application closed right after it booted got an unhandled rejection,
   * "Connection is closed.". The name only labels the connection, so its failure is ignored.
   */
  private guardWorkerName(): void {
    const queue = this.queue as unknown as { setWorkerName?: () => Promise<unknown> };
    const setWorkerName = queue.setWorkerName?.bind(this.queue);
    if (setWorkerName) queue.setWorkerName = () => setWorkerName().catch(() => undefined);
  }

  /**
   * One repeatable sweep job for all workers; a changed interval replaces the old schedule.
   * Adding it again is harmless (Bull derives the next run's job id from the interval), which
   * also brings back a next run Redis lost. When the schedule itself was gone after boot, a
   * sweep runs at once rather than an interval later.
   */
  private scheduleSweep(): Promise<void> {
    if (this.scheduleInFlight) return this.scheduleInFlight;
    this.scheduleInFlight = this.addSweepSchedule().finally(() => (this.scheduleInFlight = undefined));
    return this.scheduleInFlight;
  }

  private async addSweepSchedule(): Promise<void> {
    const every = this.options.sweepIntervalMs;
    let found = false;
    try {
      for (const job of await this.queue.getRepeatableJobs()) {
        if (job.name !== EXPORT_SWEEP_JOB) continue;
        if (Number(job.every) !== every) await this.queue.removeRepeatableByKey(job.key);
        else found = true;
      }
      await this.queue.add(EXPORT_SWEEP_JOB, {} as ExportJobData, {
        repeat: { every },
        jobId: EXPORT_SWEEP_JOB,
        removeOnComplete: true,
        removeOnFail: true,
      });
    } catch (err) {
      this.logger.error(`Could not schedule the export sweeper: ${(err as Error).name}`);
      return;
    }
    if (!found && this.scheduledOnce) {
      this.logger.warn('The export sweep schedule was gone from Redis; added again');
      await this.sweeper.sweep().catch((err: Error) => this.logger.warn(`Sweep failed: ${err?.name ?? 'Error'}`));
    }
    this.scheduledOnce = true;
  }
}
