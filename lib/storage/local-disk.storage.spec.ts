import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { LocalDiskStorage } from './local-disk.storage';

describe('LocalDiskStorage', () => {
  let dir: string;
  let storage: LocalDiskStorage;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'lds-'));
    storage = new LocalDiskStorage(dir);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('stores, stats, reads whole or a byte range, and deletes', async () => {
    const stat = await storage.put('a/b.zip', Readable.from([Buffer.from('hello '), Buffer.from('world')]));
    expect(stat.size).toBe(11);
    expect((await storage.stat('a/b.zip'))?.size).toBe(11);
    expect(await text(await storage.get('a/b.zip'))).toBe('hello world');
    expect(await text(await storage.get('a/b.zip', { start: 6, end: 10 }))).toBe('world');
    await storage.delete('a/b.zip');
    expect(await storage.stat('a/b.zip')).toBeNull();
    await expect(storage.get('a/b.zip')).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(storage.delete('a/b.zip')).resolves.toBeUndefined();
  });

  it('leaves nothing when the body fails midway', async () => {
    async function* failing() {
      yield Buffer.from('partial data');
      throw new Error('source broke');
    }
    await expect(storage.put('x.zip', Readable.from(failing()))).rejects.toThrow('source broke');
    expect(readdirSync(dir)).toEqual([]);
  });

  it.each(['../escape.zip', '/etc/passwd', 'a/../../b', '', '.hidden', 'a//b', 'a\\b'])('refuses the key %p', async (key) => {
    await expect(storage.put(key, Readable.from(['x']))).rejects.toThrow(/Invalid storage key/);
    await expect(storage.stat(key)).rejects.toThrow(/Invalid storage key/);
  });
});
