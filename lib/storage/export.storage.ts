import type { Readable } from 'node:stream';

/** Size and modification time of a stored object. @publicApi */
export interface ExportStorageStat {
  size: number;
  modifiedAt: Date;
}

/** An inclusive byte range, as in an HTTP `Range` header. @publicApi */
export interface ByteRange {
  start: number;
  end: number;
}

/**
 * Where archives live. Implementations must make `put` atomic: readers never see a partial
 * object under `key`, and a failed `put` leaves nothing behind.
 *
 * @example
 * ExportModule.forRoot({ secret, storage: new LocalDiskStorage('./var/exports') })
 * @publicApi
 */
export abstract class ExportStorage {
  /**
   * Consumes `body` and stores it under `key`, atomically (write to a temporary name, then
   * commit). Rejects, removing any temporary data, when `body` errors.
   */
  abstract put(key: string, body: Readable): Promise<ExportStorageStat>;
  /** Opens the object, or the inclusive byte `range` of it. Rejects with code `ENOENT` when absent. */
  abstract get(key: string, range?: ByteRange): Promise<Readable>;
  /** Size and time of the object, or `null` when absent. */
  abstract stat(key: string): Promise<ExportStorageStat | null>;
  /**
   * Deletes the object, and whatever an unfinished `put` of the key left behind (a worker killed
   * mid-write); resolves when it is absent already.
   */
  abstract delete(key: string): Promise<void>;
}
