import { createReadStream } from 'node:fs';
import { FileHandle, open } from 'node:fs/promises';
import { PassThrough, Readable, Transform } from 'node:stream';
import * as zlib from 'node:zlib';

/** One entry of the central directory. @internal */
export interface ZipDirectoryEntry {
  readonly name: string;
  readonly method: number;
  readonly flags: number;
  readonly crc32: number;
  readonly compressedSize: number;
  readonly size: number;
  readonly localHeaderOffset: number;
}

/** A ZIP that cannot be read as one: `file` is the entry at fault, or `undefined` for the archive. @internal */
export class ZipFormatError extends Error {
  constructor(
    message: string,
    readonly file?: string,
  ) {
    super(message);
    this.name = 'ZipFormatError';
  }
}

const EOCD = 0x06054b50;
const ZIP64_LOCATOR = 0x07064b50;
const ZIP64_EOCD = 0x06064b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;
const MAX_COMMENT = 0xffff;
/** A central directory larger than this is not one our archives (or any sane one) have. */
const MAX_DIRECTORY_BYTES = 64 * 1024 * 1024;

/**
 * Reads a ZIP file from its central directory (ZIP64 included) and streams one entry at a time,
 * inflated, checking its CRC-32 and size as the bytes pass: a large archive is never held in
 * memory. Uses node's zlib only, so that the `verify` command needs no other package.
 * @internal
 */
export class ZipFileReader {
  private constructor(
    private readonly path: string,
    private readonly fd: FileHandle,
    readonly size: number,
    readonly entries: readonly ZipDirectoryEntry[],
  ) {}

  static async open(path: string): Promise<ZipFileReader> {
    const fd = await open(path, 'r');
    try {
      const { size } = await fd.stat();
      const entries = await readDirectory(fd, size);
      return new ZipFileReader(path, fd, size, entries);
    } catch (err) {
      await fd.close();
      throw err;
    }
  }

  close(): Promise<void> {
    return this.fd.close();
  }

  /** The entry's bytes, inflated; the stream errors when its CRC-32 or size differ from the directory's. */
  async openEntry(entry: ZipDirectoryEntry): Promise<Readable> {
    const local = await readAt(this.fd, entry.localHeaderOffset, 30);
    if (local.length < 30 || local.readUInt32LE(0) !== LOCAL) {
      throw new ZipFormatError('its local header is missing or damaged', entry.name);
    }
    const nameLength = local.readUInt16LE(26);
    const extraLength = local.readUInt16LE(28);
    const localName = (await readAt(this.fd, entry.localHeaderOffset + 30, nameLength)).toString('utf8');
    if (localName !== entry.name) throw new ZipFormatError(`its local header names "${localName}"`, entry.name);
    const start = entry.localHeaderOffset + 30 + nameLength + extraLength;
    if (start + entry.compressedSize > this.size) throw new ZipFormatError('its data runs past the end of the archive', entry.name);
    const raw: Readable =
      entry.compressedSize === 0
        ? Readable.from([])
        : createReadStream(this.path, { start, end: start + entry.compressedSize - 1, highWaterMark: 256 * 1024 });
    let body: Readable;
    if (entry.method === 8) body = raw.pipe(zlib.createInflateRaw()).on('error', () => undefined);
    else if (entry.method === 0) body = raw.pipe(new PassThrough());
    else throw new ZipFormatError(`its compression method ${entry.method} is not one a ZIP of exports uses (store or deflate)`, entry.name);
    raw.on('error', (err) => body.destroy(err));
    let crc = 0;
    let size = 0;
    const check = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        crc = zlib.crc32(chunk, crc);
        size += chunk.length;
        if (size > entry.size) return done(new ZipFormatError(`it holds more than the ${entry.size} bytes its header states`, entry.name));
        done(null, chunk);
      },
      flush(done) {
        if (size !== entry.size) return done(new ZipFormatError(`it holds ${size} bytes, its header states ${entry.size}`, entry.name));
        if (crc >>> 0 !== entry.crc32) return done(new ZipFormatError('its CRC-32 does not match its header: the data is damaged', entry.name));
        done();
      },
    });
    body.on('error', (err) => check.destroy(err instanceof ZipFormatError ? err : new ZipFormatError(`it cannot be inflated (${err.message})`, entry.name)));
    return body.pipe(check);
  }

  /** The entry's whole content, for the small ones (manifest, schemas); refuses more than `maxBytes`. */
  async readEntry(entry: ZipDirectoryEntry, maxBytes: number): Promise<Buffer> {
    if (entry.size > maxBytes) throw new ZipFormatError(`it is ${entry.size} bytes, more than the ${maxBytes} such a file may have`, entry.name);
    const chunks: Buffer[] = [];
    for await (const chunk of await this.openEntry(entry)) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  }
}

async function readAt(fd: FileHandle, position: number, length: number): Promise<Buffer> {
  const buffer = Buffer.alloc(length);
  const { bytesRead } = await fd.read(buffer, 0, length, position);
  return buffer.subarray(0, bytesRead);
}

async function readDirectory(fd: FileHandle, size: number): Promise<ZipDirectoryEntry[]> {
  const tailStart = Math.max(0, size - (22 + MAX_COMMENT));
  const tail = await readAt(fd, tailStart, size - tailStart);
  let at = -1;
  for (let i = tail.length - 22; i >= 0; i--) {
    if (tail.readUInt32LE(i) === EOCD && i + 22 + tail.readUInt16LE(i + 20) === tail.length) {
      at = i;
      break;
    }
  }
  if (at < 0) throw new ZipFormatError('not a ZIP file (no end of central directory record)');
  const eocdOffset = tailStart + at;
  let count = tail.readUInt16LE(at + 10);
  let directorySize = tail.readUInt32LE(at + 12);
  let directoryOffset = tail.readUInt32LE(at + 16);
  let directoryEnd = eocdOffset;
  if (tail.readUInt16LE(at + 4) !== 0 || tail.readUInt16LE(at + 6) !== 0) throw new ZipFormatError('a multi-part ZIP is not supported');
  const locator = eocdOffset >= 20 ? await readAt(fd, eocdOffset - 20, 20) : Buffer.alloc(0);
  if (locator.length === 20 && locator.readUInt32LE(0) === ZIP64_LOCATOR) {
    const recordOffset = Number(locator.readBigUInt64LE(8));
    const record = await readAt(fd, recordOffset, 56);
    if (record.length < 56 || record.readUInt32LE(0) !== ZIP64_EOCD) throw new ZipFormatError('its ZIP64 end record is missing or damaged');
    count = Number(record.readBigUInt64LE(32));
    directorySize = Number(record.readBigUInt64LE(40));
    directoryOffset = Number(record.readBigUInt64LE(48));
    directoryEnd = recordOffset;
  } else if (count === 0xffff || directorySize === 0xffffffff || directoryOffset === 0xffffffff) {
    throw new ZipFormatError('its end record needs ZIP64 values, and the ZIP64 locator is missing');
  }
  if (directoryOffset + directorySize > directoryEnd) throw new ZipFormatError('its central directory runs past the end record');
  if (directorySize > MAX_DIRECTORY_BYTES) throw new ZipFormatError(`its central directory is ${directorySize} bytes, more than an archive of exports has`);
  const directory = await readAt(fd, directoryOffset, directorySize);
  const entries: ZipDirectoryEntry[] = [];
  const names = new Set<string>();
  let p = 0;
  for (let i = 0; i < count; i++) {
    if (p + 46 > directory.length || directory.readUInt32LE(p) !== CENTRAL) throw new ZipFormatError(`its central directory is damaged at entry ${i + 1}`);
    const flags = directory.readUInt16LE(p + 8);
    const method = directory.readUInt16LE(p + 10);
    const crc32 = directory.readUInt32LE(p + 16);
    let compressedSize = directory.readUInt32LE(p + 20);
    let entrySize = directory.readUInt32LE(p + 24);
    const nameLength = directory.readUInt16LE(p + 28);
    const extraLength = directory.readUInt16LE(p + 30);
    const commentLength = directory.readUInt16LE(p + 32);
    let localHeaderOffset = directory.readUInt32LE(p + 42);
    const next = p + 46 + nameLength + extraLength + commentLength;
    if (next > directory.length) throw new ZipFormatError(`its central directory is damaged at entry ${i + 1}`);
    const name = directory.subarray(p + 46, p + 46 + nameLength).toString('utf8');
    // ZIP64 extended information: the 8-byte values of the fields set to 0xffffffff, in order.
    let x = p + 46 + nameLength;
    const extraEnd = x + extraLength;
    while (x + 4 <= extraEnd) {
      const id = directory.readUInt16LE(x);
      const length = directory.readUInt16LE(x + 2);
      if (id === 0x0001) {
        let v = x + 4;
        const take = (): number => {
          if (v + 8 > x + 4 + length) throw new ZipFormatError('its ZIP64 extra field is too short', name);
          const value = Number(directory.readBigUInt64LE(v));
          v += 8;
          return value;
        };
        if (entrySize === 0xffffffff) entrySize = take();
        if (compressedSize === 0xffffffff) compressedSize = take();
        if (localHeaderOffset === 0xffffffff) localHeaderOffset = take();
      }
      x += 4 + length;
    }
    if (flags & 0x0001) throw new ZipFormatError('it is encrypted', name);
    if (name === '' || name.startsWith('/') || name.includes('\\') || name.split('/').includes('..') || /[\u0000-\u001f]/.test(name)) {
      throw new ZipFormatError('its name is not a safe relative path', name || '(empty name)');
    }
    if (names.has(name)) throw new ZipFormatError('it appears twice in the archive', name);
    names.add(name);
    if (localHeaderOffset + 30 > directoryOffset) throw new ZipFormatError('its local header lies outside the archive data', name);
    entries.push({ name, method, flags, crc32, compressedSize, size: entrySize, localHeaderOffset });
    p = next;
  }
  return entries;
}
