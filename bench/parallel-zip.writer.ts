/**
 * A minimal streaming ZIP writer whose entries are deflated in independent blocks on the libuv
 * thread pool, several at a time (the pigz scheme): each block is raw-deflated with the previous
 * 32 KiB as its dictionary and ends on a sync flush, so the blocks concatenate into one valid
 * deflate stream. Used by the bench's `--experiments` only, to measure what deflating on both
 * cores would give; the library uses archiver.
 */
import { promisify } from 'node:util';
import type { Writable } from 'node:stream';
import { once } from 'node:events';
import * as zlib from 'node:zlib';

const deflateRaw = promisify(zlib.deflateRaw) as (buf: Buffer, opts: zlib.ZlibOptions) => Promise<Buffer>;
const WINDOW = 32 * 1024;

interface CentralEntry {
  name: Buffer;
  crc: number;
  compressed: number;
  size: number;
  offset: number;
  method: number;
}

function dosDateTime(d: Date): { time: number; date: number } {
  return {
    time: (d.getHours() << 11) | (d.getMinutes() << 5) | (d.getSeconds() >> 1),
    date: ((d.getFullYear() - 1980) << 9) | ((d.getMonth() + 1) << 5) | d.getDate(),
  };
}

export class ParallelZipWriter {
  private offset = 0;
  private readonly entries: CentralEntry[] = [];
  private current?: { name: Buffer; offset: number; crc: number; size: number; compressed: number };
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private previousTail: Buffer = Buffer.alloc(0);
  private readonly queue: Promise<Buffer>[] = [];
  private readonly stamp = dosDateTime(new Date());

  constructor(
    private readonly out: Writable,
    private readonly level: number,
    private readonly inflight = 4,
    private readonly blockBytes = 1024 * 1024,
  ) {}

  private async emit(buf: Buffer): Promise<void> {
    this.offset += buf.length;
    if (!this.out.write(buf)) await once(this.out, 'drain');
  }

  /** Starts an entry (sizes and crc follow in a data descriptor). */
  async begin(name: string): Promise<void> {
    const n = Buffer.from(name, 'utf8');
    const h = Buffer.alloc(30);
    h.writeUInt32LE(0x04034b50, 0);
    h.writeUInt16LE(20, 4); // version needed
    h.writeUInt16LE(0x0808, 6); // data descriptor + UTF-8 names
    h.writeUInt16LE(8, 8); // deflate
    h.writeUInt16LE(this.stamp.time, 10);
    h.writeUInt16LE(this.stamp.date, 12);
    h.writeUInt16LE(n.length, 26);
    this.current = { name: n, offset: this.offset, crc: 0, size: 0, compressed: 0 };
    this.previousTail = Buffer.alloc(0);
    await this.emit(Buffer.concat([h, n]));
  }

  /** Adds bytes to the entry; waits when the blocks in flight are at the limit. */
  async write(chunk: Buffer): Promise<void> {
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    if (this.pendingBytes >= this.blockBytes) await this.submit(false);
  }

  private async submit(final: boolean): Promise<void> {
    const block = this.pending.length === 1 ? this.pending[0] : Buffer.concat(this.pending, this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    const cur = this.current!;
    cur.crc = zlib.crc32(block, cur.crc);
    cur.size += block.length;
    const options: zlib.ZlibOptions = {
      level: this.level,
      finishFlush: final ? zlib.constants.Z_FINISH : zlib.constants.Z_SYNC_FLUSH,
      ...(this.previousTail.length ? { dictionary: this.previousTail } : {}),
    };
    this.previousTail = block.length >= WINDOW ? block.subarray(block.length - WINDOW) : Buffer.concat([this.previousTail, block]).subarray(-WINDOW);
    this.queue.push(deflateRaw(block, options));
    while (this.queue.length >= (final ? 1 : this.inflight)) {
      const out = await this.queue.shift()!;
      cur.compressed += out.length;
      await this.emit(out);
    }
  }

  /** Ends the entry: the last block, then the data descriptor. */
  async end(): Promise<void> {
    await this.submit(true);
    const cur = this.current!;
    const d = Buffer.alloc(16);
    d.writeUInt32LE(0x08074b50, 0);
    d.writeUInt32LE(cur.crc >>> 0, 4);
    d.writeUInt32LE(cur.compressed, 8);
    d.writeUInt32LE(cur.size, 12);
    await this.emit(d);
    this.entries.push({ name: cur.name, crc: cur.crc, compressed: cur.compressed, size: cur.size, offset: cur.offset, method: 8 });
    this.current = undefined;
  }

  /** Writes the central directory and ends the output. */
  async finalize(): Promise<void> {
    const start = this.offset;
    for (const e of this.entries) {
      const c = Buffer.alloc(46);
      c.writeUInt32LE(0x02014b50, 0);
      c.writeUInt16LE(20, 4);
      c.writeUInt16LE(20, 6);
      c.writeUInt16LE(0x0808, 8);
      c.writeUInt16LE(e.method, 10);
      c.writeUInt16LE(this.stamp.time, 12);
      c.writeUInt16LE(this.stamp.date, 14);
      c.writeUInt32LE(e.crc >>> 0, 16);
      c.writeUInt32LE(e.compressed, 20);
      c.writeUInt32LE(e.size, 24);
      c.writeUInt16LE(e.name.length, 28);
      c.writeUInt32LE(e.offset, 42);
      await this.emit(Buffer.concat([c, e.name]));
    }
    const eocd = Buffer.alloc(22);
    eocd.writeUInt32LE(0x06054b50, 0);
    eocd.writeUInt16LE(this.entries.length, 8);
    eocd.writeUInt16LE(this.entries.length, 10);
    eocd.writeUInt32LE(this.offset - start, 12);
    eocd.writeUInt32LE(start, 16);
    await this.emit(eocd);
    this.out.end();
  }
}
