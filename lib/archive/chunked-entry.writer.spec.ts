import { createHash } from 'node:crypto';
import { ARCHIVE_CHUNK_BYTES } from '../source/category-source';
import { ChunkedEntryWriter } from './chunked-entry.writer';

/** Writes lines through the writer, reading the stream as it goes; returns what came out. */
async function roundTrip(lines: string[]): Promise<{ out: Buffer; chunks: number[]; bytes: number; sha256: string }> {
  const writer = new ChunkedEntryWriter();
  const parts: Buffer[] = [];
  writer.stream.on('data', (chunk: Buffer) => parts.push(chunk));
  for (const [i, line] of lines.entries()) {
    if (writer.append(line, i === 0 ? '' : ',', '\n')) await writer.flush();
  }
  const { bytes, sha256 } = await writer.end();
  return { out: Buffer.concat(parts), chunks: parts.map((p) => p.length), bytes, sha256 };
}

describe('ChunkedEntryWriter', () => {
  it('writes every line in order as UTF-8, with separators, and counts and hashes the bytes', async () => {
    const lines = Array.from({ length: 5000 }, (_, i) => `{"n":${i},"t":"é中😀 ${'x'.repeat(i % 90)}"}`);
    const expected = Buffer.from(lines.map((l, i) => `${i === 0 ? '' : ','}${l}\n`).join(''), 'utf8');
    const { out, chunks, bytes, sha256 } = await roundTrip(lines);
    expect(out.equals(expected)).toBe(true);
    expect(bytes).toBe(expected.length);
    expect(sha256).toBe(createHash('sha256').update(expected).digest('hex'));
    // Chunked: far fewer writes than lines, none past twice the chunk size.
    expect(chunks.length).toBeLessThan(lines.length / 50);
    expect(Math.max(...chunks)).toBeLessThanOrEqual(2 * ARCHIVE_CHUNK_BYTES);
  });

  it('keeps a line longer than a chunk whole, between the lines around it', async () => {
    const long = `"${'ü'.repeat(3 * ARCHIVE_CHUNK_BYTES)}"`;
    const lines = ['{"a":1}', long, '{"b":2}'];
    const { out } = await roundTrip(lines);
    expect(out.toString('utf8')).toBe(`{"a":1}\n,${long}\n,{"b":2}\n`);
  });

  it('queues owned buffers without a copy and copies small ones, keeping the order', async () => {
    const writer = new ChunkedEntryWriter();
    const parts: Buffer[] = [];
    writer.stream.on('data', (chunk: Buffer) => parts.push(chunk));
    const owned = Buffer.from(`${'{"owned":true}\n'.repeat(1000)}`);
    const inputs = [Buffer.from('{"a":1}\n'), owned, Buffer.from('{"b":2}\n'), Buffer.from('{"c":3}\n')];
    for (const [i, bytes] of inputs.entries()) {
      if (writer.appendBytes(bytes, i === 1)) await writer.flush();
    }
    const { bytes, sha256 } = await writer.end();
    const expected = Buffer.concat(inputs);
    expect(Buffer.concat(parts).equals(expected)).toBe(true);
    expect(bytes).toBe(expected.length);
    expect(sha256).toBe(createHash('sha256').update(expected).digest('hex'));
    // The owned buffer went out as it was; the small ones were gathered into chunks.
    expect(parts).toContain(owned);
    expect(parts).toHaveLength(3);
  });

  describe('when the archive stops taking bytes', () => {
    const big = () => Buffer.alloc(8 * ARCHIVE_CHUNK_BYTES, 0x61);

    it('rejects a flush once the entry stream was destroyed, instead of waiting for a drain that never comes', async () => {
      const writer = new ChunkedEntryWriter();
      // The archive's end of the entry, as the writers have it: it listens for errors, reads nothing.
      writer.stream.on('error', () => undefined);
      writer.appendBytes(big());
      // Nobody reads: the first flush waits for the archive; then the archive gives up.
      const waiting = writer.flush();
      writer.stream.destroy(new Error('archive gone'));
      await expect(waiting).rejects.toThrow('archive gone');
      // The next flush, after the close already happened, rejects too.
      writer.appendBytes(big());
      await expect(writer.flush()).rejects.toThrow('archive gone');
    });

    it('rejects a flush waiting for the archive when its signal is aborted, leaving no listener', async () => {
      const controller = new AbortController();
      const writer = new ChunkedEntryWriter(controller.signal);
      writer.appendBytes(big());
      const waiting = writer.flush();
      controller.abort(new Error('storage failed'));
      await expect(waiting).rejects.toThrow('storage failed');
      expect(writer.stream.listenerCount('drain')).toBe(0);
      expect(writer.stream.listenerCount('close')).toBe(0);
      await expect(writer.flush()).rejects.toThrow('storage failed');
    });

    it('does not wait for a drain that already happened', async () => {
      const writer = new ChunkedEntryWriter();
      writer.appendBytes(big());
      const waiting = writer.flush();
      // Reading everything emits the drain the flush waits for.
      writer.stream.resume();
      await waiting;
      writer.appendBytes(Buffer.from('{"a":1}\n'));
      await writer.flush();
      expect((await writer.end()).bytes).toBe(8 * ARCHIVE_CHUNK_BYTES + 8);
    });
  });
});
