/*
 * The fixed records of a ZIP file (APPNOTE 6.3): the central directory's entries and the end
 * records, with their ZIP64 forms. The streaming writer (zip-stream.writer.ts) emits them.
 */

export const ZIP64_LIMIT = 0xffffffff;
/** Bit 3: sizes and crc follow the data (a data descriptor); bit 11: names are UTF-8. */
export const FLAGS = 0x0808;
export const METHOD_DEFLATE = 8;
export const METHOD_STORE = 0;
export const VERSION_DEFAULT = 20;
export const VERSION_ZIP64 = 45;
/** Made by Unix (3), ZIP 4.5; the files are -rw-r--r--. */
const VERSION_MADE_BY = (3 << 8) | VERSION_ZIP64;
const EXTERNAL_ATTRIBUTES = (0o100644 << 16) >>> 0;

/**
 * The date and time in every entry header: 1980-01-01 00:00, the first the DOS format holds,
 * so that an archive's bytes depend on its content only. Built from local fields because
 * `dosDateTime` reads them.
 * @internal
 */
export const ZIP_ENTRY_DATE = new Date(1980, 0, 1, 0, 0, 0);

/** What the central directory says of one entry. @internal */
export interface CentralEntry {
  name: Buffer;
  stamp: { time: number; date: number };
  crc: number;
  compressed: number;
  size: number;
  offset: number;
  method: number;
  /** The local header carried a ZIP64 extra field: the central one carries both sizes too. */
  zip64: boolean;
}

/** A date in the DOS format of ZIP headers (local fields, 1980 to 2107). @internal */
export function dosDateTime(date: Date): { time: number; date: number } {
  const year = Math.max(1980, Math.min(2107, date.getFullYear()));
  return {
    time: (date.getHours() << 11) | (date.getMinutes() << 5) | (date.getSeconds() >> 1),
    date: ((year - 1980) << 9) | ((date.getMonth() + 1) << 5) | date.getDate(),
  };
}

/** One central directory entry, with a ZIP64 extra field for what passes `limit`. @internal */
export function centralEntry(e: CentralEntry, limit: number): Buffer {
  const extra: bigint[] = [];
  const sizes64 = e.zip64 || e.size >= limit || e.compressed >= limit;
  if (sizes64) extra.push(BigInt(e.size), BigInt(e.compressed));
  if (e.offset >= limit) extra.push(BigInt(e.offset));
  const zip64 = Buffer.alloc(extra.length > 0 ? 4 + 8 * extra.length : 0);
  if (extra.length > 0) {
    zip64.writeUInt16LE(0x0001, 0);
    zip64.writeUInt16LE(8 * extra.length, 2);
    extra.forEach((value, i) => zip64.writeBigUInt64LE(value, 4 + 8 * i));
  }
  const c = Buffer.alloc(46);
  c.writeUInt32LE(0x02014b50, 0);
  c.writeUInt16LE(VERSION_MADE_BY, 4);
  c.writeUInt16LE(extra.length > 0 ? VERSION_ZIP64 : VERSION_DEFAULT, 6);
  c.writeUInt16LE(FLAGS, 8);
  c.writeUInt16LE(e.method, 10);
  c.writeUInt16LE(e.stamp.time, 12);
  c.writeUInt16LE(e.stamp.date, 14);
  c.writeUInt32LE(e.crc, 16);
  c.writeUInt32LE(sizes64 ? ZIP64_LIMIT : e.compressed, 20);
  c.writeUInt32LE(sizes64 ? ZIP64_LIMIT : e.size, 24);
  c.writeUInt16LE(e.name.length, 28);
  c.writeUInt16LE(zip64.length, 30);
  c.writeUInt32LE(EXTERNAL_ATTRIBUTES, 38);
  c.writeUInt32LE(e.offset >= limit ? ZIP64_LIMIT : e.offset, 42);
  return Buffer.concat([c, e.name, zip64]);
}

/**
 * The end of central directory record, preceded by the ZIP64 end record and its locator when the
 * directory starts or reaches past `limit` or holds 65,535 entries or more.
 * @internal
 */
export function endRecords(dir: { start: number; size: number; count: number; offset: number }, limit: number): Buffer {
  const { start, size, count } = dir;
  const parts: Buffer[] = [];
  if (start >= limit || size >= limit || count >= 0xffff) {
    const record = Buffer.alloc(56);
    record.writeUInt32LE(0x06064b50, 0);
    record.writeBigUInt64LE(44n, 4);
    record.writeUInt16LE(VERSION_MADE_BY, 12);
    record.writeUInt16LE(VERSION_ZIP64, 14);
    record.writeBigUInt64LE(BigInt(count), 24);
    record.writeBigUInt64LE(BigInt(count), 32);
    record.writeBigUInt64LE(BigInt(size), 40);
    record.writeBigUInt64LE(BigInt(start), 48);
    const locator = Buffer.alloc(20);
    locator.writeUInt32LE(0x07064b50, 0);
    locator.writeBigUInt64LE(BigInt(dir.offset), 8);
    locator.writeUInt32LE(1, 16);
    parts.push(record, locator);
  }
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(Math.min(count, 0xffff), 8);
  end.writeUInt16LE(Math.min(count, 0xffff), 10);
  end.writeUInt32LE(size >= limit ? ZIP64_LIMIT : size, 12);
  end.writeUInt32LE(start >= limit ? ZIP64_LIMIT : start, 16);
  parts.push(end);
  return Buffer.concat(parts);
}
