import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createWriteStream, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import { promisify } from 'node:util';
import { ExportRegistry } from 'nestjs-data-export';
import { ZipArchiveWriter } from '../../lib/archive/zip-archive.writer';
import { createEntitySource } from '../../lib/source/create-entity-source';
import { ExportSource } from '../../lib/source/export-source';
import { DataExport } from '../../lib/entities/data-export.entity';
import { createTestApp, TestApp } from '../utils/test-app';
import { readZipEntries } from '../utils/zip';
import { buildVerifyCli, VerifyCli } from '../utils/verify-cli';
import { AttachedDocument, BLOB, NOTES, PICTURE, StrictDocument } from './attachment.entities';

const exec = promisify(execFile);
const sha = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');
/** The ZIP64 threshold of this archive: the 100 KiB picture and the 80 KiB blob of unknown size (maxBytes 1 MiB) are "large". */
const LIMIT = 50 * 1024;

async function sh(command: string, args: string[], pipeFrom?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = pipeFrom === undefined
      ? await exec(command, args, { maxBuffer: 64 * 1024 * 1024, encoding: 'latin1' })
      : await exec('bash', ['-c', `cat "$0" | ${command} ${args.map((a) => `'${a}'`).join(' ')}`, pipeFrom], { maxBuffer: 64 * 1024 * 1024, encoding: 'latin1' });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** The local header of each entry: its name, version needed and extra field ids, read in file order. */
function localHeaders(bytes: Buffer): { name: string; version: number; extraIds: number[] }[] {
  const out: { name: string; version: number; extraIds: number[] }[] = [];
  for (let at = bytes.indexOf('PK\u0003\u0004', 0, 'latin1'); at !== -1; at = bytes.indexOf('PK\u0003\u0004', at + 4, 'latin1')) {
    const nameLength = bytes.readUInt16LE(at + 26);
    const extraLength = bytes.readUInt16LE(at + 28);
    const name = bytes.toString('utf8', at + 30, at + 30 + nameLength);
    if (!/^(README|schemas|documents|strict_documents|attachments|manifest)/.test(name)) continue;
    const extraIds: number[] = [];
    for (let e = at + 30 + nameLength; e < at + 30 + nameLength + extraLength; e += 4 + bytes.readUInt16LE(e + 2)) extraIds.push(bytes.readUInt16LE(e));
    out.push({ name, version: bytes.readUInt16LE(at + 4), extraIds });
  }
  return out;
}

describe('ZIP64 attachments read by other readers (sqlite)', () => {
  let t: TestApp;
  let cli: VerifyCli;
  let dir: string;
  let file: string;

  beforeAll(async () => {
    cli = await buildVerifyCli();
    dir = mkdtempSync(join(tmpdir(), 'data-export-zip64-'));
    t = await createTestApp('sqlite', { entities: [AttachedDocument, StrictDocument] });
    await t.dataSource.getRepository(AttachedDocument).save({ id: 'doc-plain', teamId: 'team-1', kind: 'plain', fileA: 'a', fileB: 'b', fileC: 'c' });
    const subject = { kind: 'account' as const, accountId: 'team-1', userId: 'u1', requestedBy: 'u1' };
    const source = new ExportSource(createEntitySource({ dataSource: t.dataSource, subject, filters: {}, batchSize: 7 }), subject, {});
    const registry = t.app.get(ExportRegistry);
    file = join(dir, 'attachments64.zip');
    const out = createWriteStream(file);
    await source.open();
    try {
      const exportRow = Object.assign(new DataExport(), { id: 'exp-zip64', accountId: 'team-1', kind: 'account', requestedBy: 'u1', filters: {} });
      await new ZipArchiveWriter({ zip64Limit: LIMIT }).write(
        { exportRow, categories: registry.getPlannedCategories(), source, batchSize: 7, exportedAt: new Date(), compressionLevel: 6, onBatch: async () => undefined, notIncluded: registry.getNotIncluded(), about: {} },
        out,
      );
      await finished(out);
    } finally {
      await source.close();
    }
  }, 90_000);
  afterAll(async () => {
    await t?.close();
    cli?.remove();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('declares ZIP64 in the local header of a large or unknown-size attachment, and unzip, 7z, bsdtar (from a pipe too), Python and verify read it whole', async () => {
    const bytes = readFileSync(file);
    const base = 'attachments/documents/doc-plain';
    const expected: Record<string, Buffer> = { [`${base}/notes.txt`]: NOTES, [`${base}/shot.png`]: PICTURE, [`${base}/blob.bin`]: BLOB };

    const locals = Object.fromEntries(localHeaders(bytes).map((h) => [h.name, h]));
    expect(locals[`${base}/shot.png`]).toMatchObject({ version: 45, extraIds: [0x0001] });
    expect(locals[`${base}/blob.bin`]).toMatchObject({ version: 45, extraIds: [0x0001] });
    expect(locals[`${base}/notes.txt`]).toMatchObject({ version: 20, extraIds: [] });
    // The central directory agrees: yauzl reads the ZIP64 sizes of the declared entries.
    const entries = await readZipEntries(bytes);
    for (const [name, data] of Object.entries(expected)) expect(entries.find((e) => e.name === name)!.data).toEqual(data);

    const python = await sh('python3', ['-c', 'import hashlib,json,sys,zipfile\nz=zipfile.ZipFile(sys.argv[1])\nassert z.testzip() is None\nprint(json.dumps({i.filename: hashlib.sha256(z.read(i)).hexdigest() for i in z.infolist()}))', file]);
    expect(python.stderr).toBe('');
    const pySha = JSON.parse(python.stdout);
    for (const [name, data] of Object.entries(expected)) expect(pySha[name]).toBe(sha(data));

    const seven = await sh('7z', ['t', file]);
    expect([seven.code, seven.stdout.includes('Everything is Ok'), /Warnings|Headers Error/.test(seven.stdout)]).toEqual([0, true, false]);
    const unzip = await sh('unzip', ['-t', file]);
    expect([unzip.code, unzip.stdout.includes('No errors detected')]).toEqual([0, true]);
    const listed = await sh('bsdtar', ['-tf', file]);
    expect(listed).toMatchObject({ code: 0, stderr: '' });
    // Streaming: every entry from a pipe, through the local headers and data descriptors only.
    for (const name of entries.map((e) => e.name)) {
      const piped = await sh('bsdtar', ['-xOf', '-', name], file);
      expect([name, piped.code, piped.stderr, sha(Buffer.from(piped.stdout, 'latin1'))]).toEqual([name, 0, '', sha(entries.find((e) => e.name === name)!.data)]);
    }
    const verdict = await cli.run(['verify', file]);
    expect(verdict).toMatchObject({ code: 0, stderr: '' });
  }, 60_000);
});
