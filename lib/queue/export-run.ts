import { ExportProcessingError } from '../common/export.error';
import { ExportMessages } from '../common/export.messages';

/** Thrown inside a run when the worker shuts down: the export is retried per `attempts`. @internal */
export class ExportInterruptedSignal extends ExportProcessingError {
  constructor() {
    super(ExportMessages.workerShutDown());
  }
}

/**
 * One run's stop switch. Anything that must end the run from outside its call chain (the
 * storage rejected, nothing moved for `stallTimeoutMs`, the worker shuts down) aborts it; every
 * wait of the run is raced against it (`guard`), and the archive writers stop on its `signal`.
 * A watchdog aborts the run when `moved()` was not called for `stallTimeoutMs`.
 * @internal
 */
export class ExportRun {
  private readonly controller = new AbortController();
  private readonly aborted: Promise<never>;
  private lastMove = Date.now();
  private readonly watchdog: NodeJS.Timeout;

  constructor(private readonly stallTimeoutMs: number) {
    this.aborted = new Promise<never>((_, reject) => {
      this.controller.signal.addEventListener('abort', () => reject(this.controller.signal.reason), { once: true });
    });
    this.aborted.catch(() => undefined);
    const tick = Math.max(50, Math.min(1000, Math.floor(stallTimeoutMs / 4)));
    this.watchdog = setInterval(() => {
      if (Date.now() - this.lastMove >= this.stallTimeoutMs) {
        this.abort(new ExportProcessingError(ExportMessages.runStalled(Math.round(this.stallTimeoutMs / 1000))));
      }
    }, tick);
    this.watchdog.unref();
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** The reason the run was aborted with, if it was. */
  get reason(): Error | undefined {
    return this.signal.aborted ? (this.signal.reason as Error) : undefined;
  }

  /** Records progress (rows read, bytes taken by the storage): the watchdog starts over. */
  moved(): void {
    this.lastMove = Date.now();
  }

  /** Aborts the run; the first reason wins. */
  abort(reason: Error): void {
    if (!this.signal.aborted) this.controller.abort(reason);
  }

  /** `work`, or the abort's reason as soon as the run is aborted. */
  guard<T>(work: Promise<T>): Promise<T> {
    return Promise.race([work, this.aborted]);
  }

  /** Ends the watchdog. */
  end(): void {
    clearInterval(this.watchdog);
  }
}
