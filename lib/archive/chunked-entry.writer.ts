import { createHash, Hash } from 'node:crypto';
import { PassThrough } from 'node:stream';

/** Bytes gathered before one write to the archive. */
export const ARCHIVE_CHUNK_BYTES = 64 * 1024;

/**
 * Writes text to an archive entry in chunks of about 64 KiB (one write per row costs several
 * times as much), hashing and counting what it writes, and waiting when the archive lags.
 * @internal
 */
export class ChunkedEntryWriter {
  readonly stream = new PassThrough({ highWaterMark: 4 * ARCHIVE_CHUNK_BYTES });
  private readonly hash: Hash = createHash('sha256');
  private pending = '';
  private bytesWritten = 0;

  /** Buffers text; returns `true` when a chunk is full and `flush()` should be awaited. */
  append(text: string): boolean {
    this.pending += text;
    return this.pending.length >= ARCHIVE_CHUNK_BYTES;
  }

  /** Appends text and flushes when a chunk is full. */
  async write(text: string): Promise<void> {
    if (this.append(text)) await this.flush();
  }

  /** Flushes the rest, ends the entry and returns its size and sha256. */
  async end(): Promise<{ bytes: number; sha256: string }> {
    await this.flush();
    this.stream.end();
    return { bytes: this.bytesWritten, sha256: this.hash.digest('hex') };
  }

  /**
   * Writes the buffered text as one chunk, waiting while the archive lags. It then yields to the
   * event loop even when the archive takes more: compression runs on the thread pool, and its
   * completions are handled while the next chunk is prepared rather than after a long
   * synchronous stretch, so that serializing and compressing overlap.
   */
  async flush(): Promise<void> {
    if (this.pending.length === 0) return;
    const chunk = Buffer.from(this.pending, 'utf8');
    this.pending = '';
    this.hash.update(chunk);
    this.bytesWritten += chunk.length;
    if (!this.stream.write(chunk)) await this.drained();
    else await new Promise<void>((resolve) => setImmediate(resolve));
  }

  /** Waits for 'drain' (or 'close', when the archive gave up), leaving no listener behind. */
  private drained(): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        this.stream.off('drain', done);
        this.stream.off('close', done);
        resolve();
      };
      this.stream.on('drain', done);
      this.stream.on('close', done);
    });
  }
}
