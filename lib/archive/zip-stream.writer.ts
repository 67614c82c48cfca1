import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { promisify } from 'node:util';
import * as zlib from 'node:zlib';
import {
  CentralEntry,
  centralEntry,
  dosDateTime,
  endRecords,
  FLAGS,
  METHOD_DEFLATE,
  METHOD_STORE,
  VERSION_DEFAULT,
  VERSION_ZIP64,
  ZIP64_LIMIT,
} from './zip-records';

export { ZIP_ENTRY_DATE } from './zip-records';

const deflateRaw = promisify(zlib.deflateRaw) as (data: Buffer, options: zlib.ZlibOptions) => Promise<Buffer>;

/** Bytes of an entry deflated as one block. */
const BLOCK_BYTES = 1024 * 1024;
/**
 * Blocks deflated at once on the thread pool. Two keep a second core busy while the first block
 * finishes; four competed with the database on two cores and were slower (1M-row bench: 86k
 * rows/s with four, 103k with two, 92–97k with one stream).
 */
const BLOCKS_IN_FLIGHT = 2;
/** Deflate's window: each block starts with the previous block's last 32 KiB as its dictionary. */
const WINDOW_BYTES = 32 * 1024;
/**
 * Output buffer of a block's deflate. zlib's default of 16 KiB sent each block back to the main
 * thread about fifteen times; two of these hold a block's output on text. 512 KiB (one round trip)
 * was no faster and left more garbage for the collector.
 */
const OUTPUT_CHUNK_BYTES = 128 * 1024;
/**
 * How an entry is written: `store` keeps its bytes as they are (method 0, for files already
 * compressed); `zip64` declares it ZIP64 in its local header (an extra field with both sizes,
 * which follow in a 64-bit data descriptor), for an entry that is or may be 4 GiB or more.
 * @internal
 */
export interface ZipEntryOptions {
  readonly store?: boolean;
  readonly zip64?: boolean;
}

/** An entry being streamed: write its bytes in order, then end it. @internal */
export interface ZipEntryStream {
  write(chunk: Buffer): Promise<void>;
  end(): Promise<void>;
}


/**
 * A streaming ZIP writer that deflates each entry in independent 1 MiB blocks, two at once on the
 * thread pool (the scheme of pigz): each block is raw-deflated with the previous 32 KiB as its
 * dictionary and ends on a sync flush, so the blocks join into one valid deflate stream that
 * compresses as well as one stream does, while deflate uses a second core. Entries carry a data
 * descriptor (their sizes are known only at the end) and a CRC-32 from `zlib.crc32`. Sizes and
 * offsets past 4 GiB are written in ZIP64 fields, and the ZIP64 end records follow when the
 * central directory needs them. `zip64Limit` lowers that threshold, for tests.
 * @internal
 */
export class ZipStreamWriter {
  private offset = 0;
  private readonly entries: CentralEntry[] = [];
  private busy = false;
  /**
   * The block buffers, reused for every block of every entry: one is filled while the others
   * are deflated. Allocating a fresh megabyte per block made V8 run a full garbage collection
   * every few blocks under external-memory pressure, once a worker had run its first export.
   */
  private readonly blocks: Buffer[] = [];
  private nextBlock = 0;

  constructor(
    private readonly out: Writable,
    private readonly options: { level: number; memLevel?: number; zip64Limit?: number; signal?: AbortSignal },
  ) {}

  /** Adds an entry whose content is in memory. */
  async addBuffer(name: string, data: Buffer, date: Date): Promise<void> {
    const entry = this.openEntry(name, date);
    await entry.write(data);
    await entry.end();
  }

  /** Starts a streamed entry; entries are written one at a time. */
  openEntry(name: string, date: Date, entryOptions: ZipEntryOptions = {}): ZipEntryStream {
    if (this.busy) throw new Error('A ZIP entry is still open');
    this.busy = true;
    const nameBytes = Buffer.from(name, 'utf8');
    const stamp = dosDateTime(date);
    const start = this.offset;
    const limit = this.options.zip64Limit ?? ZIP64_LIMIT;
    let header: Promise<void> | undefined;
    let block = this.takeBlock();
    let filled = 0;
    // The last 32 KiB written, copied: the dictionary of the next block.
    const tail = Buffer.allocUnsafe(WINDOW_BYTES);
    let tailBytes = 0;
    let crc = 0;
    let size = 0;
    let compressed = 0;
    const inFlight: Promise<Buffer>[] = [];
    const store = entryOptions.store === true;
    const method = store ? METHOD_STORE : METHOD_DEFLATE;
    const declared64 = entryOptions.zip64 === true;

    const writeHeader = () => {
      const local = Buffer.alloc(30);
      local.writeUInt32LE(0x04034b50, 0);
      local.writeUInt16LE(declared64 ? VERSION_ZIP64 : VERSION_DEFAULT, 4);
      local.writeUInt16LE(FLAGS, 6);
      local.writeUInt16LE(method, 8);
      local.writeUInt16LE(stamp.time, 10);
      local.writeUInt16LE(stamp.date, 12);
      // crc and sizes stay 0 here: they follow the data, in the descriptor. A ZIP64 entry says
      // so with 0xFFFFFFFF sizes and an extra field whose two sizes (0) the descriptor gives.
      if (declared64) {
        local.writeUInt32LE(ZIP64_LIMIT, 18);
        local.writeUInt32LE(ZIP64_LIMIT, 22);
      }
      local.writeUInt16LE(nameBytes.length, 26);
      const extra = Buffer.alloc(declared64 ? 20 : 0);
      if (declared64) {
        extra.writeUInt16LE(0x0001, 0);
        extra.writeUInt16LE(16, 2);
        local.writeUInt16LE(extra.length, 28);
      }
      return this.emit(Buffer.concat([local, nameBytes, extra]));
    };
    const drainTo = async (most: number) => {
      while (inFlight.length > most) {
        const out = await inFlight.shift()!;
        compressed += out.length;
        await this.emit(out);
      }
    };
    const submit = async (final: boolean) => {
      const data = block.subarray(0, filled);
      crc = zlib.crc32(data, crc);
      size += data.length;
      // zlib copies the dictionary when the stream is created, so `tail` can change after this.
      const deflated = deflateRaw(data, {
        level: this.options.level,
        memLevel: this.options.memLevel ?? 8,
        chunkSize: OUTPUT_CHUNK_BYTES,
        finishFlush: final ? zlib.constants.Z_FINISH : zlib.constants.Z_SYNC_FLUSH,
        ...(tailBytes > 0 ? { dictionary: tail.subarray(0, tailBytes) } : {}),
      });
      // Awaited in order by drainTo; this keeps a failure from going unhandled meanwhile.
      deflated.catch(() => undefined);
      inFlight.push(deflated);
      // Every block but an entry's last is full: its last 32 KiB prime the next one.
      if (!final) tailBytes = data.copy(tail, 0, filled - WINDOW_BYTES);
      // The buffer just submitted stays untouched until its deflate is awaited.
      block = this.takeBlock();
      filled = 0;
      await drainTo(final ? 0 : BLOCKS_IN_FLIGHT - 1);
    };
    return {
      write: async (chunk: Buffer) => {
        await (header ??= writeHeader());
        if (store) {
          if (chunk.length === 0) return;
          crc = zlib.crc32(chunk, crc);
          size += chunk.length;
          compressed += chunk.length;
          return this.emit(chunk);
        }
        for (let at = 0; at < chunk.length; ) {
          const copied = chunk.copy(block, filled, at);
          filled += copied;
          at += copied;
          if (filled === BLOCK_BYTES) await submit(false);
        }
      },
      end: async () => {
        await (header ??= writeHeader());
        if (!store) await submit(true);
        const zip64 = declared64 || size >= limit || compressed >= limit;
        const descriptor = Buffer.alloc(zip64 ? 24 : 16);
        descriptor.writeUInt32LE(0x08074b50, 0);
        descriptor.writeUInt32LE(crc >>> 0, 4);
        if (zip64) {
          descriptor.writeBigUInt64LE(BigInt(compressed), 8);
          descriptor.writeBigUInt64LE(BigInt(size), 16);
        } else {
          descriptor.writeUInt32LE(compressed, 8);
          descriptor.writeUInt32LE(size, 12);
        }
        await this.emit(descriptor);
        this.entries.push({ name: nameBytes, stamp, crc: crc >>> 0, compressed, size, offset: start, method, zip64: declared64 });
        this.busy = false;
      },
    };
  }

  /** Writes the central directory (with ZIP64 records when needed) and ends the output. */
  async finalize(): Promise<void> {
    if (this.busy) throw new Error('A ZIP entry is still open');
    const limit = this.options.zip64Limit ?? ZIP64_LIMIT;
    const start = this.offset;
    for (const e of this.entries) await this.emit(centralEntry(e, limit));
    await this.emit(endRecords({ start, size: this.offset - start, count: this.entries.length, offset: this.offset }, limit));
    this.out.end();
  }

  /**
   * The next block buffer of the ring. With at most BLOCKS_IN_FLIGHT - 1 blocks deflating once a
   * block is submitted, the buffer returned is never one still being read.
   */
  private takeBlock(): Buffer {
    const i = this.nextBlock;
    this.nextBlock = (i + 1) % BLOCKS_IN_FLIGHT;
    return (this.blocks[i] ??= Buffer.allocUnsafe(BLOCK_BYTES));
  }

  /** Writes to the output, waiting while it lags; an output that was destroyed or a run aborted stops the wait. */
  private async emit(data: Buffer): Promise<void> {
    const { signal } = this.options;
    signal?.throwIfAborted();
    if (this.out.destroyed) throw this.out.errored ?? new Error('The archive output was closed');
    this.offset += data.length;
    if (!this.out.write(data)) await once(this.out, 'drain', signal ? { signal } : {});
  }
}
