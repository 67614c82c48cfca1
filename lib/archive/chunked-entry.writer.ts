import { createHash, Hash } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { ARCHIVE_CHUNK_BYTES } from '../source/category-source';


/** An owned buffer at least this large is queued without a copy (see `appendBytes`). */
const OWNED_MIN_BYTES = 8 * 1024;

/** Room of one chunk buffer: a chunk is sent once it holds ARCHIVE_CHUNK_BYTES. */
const CHUNK_CAPACITY = 2 * ARCHIVE_CHUNK_BYTES;

/**
 * Writes text to an archive entry in chunks of about 64 KiB (one write per row costs several
 * times as much), hashing and counting what it writes, and waiting when the archive lags. Text
 * is encoded straight into the chunk's buffer: no joined string is built and copied again.
 * @internal
 */
export class ChunkedEntryWriter {
  readonly stream = new PassThrough({ highWaterMark: 4 * ARCHIVE_CHUNK_BYTES });

  /** `signal` stops a writer waiting for the archive: `flush()` then rejects with its reason. */
  constructor(private readonly signal?: AbortSignal) {}

  private readonly hash: Hash = createHash('sha256');
  private chunk = Buffer.allocUnsafe(CHUNK_CAPACITY);
  private used = 0;
  /** Chunks ready to be written: filled ones, and text too long for a chunk of its own. */
  private ready: Buffer[] = [];
  private bytesWritten = 0;

  /** Buffers `before + text + after`; returns `true` when a chunk is full and `flush()` should be awaited. */
  append(text: string, before = '', after = ''): boolean {
    // UTF-8 takes at most 3 bytes per UTF-16 code unit.
    const most = 3 * (before.length + text.length + after.length);
    if (this.used + most > this.chunk.length) this.seal();
    if (most > this.chunk.length) {
      this.ready.push(Buffer.from(before + text + after, 'utf8'));
    } else {
      if (before) this.used += this.chunk.write(before, this.used);
      this.used += this.chunk.write(text, this.used);
      if (after) this.used += this.chunk.write(after, this.used);
    }
    return this.used >= ARCHIVE_CHUNK_BYTES || this.ready.length > 0;
  }

  /**
   * Buffers bytes that are already UTF-8; returns `true` when `flush()` should be awaited. A
   * buffer of a chunk's size or more, or one that the caller hands over (`owned`: it will not
   * change it), is queued as it is; smaller ones are copied into the chunk being filled.
   */
  appendBytes(bytes: Buffer, owned = false): boolean {
    if (bytes.length >= ARCHIVE_CHUNK_BYTES || (owned && bytes.length >= OWNED_MIN_BYTES)) {
      this.seal();
      this.ready.push(bytes);
    } else {
      if (this.used + bytes.length > this.chunk.length) this.seal();
      this.used += bytes.copy(this.chunk, this.used);
    }
    return this.used >= ARCHIVE_CHUNK_BYTES || this.ready.length > 0;
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
   * Writes the buffered chunks, waiting while the archive lags. It then yields to the event loop
   * even when the archive takes more: compression runs on the thread pool, and its completions
   * are handled while the next chunk is prepared rather than after a long synchronous stretch,
   * so that serializing and compressing overlap.
   */
  async flush(): Promise<void> {
    this.signal?.throwIfAborted();
    this.seal();
    const chunks = this.ready;
    if (chunks.length === 0) return;
    this.ready = [];
    let lagging = false;
    for (const chunk of chunks) {
      this.hash.update(chunk);
      this.bytesWritten += chunk.length;
      lagging = !this.stream.write(chunk);
    }
    if (lagging) await this.drained();
    else await new Promise<void>((resolve) => setImmediate(resolve));
  }

  /** Moves the chunk being filled to the ready list and starts a new one. */
  private seal(): void {
    if (this.used === 0) return;
    this.ready.push(this.chunk.subarray(0, this.used));
    this.chunk = Buffer.allocUnsafe(CHUNK_CAPACITY);
    this.used = 0;
  }

  /**
   * Waits until the archive has taken what is buffered: resolves on 'drain' (at once when it
   * came already), rejects when the stream closes without draining (the archive gave up) or the
   * run is aborted. It leaves no listener behind.
   */
  private drained(): Promise<void> {
    const stream = this.stream;
    if (stream.destroyed) return Promise.reject(stream.errored ?? new Error('The archive entry was closed'));
    if (!stream.writableNeedDrain) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const settle = (err?: Error) => {
        stream.off('drain', onDrain);
        stream.off('close', onClose);
        this.signal?.removeEventListener('abort', onAbort);
        if (err) reject(err);
        else resolve();
      };
      const onDrain = () => settle();
      const onClose = () => settle(stream.errored ?? new Error('The archive entry was closed'));
      const onAbort = () => settle(this.signal!.reason as Error);
      stream.on('drain', onDrain);
      stream.on('close', onClose);
      this.signal?.addEventListener('abort', onAbort, { once: true });
      if (this.signal?.aborted) onAbort();
    });
  }
}
