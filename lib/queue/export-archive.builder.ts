import { Inject, Injectable, Logger } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import type { Job } from 'bull';
import { DataSource, Repository } from 'typeorm';
import { ArchiveWriter } from '../archive/archive.writer';
import { writerFor } from '../archive/archive-formats';
import { ExportClock } from '../common/export.clock';
import { DataExport } from '../entities/data-export.entity';
import { ExportStatus } from '../common/export-status.enum';
import { ExportError } from '../common/export.error';
import { describeFailure } from '../common/failure-reason.util';
import { EXPORT_DATA_SOURCE, EXPORT_RESOLVED_OPTIONS } from '../common/export.internal-constants';
import type { ResolvedExportOptions } from '../options/export-module-options.interface';
import type { PlannedCategory } from '../metadata/export-category.interface';
import { ExportRegistry } from '../metadata/export.registry';
import { ExportLinkSigner } from '../crypto/export-link.signer';
import { ExportNotifier } from '../notifier/export.notifier';
import { recipientOf, requesterOf, toExportView } from '../lifecycle/export-view.util';
import { subjectOf } from '../lifecycle/export-slot.util';
import { ExportEvents } from '../lifecycle/export-events';
import { createEntitySource } from '../source/create-entity-source';
import { ExportSource } from '../source/export-source';
import { notifySafely } from '../common/notify-safely.util';
import { ExportStore } from '../lifecycle/export.store';
import { ArchiveStore, ArchiveUpload } from '../storage/archive.store';
import type { ExportJobData } from './export-job.interface';
import { ExportInterruptedSignal, ExportRun } from './export-run';
import { settleWithin } from '../common/timeout.util';

const noop = (): void => undefined;

/**
 * How long a stopped run's writer, storage and clean-up may take to wind down before the run
 * gives up on them (the source's connection is then destroyed, which ends any read still going).
 */
const WIND_DOWN_MS = 5000;
/** How long a storage whose body was destroyed may take to settle its `put` and a `delete`. */
const STORAGE_WIND_DOWN_MS = 2000;

/** Thrown inside a run when the export left `processing` (cancelled): stops without retry. */
class ExportStoppedSignal extends Error {}

/**
 * Builds one export's archive: reads every category of the account from one snapshot, writes
 * the archive to storage atomically, and records the result. A failure is recorded without row
 * data or secrets, the partial file is removed, and Bull retries per the `attempts` option.
 * @internal
 */
@Injectable()
export class ExportArchiveBuilder {
  private readonly logger = new Logger('ExportArchiveBuilder');
  /** Runs in progress in this process, with the promise that settles when each has wound down. */
  private readonly runs = new Map<ExportRun, Promise<void>>();

  constructor(
    @Inject(EXPORT_DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(EXPORT_RESOLVED_OPTIONS) private readonly options: ResolvedExportOptions,
    private readonly registry: ExportRegistry,
    private readonly notifier: ExportNotifier,
    private readonly links: ExportLinkSigner,
    private readonly events: ExportEvents,
    private readonly clock: ExportClock,
    private readonly archives: ArchiveStore,
    private readonly store: ExportStore,
  ) {}

  private get repo(): Repository<DataExport> {
    return this.dataSource.getRepository(DataExport);
  }

  /**
   * Runs one delivery of an export job. Bull can deliver a job twice (its lock lapsed while the
   * first run was alive and stalled, e.g. a Redis outage), so each run takes a fencing token:
   * its own storage key, `<id>.<run>.<ext>`, written to the row as it starts. Every later update
   * of the run (progress, completion, failure) applies only while the row still holds that key,
   * so a run that was overtaken stops at its next batch and removes its own file, and two runs
   * never write the same object. The run that starts also removes what a previous run of the
   * export left behind (a worker killed mid-write).
   */
  async process(job: Job<ExportJobData>): Promise<void> {
    const { exportId } = job.data;
    const before = await this.repo.findOneBy({ id: exportId });
    if (!before) {
      this.logger.log(`Export ${exportId} no longer exists; job skipped`);
      return;
    }
    const writer = writerFor(before.format);
    const storageKey = `${exportId}.${randomBytes(6).toString('hex')}.${writer.extension}`;
    const started = await this.store.start(exportId, {
      startedAt: this.clock.now(),
      heartbeatAt: this.clock.now(),
      error: null,
      attempts: job.attemptsMade + 1,
      storageKey,
    });
    if (!started) {
      this.logger.log(`Export ${exportId} is no longer queued; job skipped`);
      return;
    }
    // A storage that does not answer must not hold the run: what is left is removed later.
    if (before.storageKey) await settleWithin(this.archives.delete(before.storageKey), WIND_DOWN_MS);
    const row = await this.repo.findOneByOrFail({ id: exportId });
    this.events.emit('status', row);
    const progress = { category: undefined as string | undefined };
    const run = new ExportRun(this.options.stallTimeoutMs);
    let wound!: () => void;
    this.runs.set(run, new Promise<void>((resolve) => (wound = resolve)));
    try {
      await this.build(row, job, progress, writer, storageKey, run);
    } catch (err) {
      await this.fail(row, job, err, storageKey, progress.category);
      if (err instanceof ExportStoppedSignal) return;
      throw err instanceof ExportError ? err : new ExportError(describeFailure(err, progress.category));
    } finally {
      run.end();
      this.runs.delete(run);
      wound();
    }
  }

  /**
   * Stops the runs in progress in this process (the worker shuts down): each fails its attempt
   * with `ExportInterruptedSignal`, removes its file and frees the connection it read from, and
   * Bull retries it per `attempts`. Resolves once they have wound down.
   */
  async interrupt(): Promise<void> {
    const running = [...this.runs.values()];
    for (const run of this.runs.keys()) run.abort(new ExportInterruptedSignal());
    await Promise.all(running);
  }

  /** Resolves when no run is in progress in this process. */
  async idle(): Promise<void> {
    while (this.runs.size > 0) await Promise.all([...this.runs.values()]);
  }

  /** Whether a run is in progress in this process. */
  get busy(): boolean {
    return this.runs.size > 0;
  }

  /**
   * Builds and stores the archive. The writer and the storage run side by side: the writer
   * feeds the storage's body, so each can stop the other. A storage that rejects (or resolves
   * before the archive is written), nothing moving for `stallTimeout`, or a shutdown aborts the
   * run at once, whatever the writer was waiting for; the body is destroyed, the writer's reads
   * are returned (a COPY is cancelled) within a bounded wait, the run's object is deleted, and
   * a connection that may still be busy is destroyed rather than returned to the pool.
   */
  private async build(
    row: DataExport,
    job: Job<ExportJobData>,
    progress: { category?: string },
    writer: ArchiveWriter,
    storageKey: string,
    run: ExportRun,
  ): Promise<void> {
    const categories = this.selectCategories(row);
    const subject = subjectOf(row);
    const filters = row.filters ?? {};
    // The entity source's own watchdog (which names the category) acts before the run's.
    const stallTimeoutMs = Math.floor((this.options.stallTimeoutMs * 3) / 4);
    const entities = createEntitySource({ dataSource: this.dataSource, subject, filters, batchSize: this.options.batchSize, stallTimeoutMs });
    const source = new ExportSource(entities, subject, filters);
    // The run's fencing token: every update below applies only while the row still holds it.
    const fence = { storageKey };
    let failed = true;
    let writing: Promise<unknown> | undefined;
    let upload: ArchiveUpload | undefined;
    try {
      await run.guard(source.open());
      let estimated = 0;
      for (const category of categories) {
        progress.category = category.name;
        estimated += await run.guard(source.count(category));
        run.moved();
      }
      await run.guard(this.store.estimate(row.id, fence, { rowsEstimated: estimated, rowsDone: 0, percent: 0 }));

      let done = 0;
      let lastReport = 0;
      // Each batch records progress with a conditional update: it is also the heartbeat, and
      // finding the export no longer processing (cancelled) stops the run at this batch.
      const onBatch = async (category: PlannedCategory, rows: number): Promise<void> => {
        run.signal.throwIfAborted();
        run.moved();
        done += rows;
        progress.category = category.name;
        const percent = estimated > 0 ? Math.min(99, Math.floor((done / estimated) * 100)) : 0;
        const still = await this.store.progress(row.id, fence, {
          rowsDone: done,
          percent,
          currentCategory: category.name,
          heartbeatAt: this.clock.now(),
        });
        if (!still) throw new ExportStoppedSignal();
        if (Date.now() - lastReport >= this.options.progressIntervalMs) {
          lastReport = Date.now();
          this.events.emit('progress', { ...row, status: ExportStatus.Processing, rowsDone: done, rowsEstimated: estimated, percent, currentCategory: category.name });
          // Bull's progress is a courtesy (the row holds the real one): a Redis hiccup, or the
          // queue closing under a running job, must not fail the export.
          await job.progress(percent).catch(() => undefined);
        }
      };

      // Each chunk the storage takes is progress; its failure stops the run at once.
      upload = this.archives.upload(row.id, storageKey, () => run.moved());
      upload.stored.catch((err: Error) => run.abort(err));
      const exportedAt = this.clock.now();
      writing = writer.write(
        {
          exportRow: row,
          categories,
          source,
          batchSize: this.options.batchSize,
          exportedAt,
          compressionLevel: this.options.compressionLevel,
          signal: run.signal,
          onCategory: (category) => (progress.category = category.name),
          onBatch,
          notIncluded: this.registry.getNotIncluded(categories.map((c) => c.name), row.kind === 'personal'),
          about: this.options.about,
          csv: this.options.csv,
          signing: this.options.signing,
        },
        upload.input,
      );
      writing.catch(noop);
      const summaries = await run.guard(writing as Promise<Awaited<ReturnType<ArchiveWriter['write']>>>);
      progress.category = undefined;
      const archive = await run.guard(upload.stored);
      const completedAt = this.clock.now();
      const completed = await this.store.complete(row.id, fence, {
        completedAt,
        expiresAt: new Date(completedAt.getTime() + this.options.downloadTtlMs),
        storageKey,
        encryption: archive.encryption,
        size: archive.size,
        sha256: archive.sha256,
        counts: Object.fromEntries(summaries.map((s) => [s.name, s.rows])),
        rowsDone: done,
        percent: 100,
        currentCategory: null,
        heartbeatAt: completedAt,
      });
      if (!completed) throw new ExportStoppedSignal();
      failed = false;
      this.logger.log(`Export ${row.id} completed: ${done} rows, ${archive.size} bytes`);
      // Announced before the reader's connection is given back: whoever sees `completed` also
      // finds the ready notification sent.
      const finished = await this.repo.findOneByOrFail({ id: row.id });
      this.events.emit('status', finished);
      await notifySafely(this.logger, () => this.notifier.ready(toExportView(finished), this.links.downloadUrl(finished), recipientOf(finished)));
    } catch (err) {
      // The export is complete and its archive stored: nothing to undo.
      if (!failed) throw err;
      // The archive's output closed under the writer: the storage gave up on its body, and its
      // rejection (which aborts the run with the storage's reason) is the cause.
      if (!run.reason && upload?.input.destroyed) await settleWithin(upload.stored, STORAGE_WIND_DOWN_MS);
      // An abort's reason is the cause; what the writer threw then is only its consequence.
      const cause = run.reason ?? err;
      run.abort(cause as Error);
      upload?.destroy(cause as Error);
      await settleWithin(writing, WIND_DOWN_MS);
      await settleWithin(upload?.stored, STORAGE_WIND_DOWN_MS);
      // Nothing half-written stays: a storage is not trusted to have removed its partial object.
      await settleWithin(this.archives.delete(storageKey), STORAGE_WIND_DOWN_MS);
      throw cause;
    } finally {
      await source.close(failed);
    }
  }

  private selectCategories(row: DataExport): PlannedCategory[] {
    // A personal export reads only the categories about one member.
    const all = this.registry.getPlannedCategories().filter((c) => row.kind !== 'personal' || c.personal);
    const wanted = row.filters?.categories;
    return wanted && wanted.length > 0 ? all.filter((c) => wanted.includes(c.name)) : [...all];
  }

  private async fail(row: DataExport, job: Job<ExportJobData>, err: unknown, storageKey: string, category?: string): Promise<void> {
    if (err instanceof ExportStoppedSignal) {
      // Cancelled (or overtaken by a later run, whose key stays): this run's file is gone.
      await this.store.forgetFile(row.id, storageKey).catch(() => undefined);
      this.logger.log(`Export ${row.id} stopped: it left the processing state`);
      return;
    }
    const message = describeFailure(err, category);
    const attempts = job.opts.attempts ?? 1;
    const final = job.attemptsMade + 1 >= attempts;
    this.logger.error(`Export ${row.id} failed (attempt ${job.attemptsMade + 1} of ${attempts}): ${message}`);
    const moved = await this.store
      .endRun(row, [ExportStatus.Processing], { storageKey }, { retry: !final, set: { error: message, storageKey: null } })
      .catch(() => false);
    if (moved && final) {
      await notifySafely(this.logger, () => this.notifier.failed(toExportView({ ...row, status: ExportStatus.Failed, error: message }), requesterOf(row)));
    }
  }
}
