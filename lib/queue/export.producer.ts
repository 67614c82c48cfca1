import { InjectQueue } from '@nestjs/bull';
import { Inject, Injectable, Logger } from '@nestjs/common';
import type { Queue } from 'bull';
import { EXPORT_JOB, EXPORT_QUEUE } from '../export.constants';
import { EXPORT_RESOLVED_OPTIONS } from '../export.internal-constants';
import { ExportQueueUnavailableException } from '../exceptions/export.exception';
import type { ResolvedExportOptions } from '../options/export-module-options.interface';
import type { ExportJobData } from './export-job.interface';

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

  /** @internal The queue, for the worker and for tests that wait on it. */
  getQueue(): Queue<ExportJobData> {
    return this.queue;
  }
}
