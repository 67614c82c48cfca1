import { createHash } from 'node:crypto';
import { ARCHIVE_CHUNK_BYTES, ChunkedEntryWriter } from './chunked-entry.writer';

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
});
