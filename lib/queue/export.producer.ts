import { InjectQueue } from '@nestjs/bull';
import { Inject, Injectable, Logger } from '@nestjs/common';
import type { Queue } from 'bull';
import { EXPORT_JOB, EXPORT_QUEUE } from '../common/export.constants';
import { EXPORT_RESOLVED_OPTIONS } from '../common/export.internal-constants';
import { ExportQueueUnavailableException } from '../common/export.exception';
import type { ResolvedExportOptions } from '../options/export-module-options.interface';
import type { ExportJobData } from './export-job.interface';

/** Where an export's job is, as far as recovery cares (see `ExportProducer.jobState`). @internal */
export type ExportJobState = 'alive' | 'finished' | 'missing';

/**
 * Puts export jobs on the `data-export` queue. The job id is the export id, so an export is
 * never queued twice.
 * @publicApi
 */
@Injectable()
export class ExportProducer {
  private readonly logger = new Logger('ExportQueue');

  constructor(
    @InjectQueue(EXPORT_QUEUE) private readonly queue: Queue<ExportJobData>,
    @Inject(EXPORT_RESOLVED_OPTIONS) private readonly options: ResolvedExportOptions,
  ) {
    // Bull re-emits Redis errors on the queue; an 'error' event without a listener would crash
    // the process on a Redis blip (or a close during boot). Logged by name and code only.
    queue.on('error', (err: Error & { code?: unknown }) => {
      this.logger.warn(`Queue error: ${err?.name ?? 'Error'}${typeof err?.code === 'string' ? ` ${err.code}` : ''}`);
    });
  }

  /** Enqueues the export; throws `ExportQueueUnavailableException` when Redis does not answer. */
  async enqueue(exportId: string): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new ExportQueueUnavailableException()), this.options.enqueueTimeoutMs);
    });
    try {
      await Promise.race([
        this.queue.add(
          EXPORT_JOB,
          { v: 1, exportId },
          {
            jobId: exportId,
            attempts: this.options.attempts,
            backoff: { type: 'exponential', delay: this.options.retryDelayMs },
            removeOnComplete: 1000,
            removeOnFail: 1000,
          },
        ),
        timeout,
      ]);
    } catch (err) {
      if (err instanceof ExportQueueUnavailableException) throw err;
      throw new ExportQueueUnavailableException();
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Where the export's job is: `alive` (waiting, delayed, active or paused: a worker has it or
   * will take it), `finished` (completed or failed: Bull will not run it again, and ignores a
   * new job with its id), or `missing` (lost with Redis, or removed). Rejects when Redis does
   * not answer.
   * @internal
   */
  async jobState(exportId: string): Promise<ExportJobState> {
    const job = await this.queue.getJob(exportId);
    if (!job) return 'missing';
    const state = await job.getState();
    // 'stuck': the job's hash is there but it is in no list, so no worker will ever take it.
    return state === 'completed' || state === 'failed' || state === 'stuck' ? 'finished' : 'alive';
  }

  /**
   * Queues the export again for real: a finished job with its id is removed first (Bull would
   * otherwise ignore the new one). Returns `false`, queuing nothing, while a job of the export
   * is still alive (a worker holds it, or will take it).
   * @internal
   */
  async requeue(exportId: string): Promise<boolean> {
    const state = await this.jobState(exportId);
    if (state === 'alive') return false;
    if (state === 'finished') {
      const job = await this.queue.getJob(exportId);
      // Removal fails only while the job is locked, i.e. a worker took it meanwhile.
      if (job && !(await job.remove().then(() => true, () => false))) return false;
    }
    await this.enqueue(exportId);
    return true;
  }

  /**
   * Removes the export's job unless a worker runs it (a running export notices a cancel at its
   * next batch). A job left behind is harmless: the processor skips a job whose export is no
   * longer queued. Never rejects.
   * @internal
   */
  async removeWaiting(exportId: string): Promise<void> {
    try {
      const job = await this.queue.getJob(exportId);
      if (job && !(await job.isActive())) await job.remove();
    } catch {
      // Redis unavailable, or a worker took the job meanwhile: see above.
    }
  }

  /** How long Bull's lock on a running job lasts on this queue (its effective setting). @internal */
  lockDurationMs(): number {
    return (this.queue as unknown as { settings?: { lockDuration?: number } }).settings?.lockDuration ?? 30_000;
  }

  /** @internal The queue, for the worker and for tests that wait on it. */
  getQueue(): Queue<ExportJobData> {
    return this.queue;
  }
}
