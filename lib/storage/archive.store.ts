import { Inject, Injectable } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { pipeline, Readable, Transform, Writable } from 'node:stream';
import {
  ARCHIVE_CIPHER,
  DecryptStream,
  deriveArchiveKey,
  EncryptStream,
  encryptedSize,
  HEADER_SIZE,
  parseHeader,
  planDecryption,
} from '../crypto/archive-cipher';
import { ExportProcessingError } from '../common/export.error';
import { failureReason } from '../common/failure-reason.util';
import { ExportMessages } from '../common/export.messages';
import { EXPORT_RESOLVED_OPTIONS } from '../common/export.internal-constants';
import { ByteRange, ExportStorage } from './export.storage';

/** What the archive store reads of the module's resolved options. @internal */
export interface ArchiveStoreSettings {
  /** Derives each export's at-rest key. */
  readonly secret: string;
  readonly encryption: boolean;
}

/** What storing an archive recorded: the plain archive's size and sha256, and how it is kept. @internal */
export interface StoredArchive {
  size: number;
  sha256: string;
  /** `ARCHIVE_CIPHER` when the stored bytes are encrypted, else `null`. */
  encryption: string | null;
}

/**
 * One archive on its way to storage. The archive is written into `input` (and ended there);
 * `stored` settles once the storage has committed it, or rejects with an `ExportProcessingError`
 * as soon as the storage fails (or reports done before `input` ended).
 * @internal
 */
export interface ArchiveUpload {
  readonly input: Writable;
  readonly stored: Promise<StoredArchive>;
  /** Stops the upload: the storage's body errors, so its `put` rejects and keeps nothing. */
  destroy(reason: Error): void;
}

/** Counts and hashes the bytes that pass through: the downloadable archive's size and sha256. */
class DigestStream extends Transform {
  readonly hash = createHash('sha256');
  bytes = 0;

  constructor(private readonly onChunk: () => void) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: (err?: Error | null, data?: Buffer) => void): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    this.onChunk();
    done(null, chunk);
  }
}

const noop = (): void => undefined;

/**
 * The one owner of archives at rest: storing one hashes it, encrypts it when `encryption` is on
 * (a key per export derived from `secret`) and puts it through `ExportStorage`; opening one reads
 * its header and decrypts only the segments a range needs. Nothing else reads or writes the
 * storage's archive bytes.
 * @internal
 */
@Injectable()
export class ArchiveStore {
  constructor(
    private readonly storage: ExportStorage,
    @Inject(EXPORT_RESOLVED_OPTIONS) private readonly options: ArchiveStoreSettings,
  ) {}

  /**
   * Starts storing the archive of `exportId` under `key`. `onChunk` is called for every chunk
   * the storage takes (bytes pass only as fast as it reads them): a sign of progress.
   */
  upload(exportId: string, key: string, onChunk: () => void = noop): ArchiveUpload {
    // The digest sees the plain archive (what users download); storage gets it encrypted.
    // Errors surface as the storage's rejection; the listeners keep them from going unhandled.
    const digest = new DigestStream(onChunk);
    digest.on('error', noop);
    let body: Readable = digest;
    let encrypt: EncryptStream | undefined;
    if (this.options.encryption) {
      encrypt = new EncryptStream(deriveArchiveKey(this.options.secret, exportId));
      encrypt.on('error', noop);
      pipeline(digest, encrypt, noop);
      body = encrypt;
    }
    const stored = this.storage.put(key, body).then(
      (): StoredArchive => {
        // The archive is whole only once the writer ended it: a storage that is done before
        // then has not stored it.
        if (!digest.writableEnded) throw new ExportProcessingError(ExportMessages.storageEndedEarly());
        return { size: digest.bytes, sha256: digest.hash.digest('hex'), encryption: encrypt ? ARCHIVE_CIPHER : null };
      },
      (err: unknown) => {
        throw err instanceof ExportProcessingError ? err : new ExportProcessingError(ExportMessages.storageFailed(failureReason(err)));
      },
    );
    stored.catch(noop);
    return {
      input: digest,
      stored,
      destroy: (reason) => {
        digest.destroy(reason);
        encrypt?.destroy(reason);
      },
    };
  }

  /**
   * Opens a stored archive, or the inclusive byte `range` of its plain bytes. An encrypted one
   * is checked against the recorded size and decrypted segment by segment: a file that was cut,
   * extended or edited errors the stream (or is refused here) rather than deliver wrong bytes.
   */
  async open(exportId: string, key: string, archive: { size: number; encrypted: boolean }, range?: ByteRange): Promise<Readable> {
    if (!archive.encrypted) return this.storage.get(key, range);
    const stat = await this.storage.stat(key);
    const header = await readAll(await this.storage.get(key, { start: 0, end: HEADER_SIZE - 1 }));
    const { segmentSize } = parseHeader(header);
    if (!stat || stat.size !== encryptedSize(archive.size, segmentSize)) {
      throw new ExportProcessingError('The stored archive does not have the expected size.');
    }
    const plan = planDecryption(archive.size, range, segmentSize);
    const raw = await this.storage.get(key, plan.stored);
    const plain = new DecryptStream(deriveArchiveKey(this.options.secret, exportId), header, plan);
    raw.on('error', (err) => plain.destroy(err));
    return raw.pipe(plain);
  }

  /**
   * Whether the stored archive is whole: it exists and has the size the export recorded (for an
   * encrypted one, the size its header's segment layout gives). Storage errors other than an
   * absent object (`ENOENT`) reject: an outage is not a lost archive.
   */
  async isWhole(key: string, archive: { size: number; encrypted: boolean }): Promise<boolean> {
    try {
      const stat = await this.storage.stat(key);
      if (!stat) return false;
      if (!archive.encrypted) return stat.size === archive.size;
      if (stat.size < HEADER_SIZE) return false;
      const header = await readAll(await this.storage.get(key, { start: 0, end: HEADER_SIZE - 1 }));
      let segmentSize: number;
      try {
        segmentSize = parseHeader(header).segmentSize;
      } catch {
        return false;
      }
      return stat.size === encryptedSize(archive.size, segmentSize);
    } catch (err) {
      if ((err as NodeJS.ErrnoException)?.code === 'ENOENT') return false;
      throw err;
    }
  }

  /** Deletes the archive under `key` and whatever an unfinished upload of it left behind. */
  delete(key: string): Promise<void> {
    return this.storage.delete(key);
  }
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
