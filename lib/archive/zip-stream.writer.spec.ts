import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import * as zlib from 'node:zlib';
import { readZipEntries } from '../../test/utils/zip';
import { ZipStreamWriter } from './zip-stream.writer';

/** Writes entries through the writer, in chunks of odd sizes; returns the archive. */
async function write(
  entries: [string, Buffer][],
  options: { level: number; zip64Limit?: number },
  entryOptions: (name: string) => { store?: boolean; zip64?: boolean } = () => ({}),
): Promise<Buffer> {
  const out = new PassThrough();
  const parts: Buffer[] = [];
  out.on('data', (c: Buffer) => parts.push(c));
  const ended = new Promise((resolve) => out.on('end', resolve));
  const zip = new ZipStreamWriter(out, options);
  const date = new Date(2026, 10, 25, 13, 14, 16);
  for (const [name, data] of entries) {
    const entry = zip.openEntry(name, date, entryOptions(name));
    for (let at = 0; at < data.length; at += 77_777) await entry.write(data.subarray(at, at + 77_777));
    await entry.end();
  }
  await zip.finalize();
  await ended;
  return Buffer.concat(parts);
}

/** Lines of NDJSON-like text, varied enough that deflate has work across block boundaries. */
function ndjson(bytes: number): Buffer {
  const lines: string[] = [];
  let size = 0;
  for (let i = 0; size < bytes; i++) {
    const line = `{"id":${i},"body":"message ${i * 7919} é 中 ${'abc'.repeat(i % 40)}"}\n`;
    lines.push(line);
    size += Buffer.byteLength(line);
  }
  return Buffer.from(lines.join(''), 'utf8');
}

/** Info-ZIP's own test of the archive, where it is installed. */
function unzipTest(zip: Buffer): string | undefined {
  if (!existsSync('/usr/bin/unzip')) return undefined;
  const dir = mkdtempSync(join(tmpdir(), 'zip-writer-'));
  try {
    writeFileSync(join(dir, 'a.zip'), zip);
    return execFileSync('/usr/bin/unzip', ['-t', join(dir, 'a.zip')], { encoding: 'utf8' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('ZipStreamWriter', () => {
  const big = ndjson(3.5 * 1024 * 1024);
  const entries: [string, Buffer][] = [
    ['README.txt', Buffer.from('hello\n')],
    ['schemas/messages.schema.json', Buffer.from('{}\n')],
    ['messages.ndjson', big],
    ['empty.ndjson', Buffer.alloc(0)],
    ['manifest.json', Buffer.from('{"ok":true}\n')],
  ];

  it('writes entries deflated in blocks that read back byte for byte, with their CRC-32', async () => {
    const zip = await write(entries, { level: 6 });
    const read = await readZipEntries(zip);
    expect(read.map((e) => e.name)).toEqual(entries.map(([name]) => name));
    for (const [i, [, data]] of entries.entries()) {
      expect(read[i].data.equals(data)).toBe(true);
      expect(read[i].crc32).toBe(zlib.crc32(data));
      expect(read[i].extraFieldIds).not.toContain(0x0001);
    }
    // Blocks with a shared window compress like one stream.
    const oneStream = zlib.deflateRawSync(big, { level: 6, memLevel: 8 }).length;
    expect(zip.length).toBeLessThan(oneStream * 1.01 + 2000);
    const tested = unzipTest(zip);
    if (tested !== undefined) expect(tested).toMatch(/No errors detected/);
  });

  it('writes ZIP64 sizes, offsets and end records when they pass the limit', async () => {
    const zip = await write(entries, { level: 6, zip64Limit: 1000 });
    const read = await readZipEntries(zip);
    expect(read.map((e) => [e.name, e.data.length])).toEqual(entries.map(([name, data]) => [name, data.length]));
    expect(read.find((e) => e.name === 'messages.ndjson')!.data.equals(big)).toBe(true);
    // Past the limit: the big entry's sizes, and every entry's offset after it.
    expect(read.map((e) => e.extraFieldIds.includes(0x0001))).toEqual([false, false, true, true, true]);
    expect(zip.includes(Buffer.from([0x50, 0x4b, 0x06, 0x06]))).toBe(true);
    const tested = unzipTest(zip);
    if (tested !== undefined) expect(tested).toMatch(/No errors detected/);
  });

  it('reuses its block buffers safely: a chunk larger than a block, a reused input buffer, entries in a row', async () => {
    const second = ndjson(2.7 * 1024 * 1024);
    const out = new PassThrough();
    const parts: Buffer[] = [];
    out.on('data', (c: Buffer) => parts.push(c));
    const ended = new Promise((resolve) => out.on('end', resolve));
    const zip = new ZipStreamWriter(out, { level: 6 });
    const date = new Date(2026, 10, 25, 15, 0, 0);
    // One write of 3.5 MiB: it spans several blocks.
    const first = zip.openEntry('first.ndjson', date);
    await first.write(big);
    await first.end();
    // The caller refills one buffer between writes: the writer must have copied what it needed.
    const entry = zip.openEntry('second.ndjson', date);
    const scratch = Buffer.alloc(100_000);
    for (let at = 0; at < second.length; at += scratch.length) {
      const n = second.copy(scratch, 0, at, at + scratch.length);
      await entry.write(scratch.subarray(0, n));
      scratch.fill(0x2a);
    }
    await entry.end();
    await zip.addBuffer('third.txt', Buffer.from('third\n'), date);
    await zip.finalize();
    await ended;
    const read = await readZipEntries(Buffer.concat(parts));
    expect(read.map((e) => e.name)).toEqual(['first.ndjson', 'second.ndjson', 'third.txt']);
    expect(read[0].data.equals(big)).toBe(true);
    expect(read[1].data.equals(second)).toBe(true);
    expect(read[1].crc32).toBe(zlib.crc32(second));
    expect(read[2].data.toString()).toBe('third\n');
  });

  it('stores at level 0 (deflate without compression)', async () => {
    const zip = await write([['a.txt', big]], { level: 0 });
    expect(zip.length).toBeGreaterThan(big.length);
    const [entry] = await readZipEntries(zip);
    expect(entry.data.equals(big)).toBe(true);
  });

  it('stores an entry as it is (method 0) and declares ZIP64 in a local header when asked', async () => {
    const text = ndjson(300_000);
    const random = Buffer.from(Array.from({ length: 200_000 }, (_, i) => (i * 2654435761) >>> 24));
    const zip = await write([['stored.bin', random], ['big.bin', text], ['plain.txt', text]], { level: 6 }, (name) => ({
      store: name === 'stored.bin',
      zip64: name === 'big.bin',
    }));
    const entries = await readZipEntries(zip);
    expect(entries.map((e) => [e.name, e.data.equals(e.name === 'stored.bin' ? random : text)])).toEqual([
      ['stored.bin', true],
      ['big.bin', true],
      ['plain.txt', true],
    ]);
    // Local headers: method, version needed and the extra field's id.
    const local = (name: string) => {
      const at = zip.indexOf(Buffer.concat([Buffer.from('PK\u0003\u0004', 'latin1')]), zip.indexOf(name) - 30);
      return { version: zip.readUInt16LE(at + 4), method: zip.readUInt16LE(at + 8), size: zip.readUInt32LE(at + 22), extra: zip.readUInt16LE(at + 28) > 0 ? zip.readUInt16LE(at + 30 + name.length) : null };
    };
    expect(local('stored.bin')).toEqual({ version: 20, method: 0, size: 0, extra: null });
    expect(local('big.bin')).toEqual({ version: 45, method: 8, size: 0xffffffff, extra: 0x0001 });
    expect(local('plain.txt')).toEqual({ version: 20, method: 8, size: 0, extra: null });
    // The stored entry's bytes are the data itself, right after its header.
    const start = zip.indexOf('stored.bin') + 'stored.bin'.length;
    expect(zip.subarray(start, start + random.length).equals(random)).toBe(true);
    const tested = unzipTest(zip);
    if (tested !== undefined) expect(tested).toContain('No errors detected');
  });
});
