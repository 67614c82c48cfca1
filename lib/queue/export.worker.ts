import { InjectQueue } from '@nestjs/bull';
import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import type { Queue } from 'bull';
import { EXPORT_JOB, EXPORT_QUEUE, EXPORT_SWEEP_JOB } from '../export.constants';
import { ExportSweeper } from '../lifecycle/export.sweeper';
import { EXPORT_RESOLVED_OPTIONS } from '../export.internal-constants';
import type { ResolvedExportOptions } from '../options/export-module-options.interface';
import type { ExportJobData } from './export-job.interface';
import { ExportProcessor } from './export.processor';
import { settleWithin } from './export-run';

/**
 * Starts consuming export jobs once the application has booted, with the configured
 * concurrency. Registered only when `worker` is not `false`. Bull's `queue.process` is called
 * here rather than through `@Process()` so that concurrency is an option, not a constant.
 * @internal
 */
@Injectable()
export class ExportWorker implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('ExportWorker');
  private scheduling?: Promise<void>;

  constructor(
    @InjectQueue(EXPORT_QUEUE) private readonly queue: Queue<ExportJobData>,
    @Inject(EXPORT_RESOLVED_OPTIONS) private readonly options: ResolvedExportOptions,
    private readonly processor: ExportProcessor,
    private readonly sweeper: ExportSweeper,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.guardWorkerName();
    // One handler for both job names: Bull adds up the concurrency of named handlers and lets
    // each of their loops take any job, so two handlers would run `concurrency + 1` exports.
    this.queue
      .process('*', this.options.concurrency, async (job) => {
        if (job.name === EXPORT_SWEEP_JOB) await this.sweeper.sweep();
        else if (job.name === EXPORT_JOB) await this.processor.process(job);
      })
      .catch((err?: Error) => err && this.logger.error(`Export worker stopped: ${err.name}`));
    // Bounded wait: a worker that boots while Redis is down must not block the application.
    this.scheduling = this.scheduleSweep();
    await this.bounded(this.scheduling);
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
    await this.bounded(this.scheduling);
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

  private async bounded(work: Promise<void> | undefined): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([work, new Promise<void>((resolve) => (timer = setTimeout(resolve, this.options.enqueueTimeoutMs)))]);
    clearTimeout(timer);
  }

  /** One repeatable sweep job for all workers; a changed interval replaces the old schedule. */
  private async scheduleSweep(): Promise<void> {
    const every = this.options.sweepIntervalMs;
    try {
      for (const job of await this.queue.getRepeatableJobs()) {
        if (job.name === EXPORT_SWEEP_JOB && Number(job.every) !== every) await this.queue.removeRepeatableByKey(job.key);
      }
      await this.queue.add(EXPORT_SWEEP_JOB, {} as ExportJobData, {
        repeat: { every },
        jobId: EXPORT_SWEEP_JOB,
        removeOnComplete: true,
        removeOnFail: true,
      });
    } catch (err) {
      this.logger.error(`Could not schedule the export sweeper: ${(err as Error).name}`);
    }
  }
}
