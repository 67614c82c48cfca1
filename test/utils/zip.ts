import * as yauzl from 'yauzl';

/** One entry of a ZIP as read back: its bytes, the CRC-32 its headers state, its extra field ids. */
export interface ZipEntryRead {
  name: string;
  crc32: number;
  extraFieldIds: number[];
  data: Buffer;
}

/** Opens a ZIP with yauzl (sizes validated) and returns every entry, in order. */
export function readZipEntries(buffer: Buffer): Promise<ZipEntryRead[]> {
  return new Promise((resolve, reject) => {
    yauzl.fromBuffer(buffer, { lazyEntries: true, validateEntrySizes: true }, (err, zip) => {
      if (err || !zip) return reject(err);
      const entries: ZipEntryRead[] = [];
      zip.on('error', reject);
      zip.on('end', () => resolve(entries));
      zip.on('entry', (entry: yauzl.Entry) => {
        zip.openReadStream(entry, (e, stream) => {
          if (e || !stream) return reject(e);
          const chunks: Buffer[] = [];
          stream.on('data', (c: Buffer) => chunks.push(c));
          stream.on('error', reject);
          stream.on('end', () => {
            entries.push({ name: entry.fileName, crc32: entry.crc32, extraFieldIds: entry.extraFields.map((f) => f.id), data: Buffer.concat(chunks) });
            zip.readEntry();
          });
        });
      });
      zip.readEntry();
    });
  });
}

/** Every entry's bytes by name. */
export async function readZip(buffer: Buffer): Promise<Map<string, Buffer>> {
  return new Map((await readZipEntries(buffer)).map((e) => [e.name, e.data]));
}

/** Parses NDJSON, failing on any line that is not one JSON object. */
export function parseNdjson(bytes: Buffer): Record<string, unknown>[] {
  const text = bytes.toString('utf8');
  if (text === '') return [];
  expect(text.endsWith('\n')).toBe(true);
  return text
    .slice(0, -1)
    .split('\n')
    .map((line) => {
      const value = JSON.parse(line);
      expect(typeof value).toBe('object');
      return value;
    });
}
