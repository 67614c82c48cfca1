import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { Transform, TransformCallback } from 'node:stream';

/** An inclusive byte range (the shape of `ByteRange`; crypto does not depend on storage). */
interface ByteRange {
  start: number;
  end: number;
}

/**
 * Encryption at rest of archives: AES-256-GCM in fixed-size segments (the STREAM construction).
 *
 * Stored file: a 16-byte header `"NDX1" | segment size (u32 BE) | nonce prefix (7 random bytes) |
 * reserved (1)`, then segments of `segmentSize` plaintext bytes (the last one shorter, possibly
 * empty), each followed by its 16-byte tag. Segment i's nonce is `prefix | i (u32 BE) | last`,
 * where `last` is 1 on the final segment only, and the header is the additional data of every
 * segment: reordering, dropping, truncating or appending segments, or editing the header, all
 * fail authentication. Each export has its own key, derived with HKDF from the module secret
 * and the export id.
 * @internal
 */
export const ARCHIVE_CIPHER = 'aes-256-gcm-stream-v1';
export const SEGMENT_SIZE = 64 * 1024;
export const HEADER_SIZE = 16;
const TAG_SIZE = 16;
const MAGIC = Buffer.from('NDX1', 'ascii');

/** The per-export key. @internal */
export function deriveArchiveKey(secret: string, exportId: string): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, 'nestjs-data-export', `archive-at-rest/v1/${exportId}`, 32));
}

function nonce(prefix: Buffer, index: number, last: boolean): Buffer {
  const n = Buffer.alloc(12);
  prefix.copy(n, 0, 0, 7);
  n.writeUInt32BE(index, 7);
  n[11] = last ? 1 : 0;
  return n;
}

/** Number of segments of a plaintext of `size` bytes (an empty one still has one). @internal */
export function segmentCount(size: number, segmentSize = SEGMENT_SIZE): number {
  return Math.max(1, Math.ceil(size / segmentSize));
}

/** Stored size of a plaintext of `size` bytes. @internal */
export function encryptedSize(size: number, segmentSize = SEGMENT_SIZE): number {
  return HEADER_SIZE + size + segmentCount(size, segmentSize) * TAG_SIZE;
}

/** Encrypts a plaintext stream into the stored format. @internal */
export class EncryptStream extends Transform {
  private readonly header: Buffer;
  private readonly prefix = randomBytes(7);
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private index = 0;

  constructor(
    private readonly key: Buffer,
    private readonly segmentSize = SEGMENT_SIZE,
  ) {
    super();
    this.header = Buffer.alloc(HEADER_SIZE);
    MAGIC.copy(this.header, 0);
    this.header.writeUInt32BE(segmentSize, 4);
    this.prefix.copy(this.header, 8);
    this.push(this.header);
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    // A segment is sealed only once more data follows it: the last one must carry the flag.
    while (this.pendingBytes > this.segmentSize) {
      const all = Buffer.concat(this.pending);
      this.seal(all.subarray(0, this.segmentSize), false);
      const rest = all.subarray(this.segmentSize);
      this.pending = [rest];
      this.pendingBytes = rest.length;
    }
    done();
  }

  override _flush(done: TransformCallback): void {
    this.seal(Buffer.concat(this.pending), true);
    done();
  }

  private seal(plain: Buffer, last: boolean): void {
    const cipher = createCipheriv('aes-256-gcm', this.key, nonce(this.prefix, this.index++, last));
    cipher.setAAD(this.header);
    this.push(Buffer.concat([cipher.update(plain), cipher.final(), cipher.getAuthTag()]));
  }
}

/**
 * What to read from storage to serve the plaintext `range` (or the whole file) of an archive
 * of `size` plaintext bytes, and how to decrypt it.
 * @internal
 */
export interface DecryptPlan {
  /** Byte range of the stored file that holds the needed segments (header excluded). */
  stored: ByteRange;
  firstSegment: number;
  totalSegments: number;
  /** Plaintext bytes to drop from the first decrypted segment, and to deliver in all. */
  skip: number;
  length: number;
}

/** @internal */
export function planDecryption(size: number, range: ByteRange | undefined, segmentSize: number): DecryptPlan {
  const totalSegments = segmentCount(size, segmentSize);
  const start = range?.start ?? 0;
  const end = range?.end ?? size - 1;
  const firstSegment = Math.floor(start / segmentSize);
  const lastSegment = size === 0 ? 0 : Math.floor(end / segmentSize);
  const stride = segmentSize + TAG_SIZE;
  const storedEnd = Math.min(HEADER_SIZE + (lastSegment + 1) * stride, encryptedSize(size, segmentSize)) - 1;
  return {
    stored: { start: HEADER_SIZE + firstSegment * stride, end: storedEnd },
    firstSegment,
    totalSegments,
    skip: start - firstSegment * segmentSize,
    length: size === 0 ? 0 : end - start + 1,
  };
}

/** Reads and checks a stored header; returns its segment size and nonce prefix. @internal */
export function parseHeader(header: Buffer): { segmentSize: number; prefix: Buffer } {
  if (header.length !== HEADER_SIZE || !header.subarray(0, 4).equals(MAGIC)) {
    throw new Error('The stored archive is not in the expected encrypted format');
  }
  const segmentSize = header.readUInt32BE(4);
  if (segmentSize < 1024 || segmentSize > 16 * 1024 * 1024) throw new Error('The stored archive header is invalid');
  return { segmentSize, prefix: header.subarray(8, 15) };
}

/**
 * Decrypts stored segments (starting at a segment boundary) and delivers only authenticated
 * plaintext: a segment is released after its tag verified. Errors on any tampering, reordering
 * or truncation, so a client never receives wrong bytes.
 * @internal
 */
export class DecryptStream extends Transform {
  private buffered: Buffer[] = [];
  private bufferedBytes = 0;
  private index: number;
  private skip: number;
  private remaining: number;
  private readonly prefix: Buffer;
  private readonly segmentSize: number;

  constructor(
    private readonly key: Buffer,
    private readonly header: Buffer,
    private readonly plan: DecryptPlan,
  ) {
    super();
    ({ segmentSize: this.segmentSize, prefix: this.prefix } = parseHeader(header));
    this.index = plan.firstSegment;
    this.skip = plan.skip;
    this.remaining = plan.length;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.buffered.push(chunk);
    this.bufferedBytes += chunk.length;
    const stride = this.segmentSize + TAG_SIZE;
    try {
      while (this.bufferedBytes >= stride && this.index < this.plan.totalSegments - 1) {
        const all = Buffer.concat(this.buffered);
        this.open(all.subarray(0, stride), false);
        const rest = all.subarray(stride);
        this.buffered = [rest];
        this.bufferedBytes = rest.length;
      }
      done();
    } catch (err) {
      done(err as Error);
    }
  }

  override _flush(done: TransformCallback): void {
    try {
      const all = Buffer.concat(this.buffered);
      if (all.length > 0 || this.remaining > 0) {
        // What is left is the last segment read: the final one, unless the range ends earlier.
        this.open(all, this.index === this.plan.totalSegments - 1);
      }
      if (this.remaining > 0) throw new Error('The stored archive is truncated');
      done();
    } catch (err) {
      done(err as Error);
    }
  }

  private open(sealed: Buffer, last: boolean): void {
    if (sealed.length < TAG_SIZE) throw new Error('The stored archive is truncated');
    const decipher = createDecipheriv('aes-256-gcm', this.key, nonce(this.prefix, this.index++, last));
    decipher.setAAD(this.header);
    decipher.setAuthTag(sealed.subarray(sealed.length - TAG_SIZE));
    const plain = Buffer.concat([decipher.update(sealed.subarray(0, sealed.length - TAG_SIZE)), decipher.final()]);
    const out = plain.subarray(this.skip, this.skip + this.remaining);
    this.skip = 0;
    this.remaining -= out.length;
    if (out.length > 0) this.push(out);
  }
}
