import { InjectQueue } from '@nestjs/bull';
import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import type { Queue } from 'bull';
import { EXPORT_JOB, EXPORT_QUEUE } from '../export.constants';
import { EXPORT_RESOLVED_OPTIONS } from '../export.internal-constants';
import type { ResolvedExportOptions } from '../options/export-module-options.interface';
import type { ExportJobData } from './export-job.interface';
import { ExportProcessor } from './export.processor';

/**
 * Starts consuming export jobs once the application has booted, with the configured
 * concurrency. Registered only when `worker` is not `false`. Bull's `queue.process` is called
 * here rather than through `@Process()` so that concurrency is an option, not a constant.
 * @internal
 */
@Injectable()
export class ExportWorker implements OnApplicationBootstrap {
  private readonly logger = new Logger('ExportWorker');

  constructor(
    @InjectQueue(EXPORT_QUEUE) private readonly queue: Queue<ExportJobData>,
    @Inject(EXPORT_RESOLVED_OPTIONS) private readonly options: ResolvedExportOptions,
    private readonly processor: ExportProcessor,
  ) {}

  onApplicationBootstrap(): void {
    this.queue
      .process(EXPORT_JOB, this.options.concurrency, (job) => this.processor.process(job))
      .catch((err: Error) => this.logger.error(`Export worker stopped: ${err.name}`));
  }
}
