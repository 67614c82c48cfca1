import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { DecryptStream, deriveArchiveKey, encryptedSize, EncryptStream, HEADER_SIZE, planDecryption } from './archive-cipher';

const SEG = 1024;
const key = deriveArchiveKey('s'.repeat(40), 'export-1');

async function collect(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

async function encrypt(plain: Buffer, chunk = 333): Promise<Buffer> {
  const parts = Array.from({ length: Math.ceil(plain.length / chunk) }, (_, i) => plain.subarray(i * chunk, (i + 1) * chunk));
  return collect(Readable.from(parts).pipe(new EncryptStream(key, SEG)));
}

function decrypt(stored: Buffer, size: number, range?: { start: number; end: number }, k = key): Promise<Buffer> {
  const plan = planDecryption(size, range, SEG);
  const header = stored.subarray(0, HEADER_SIZE);
  return collect(Readable.from([stored.subarray(plan.stored.start, plan.stored.end + 1)]).pipe(new DecryptStream(k, header, plan)));
}

describe('archive cipher (AES-256-GCM segments)', () => {
  it.each([0, 1, SEG - 1, SEG, SEG + 1, 5 * SEG, 5 * SEG + 17])('round-trips %i bytes, at the expected size', async (n) => {
    const plain = randomBytes(n);
    const stored = await encrypt(plain);
    expect(stored.length).toBe(encryptedSize(n, SEG));
    expect((await decrypt(stored, n)).equals(plain)).toBe(true);
  });

  it('decrypts any byte range, across segment boundaries', async () => {
    const plain = randomBytes(7 * SEG + 100);
    const stored = await encrypt(plain);
    for (const [start, end] of [[0, 0], [SEG - 3, SEG + 3], [SEG, 2 * SEG - 1], [100, 5 * SEG + 7], [7 * SEG, 7 * SEG + 99], [plain.length - 1, plain.length - 1]]) {
      expect((await decrypt(stored, plain.length, { start, end })).equals(plain.subarray(start, end + 1))).toBe(true);
    }
  });

  it('never yields plaintext of a tampered segment', async () => {
    const plain = randomBytes(3 * SEG);
    const stored = await encrypt(plain);
    for (const offset of [5, HEADER_SIZE + 10, HEADER_SIZE + SEG + 16 + 1, stored.length - 1]) {
      const bad = Buffer.from(stored);
      bad[offset] ^= 0x01;
      await expect(decrypt(bad, plain.length)).rejects.toThrow();
    }
  });

  it('detects truncation, a dropped final segment, reordering, and another export’s key', async () => {
    const plain = randomBytes(3 * SEG);
    const stored = await encrypt(plain);
    const stride = SEG + 16;
    await expect(decrypt(stored.subarray(0, stored.length - 1), plain.length)).rejects.toThrow();
    await expect(decrypt(stored.subarray(0, HEADER_SIZE + 2 * stride), plain.length)).rejects.toThrow(/truncated/);
    const swapped = Buffer.concat([
      stored.subarray(0, HEADER_SIZE),
      stored.subarray(HEADER_SIZE + stride, HEADER_SIZE + 2 * stride),
      stored.subarray(HEADER_SIZE, HEADER_SIZE + stride),
      stored.subarray(HEADER_SIZE + 2 * stride),
    ]);
    await expect(decrypt(swapped, plain.length)).rejects.toThrow();
    await expect(decrypt(stored, plain.length, undefined, deriveArchiveKey('s'.repeat(40), 'export-2'))).rejects.toThrow();
    // A final segment presented as a middle one (the file cut after it) fails too.
    const twoOnly = await encrypt(plain.subarray(0, 2 * SEG));
    await expect(decrypt(twoOnly, plain.length)).rejects.toThrow();
  });
});
