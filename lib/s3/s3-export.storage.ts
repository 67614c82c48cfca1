import {
  AbortMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  S3Client,
  S3ClientConfig,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { OnApplicationShutdown } from '@nestjs/common';
import { Readable } from 'node:stream';
import { InvalidExportOptionsError } from '../common/export.error';
import { ExportMessages } from '../common/export.messages';
import { ByteRange, ExportStorage, ExportStorageStat } from '../storage/export.storage';

/** Options of `S3ExportStorage`. @publicApi */
export interface S3ExportStorageOptions {
  /** The bucket that holds the archives. It must exist. */
  bucket: string;
  /**
   * Prepended as is to every key (`'exports/'` puts archives under `exports/`). Several apps can
   * share a bucket with different prefixes; workers of one app share one prefix.
   * @default ''
   */
  prefix?: string;
  /**
   * The client to use, or the settings of one to create (`region`, `credentials`, and for an
   * S3-compatible server `endpoint` and `forcePathStyle: true`). A client created here is
   * destroyed when the application shuts down; one passed in is left to its owner.
   * @default {} (the SDK's defaults: region and credentials from the environment)
   */
  client?: S3Client | S3ClientConfig;
  /**
   * Size of each multipart part in bytes, at least 5 MiB (S3's minimum). An archive smaller than
   * one part is sent as a single PutObject. Memory per upload is about `partSize × (queueSize + 1)`.
   * @default 8 MiB
   */
  partSize?: number;
  /**
   * How many parts of one archive are uploaded at the same time.
   * @default 2
   */
  queueSize?: number;
  /**
   * Milliseconds a request may go without the server sending or taking a byte before it fails
   * (a frozen server, a broken network). The SDK's own default is to wait forever. Applies to a
   * client created from settings that have no `requestHandler` of their own.
   * @default 30000
   */
  socketTimeout?: number;
}

const MIN_PART_SIZE = 5 * 1024 * 1024;
const DEFAULT_PART_SIZE = 8 * 1024 * 1024;
const DEFAULT_SOCKET_TIMEOUT = 30_000;
const CONNECTION_TIMEOUT = 10_000;
const SAFE_KEY = /^[A-Za-z0-9][A-Za-z0-9._-]*(\/[A-Za-z0-9][A-Za-z0-9._-]*)*$/;
const MAX_CLEANUPS = 1000;
const SAFE_CODE = /^[A-Za-z0-9_.-]{1,32}$/;

/**
 * A failed S3 request. Its message and fields name the operation, the HTTP status and S3's error
 * code, never the request (no credentials, no signed URL). `code` is `ENOENT` for an absent
 * object, as with files.
 * @publicApi
 */
export class S3StorageError extends Error {
  override readonly name = 'S3StorageError';

  constructor(
    readonly operation: string,
    /** The HTTP status S3 answered, or `undefined` when no answer came (a network error). */
    readonly status: number | undefined,
    /** `ENOENT` (absent), S3's error code (`AccessDenied`), the network error's code, or the status. */
    readonly code: string,
  ) {
    super(`S3 ${operation} failed: ${status === undefined ? 'no response' : `HTTP ${status}`} (${code}).`);
  }

  /**
   * Classifies an SDK error by its HTTP status, not by its name: several servers answer without
   * an error code the SDK knows (a 304 arrives named `Unknown`).
   * @internal
   */
  static from(operation: string, err: unknown): S3StorageError {
    if (err instanceof S3StorageError) return err;
    const e = err as { $metadata?: { httpStatusCode?: number }; Code?: unknown; name?: unknown; code?: unknown; message?: unknown } | null;
    const status = e?.$metadata?.httpStatusCode;
    // The SDK wraps some network errors (those not `instanceof Error` in its realm) in one that
    // keeps only the message: its `connect ECONNREFUSED …` still names the code.
    const networkCode = typeof e?.message === 'string' ? /\b(E[A-Z]{3,20})\b/.exec(e.message)?.[1] : undefined;
    const named = [e?.Code, e?.name, e?.code, networkCode].find(
      (c): c is string => typeof c === 'string' && SAFE_CODE.test(c) && c !== 'Unknown' && c !== 'Error',
    );
    const code = status === 404 ? 'ENOENT' : (named ?? (status === undefined ? 'Error' : String(status)));
    return new S3StorageError(operation, status, code);
  }
}

/**
 * Stores archives in an S3 bucket (AWS, or an S3-compatible server through `endpoint` and
 * `forcePathStyle`), so that workers on several machines share them. `put` streams the archive
 * as a multipart upload (a bounded queue of parts, so memory stays flat) that becomes visible
 * only when it completes; a failed upload is aborted and leaves no object. `get` reads byte
 * ranges, so resumable and decrypted downloads work as on disk. `delete` removes the object and
 * aborts any unfinished upload of its key (a worker killed mid-upload).
 *
 * Imported from `nestjs-data-export/s3`, with `@aws-sdk/client-s3` and `@aws-sdk/lib-storage`
 * installed; hosts that do not use it install neither.
 *
 * @example
 * import { S3ExportStorage } from 'nestjs-data-export/s3';
 * ExportModule.forRoot({
 *   secret,
 *   storage: new S3ExportStorage({ bucket: 'acme-exports', prefix: 'exports/', client: { region: 'eu-west-1' } }),
 * })
 * @publicApi
 */
export class S3ExportStorage extends ExportStorage implements OnApplicationShutdown {
  readonly bucket: string;
  readonly prefix: string;
  readonly client: S3Client;
  private readonly ownsClient: boolean;
  private readonly partSize: number;
  private readonly queueSize: number;
  /** Object keys whose delete failed (the server was unreachable): tried again on the next put. */
  private readonly cleanupLater = new Set<string>();

  constructor(options: S3ExportStorageOptions) {
    super();
    const {
      bucket,
      prefix = '',
      client = {},
      partSize = DEFAULT_PART_SIZE,
      queueSize = 2,
      socketTimeout = DEFAULT_SOCKET_TIMEOUT,
    } = options ?? ({} as S3ExportStorageOptions);
    if (typeof bucket !== 'string' || bucket === '') throw new InvalidExportOptionsError(ExportMessages.s3BadOption('bucket', 'a bucket name'));
    if (typeof prefix !== 'string' || (prefix !== '' && !SAFE_KEY.test(prefix.replace(/\/$/, '')))) {
      throw new InvalidExportOptionsError(ExportMessages.s3BadOption('prefix', "letters, digits, '.', '_', '-' and '/' (e.g. 'exports/')"));
    }
    if (!Number.isInteger(partSize) || partSize < MIN_PART_SIZE) {
      throw new InvalidExportOptionsError(ExportMessages.s3BadOption('partSize', `an integer of at least ${MIN_PART_SIZE} (5 MiB)`));
    }
    if (!Number.isInteger(queueSize) || queueSize < 1 || queueSize > 16) {
      throw new InvalidExportOptionsError(ExportMessages.s3BadOption('queueSize', 'an integer from 1 to 16'));
    }
    if (!Number.isInteger(socketTimeout) || socketTimeout < 1) {
      throw new InvalidExportOptionsError(ExportMessages.s3BadOption('socketTimeout', 'a positive number of milliseconds'));
    }
    this.bucket = bucket;
    this.prefix = prefix;
    this.partSize = partSize;
    this.queueSize = queueSize;
    this.ownsClient = !(client instanceof S3Client);
    this.client =
      client instanceof S3Client
        ? client
        : new S3Client({ ...client, requestHandler: client.requestHandler ?? { connectionTimeout: CONNECTION_TIMEOUT, socketTimeout } });
  }

  async put(key: string, body: Readable): Promise<ExportStorageStat> {
    const Key = this.objectKey(key);
    this.retryCleanups();
    const upload = new Upload({
      client: this.client,
      params: { Bucket: this.bucket, Key, Body: body, ContentType: 'application/octet-stream' },
      partSize: this.partSize,
      queueSize: this.queueSize,
      leavePartsOnError: false,
    });
    // An error of the body fails the upload (lib-storage reads it with for-await), which then
    // aborts its multipart upload: nothing appears under the key.
    try {
      await upload.done();
    } catch (err) {
      body.destroy();
      await upload.abort().catch(() => undefined);
      throw S3StorageError.from('upload', err);
    }
    const stat = await this.stat(key);
    if (!stat) throw new S3StorageError('upload', 404, 'ENOENT');
    return stat;
  }

  async get(key: string, range?: ByteRange): Promise<Readable> {
    const Key = this.objectKey(key);
    try {
      const res = await this.client.send(
        new GetObjectCommand({ Bucket: this.bucket, Key, Range: range ? `bytes=${range.start}-${range.end}` : undefined }),
      );
      const stream = res.Body as Readable;
      // A server that ignored the range would send the whole object: wrong bytes for the caller.
      if (range && res.$metadata.httpStatusCode !== 206) {
        stream.destroy();
        throw new S3StorageError('ranged get', res.$metadata.httpStatusCode, 'RangeIgnored');
      }
      return stream;
    } catch (err) {
      throw S3StorageError.from('get', err);
    }
  }

  async stat(key: string): Promise<ExportStorageStat | null> {
    const Key = this.objectKey(key);
    try {
      const res = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key }));
      return { size: res.ContentLength ?? 0, modifiedAt: res.LastModified ?? new Date(0) };
    } catch (err) {
      const error = S3StorageError.from('stat', err);
      if (error.code === 'ENOENT') return null;
      throw error;
    }
  }

  async delete(key: string): Promise<void> {
    const Key = this.objectKey(key);
    try {
      await this.deleteObject(Key);
      this.cleanupLater.delete(Key);
    } catch (err) {
      // A failed upload whose abort could not reach the server: its parts are removed once it
      // answers again (the next put), as long as this process lives. A lifecycle rule that
      // aborts incomplete multipart uploads covers the rest (docs/storage.md).
      if (this.cleanupLater.size < MAX_CLEANUPS) this.cleanupLater.add(Key);
      throw err;
    }
  }

  /** Destroys the client this storage created (its sockets); a client passed in is left alone. */
  onApplicationShutdown(): void {
    if (this.ownsClient) this.client.destroy();
  }

  /** The object key of a storage key: the prefix, then the key, refusing anything unusual. */
  protected objectKey(key: string): string {
    if (!SAFE_KEY.test(key) || key.split('/').some((part) => part === '..' || part === '.')) {
      throw new InvalidExportOptionsError(ExportMessages.s3BadKey(key));
    }
    return `${this.prefix}${key}`;
  }

  private async deleteObject(Key: string): Promise<void> {
    // One DeleteObject: some servers (Swift) refuse the batch DeleteObjects without Content-MD5.
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key }));
    } catch (err) {
      const error = S3StorageError.from('delete', err);
      if (error.code !== 'ENOENT') throw error;
    }
    await this.abortUnfinished(Key);
  }

  /** Tries the deletes that failed earlier again, in the background. */
  private retryCleanups(): void {
    for (const Key of [...this.cleanupLater]) {
      this.cleanupLater.delete(Key);
      this.deleteObject(Key).catch(() => {
        if (this.cleanupLater.size < MAX_CLEANUPS) this.cleanupLater.add(Key);
      });
    }
  }

  /** Aborts the multipart uploads a killed worker left under `Key` (their parts cost storage). */
  private async abortUnfinished(Key: string): Promise<void> {
    let listed;
    try {
      listed = await this.client.send(new ListMultipartUploadsCommand({ Bucket: this.bucket, Prefix: Key }));
    } catch (err) {
      throw S3StorageError.from('list uploads', err);
    }
    for (const upload of listed.Uploads ?? []) {
      if (upload.Key !== Key || !upload.UploadId) continue;
      try {
        await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key, UploadId: upload.UploadId }));
      } catch (err) {
        const error = S3StorageError.from('abort upload', err);
        if (error.code !== 'ENOENT' && error.code !== 'NoSuchUpload') throw error;
      }
    }
  }
}
