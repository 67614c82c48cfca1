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
   * commit), and resolves once the object is committed, not before `body` has ended.
   *
   * On failure it rejects promptly, removes any temporary data, and should destroy `body`
   * (as `stream.pipeline` does). The library does not rely on it: the moment `put` rejects, the
   * export stops, destroys `body` itself and calls `delete(key)`. `body` also errors (or is
   * destroyed) when the export fails on its side: `put` must then reject, leaving nothing
   * under `key`. A `put` that neither reads nor settles stops the export after `stallTimeout`.
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
