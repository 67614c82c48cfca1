import type { Readable } from 'node:stream';
import { failureReason } from '../common/failure-reason.util';

/** The watchdog's own failure: a file source that let `ms` pass without a byte. @internal */
export class FileReadError extends Error {}

/** Reads a file's stream chunk by chunk, each within `ms` (else a FileReadError), until the signal aborts. @internal */
export class WatchedReader {
  private readonly iterator: AsyncIterator<unknown>;
  constructor(
    private readonly stream: Readable,
    private readonly ms: number,
    private readonly signal?: AbortSignal,
  ) {
    this.iterator = stream[Symbol.asyncIterator]();
  }

  async next(): Promise<Buffer | undefined> {
    const { done, value } = await withStall(this.iterator.next(), this.ms, this.signal);
    if (done) return undefined;
    return Buffer.isBuffer(value) ? value : Buffer.from(value as string);
  }

  close(): void {
    if (!this.stream.destroyed) this.stream.destroy();
  }
}

/** @internal `work`, or a rejection when it takes longer than `ms` or the signal aborts. */
export function withStall<T>(work: Promise<T>, ms: number, signal?: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => done(() => reject(signal!.reason as Error));
    const timer = setTimeout(() => done(() => reject(new FileReadError(`nothing arrived for ${ms} ms (stalled)`))), ms);
    const done = (then: () => void) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      then();
    };
    if (signal?.aborted) return onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => done(() => resolve(value)),
      (err: unknown) => done(() => reject(err)),
    );
  });
}

/**
 * Why a file could not be read, safe for the manifest: our own watchdog's words, else only the
 * error's class and code (the host's message may quote a path, a bucket or a credential).
 */
export function messageOf(err: unknown): string {
  return err instanceof FileReadError ? err.message : failureReason(err);
}
