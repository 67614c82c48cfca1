import { createReadStream, createWriteStream, promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ByteRange, ExportStorage, ExportStorageStat } from './export.storage';

const SAFE_KEY = /^[A-Za-z0-9][A-Za-z0-9._-]*(\/[A-Za-z0-9][A-Za-z0-9._-]*)*$/;

/**
 * Stores archives as files under a directory. `put` writes `<key>.partial` and renames it over
 * `<key>` when the stream ends, so a file under its final name is always complete. `delete`
 * removes both: each run of an export writes its own key, and the next run deletes what a
 * worker killed mid-write left behind.
 * Files are created with mode 0600.
 * @publicApi
 */
export class LocalDiskStorage extends ExportStorage {
  readonly root: string;

  constructor(root: string) {
    super();
    this.root = path.resolve(root);
  }

  async put(key: string, body: Readable): Promise<ExportStorageStat> {
    const target = this.resolve(key);
    await fs.mkdir(path.dirname(target), { recursive: true, mode: 0o700 });
    const temp = `${target}.partial`;
    try {
      await pipeline(body, createWriteStream(temp, { mode: 0o600, flags: 'w' }));
      await fs.rename(temp, target);
    } catch (err) {
      body.destroy();
      await fs.rm(temp, { force: true });
      throw err;
    }
    const st = await fs.stat(target);
    return { size: st.size, modifiedAt: st.mtime };
  }

  async get(key: string, range?: ByteRange): Promise<Readable> {
    const stream = createReadStream(this.resolve(key), range ? { start: range.start, end: range.end } : {});
    // Waiting for the file to open makes a missing file reject here, not later on the stream.
    await new Promise<void>((resolve, reject) => {
      stream.once('ready', () => resolve());
      stream.once('error', reject);
    });
    return stream;
  }

  async stat(key: string): Promise<ExportStorageStat | null> {
    try {
      const st = await fs.stat(this.resolve(key));
      return { size: st.size, modifiedAt: st.mtime };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
  }

  async delete(key: string): Promise<void> {
    const target = this.resolve(key);
    await fs.rm(target, { force: true });
    await fs.rm(`${target}.partial`, { force: true });
  }

  /** Maps a key to a path inside `root`, refusing anything that could escape it. */
  protected resolve(key: string): string {
    if (!SAFE_KEY.test(key) || key.split('/').some((part) => part === '..' || part === '.')) {
      throw new Error(`Invalid storage key ${JSON.stringify(key)}`);
    }
    return path.join(this.root, key);
  }
}
