import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ExportPrincipal, ExportStatus } from 'nestjs-data-export';
import { createTestApp, downloadArchive, TestApp, waitForExport } from '../utils/test-app';
import { DATABASES } from '../utils/databases';
import { parseNdjson, readZip } from '../utils/zip';
import { buildVerifyCli, VerifyCli } from '../utils/verify-cli';
import { AttachedDocument, BLOB, NOTES, PICTURE, StrictDocument } from './attachment.entities';

const exec = promisify(execFile);
const OWNER: ExportPrincipal = { userId: 'u1', accountId: 'team-1', role: 'owner' };
const sha = (data: Buffer) => createHash('sha256').update(data).digest('hex');

/** Python's zipfile: each entry's compression method (0 stored, 8 deflated), after testzip. */
const PYTHON_METHODS = `
import json, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    assert z.testzip() is None
    print(json.dumps({i.filename: i.compress_type for i in z.infolist()}))
`;

const KINDS = ['plain', 'hostile', 'names', 'faults', 'slow', 'odd', 'hung', 'gone'];

describe.each(DATABASES)('attachments (%s)', (db) => {
  let t: TestApp;
  let cli: VerifyCli;
  let dir: string;

  beforeAll(async () => {
    cli = await buildVerifyCli();
    dir = mkdtempSync(join(tmpdir(), 'data-export-attach-'));
    t = await createTestApp(db, { entities: [AttachedDocument, StrictDocument] });
    const repo = t.dataSource.getRepository(AttachedDocument);
    await repo.clear();
    await t.dataSource.getRepository(StrictDocument).clear();
    await repo.save(KINDS.map((kind) => ({ id: `doc-${kind}`, teamId: 'team-1', kind, fileA: 'a', fileB: 'b', fileC: 'c' })));
    // Two ids that sanitize to the same folder.
    await repo.save(['dup/1', 'dup_1'].map((id) => ({ id, teamId: 'team-1', kind: 'dup', fileA: 'a', fileB: null, fileC: null })));
    // Another team's row: its files are never resolved into this team's archive.
    await repo.save({ id: 'doc-other', teamId: 'team-2', kind: 'plain', fileA: 'a', fileB: 'b', fileC: 'c' });
  }, 90_000);
  afterAll(async () => {
    await t?.close();
    cli?.remove();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function exportArchive(format: 'zip' | 'csv' | 'json'): Promise<Buffer> {
    const view = await t.service.request(OWNER, { format } as never);
    const row = await waitForExport(t.dataSource, view.id, 60_000);
    expect([row.status, row.error]).toEqual([ExportStatus.Completed, null]);
    const bytes = await downloadArchive(t, row.id, OWNER);
    const q = (c: string) => (db === 'mariadb' ? `\`${c}\`` : `"${c}"`);
    // The next export of the test may start at once: no slot held, no cooldown.
    await t.dataSource.query(`UPDATE data_exports SET ${q('activeSlot')} = NULL, ${q('status')} = 'expired', ${q('completedAt')} = NULL`);
    return bytes;
  }

  it('puts small files in the archive, references large ones by URL, lists every missing one, sanitizes names, and verifies', async () => {
    const bytes = await exportArchive('zip');
    const file = join(dir, `${db}.zip`);
    writeFileSync(file, bytes);
    const zip = await readZip(bytes);
    const manifest = JSON.parse(zip.get('manifest.json')!.toString('utf8'));
    const rows = Object.fromEntries(parseNdjson(zip.get('documents.ndjson')!).map((r) => [r.id, r]));
    expect(Object.keys(rows).sort()).toEqual([...KINDS.map((k) => `doc-${k}`), 'dup/1', 'dup_1'].sort());
    expect([rows['dup/1'].fileA, rows['dup_1'].fileA].map((f) => (f as { path: string }).path).sort()).toEqual([
      'attachments/documents/dup_1/same (2).txt',
      'attachments/documents/dup_1/same.txt',
    ]);

    const base = 'attachments/documents';
    // Small files: the field holds path, declared size and content type; the bytes are the file's.
    expect(rows['doc-plain']).toMatchObject({
      fileA: { path: `${base}/doc-plain/notes.txt`, size: NOTES.length, contentType: 'text/plain' },
      fileB: { path: `${base}/doc-plain/shot.png`, size: PICTURE.length, contentType: 'image/png' },
      fileC: { path: `${base}/doc-plain/blob.bin`, size: null, contentType: null },
    });
    expect(zip.get(`${base}/doc-plain/notes.txt`)).toEqual(NOTES);
    expect(zip.get(`${base}/doc-plain/shot.png`)).toEqual(PICTURE);
    expect(zip.get(`${base}/doc-plain/blob.bin`)).toEqual(BLOB);

    // Hostile and foreign names: one safe segment each, non-ASCII kept, unique within the row.
    const names = (id: string) => ['fileA', 'fileB', 'fileC'].map((f) => ((rows[id][f] as { path: string }).path.split('/').slice(3).join('/')));
    expect(names('doc-hostile')).toEqual(['_x', '_etc_passwd', '_ev_il_name_.txt']);
    const [long, unicode, duplicate] = names('doc-names');
    expect(Buffer.byteLength(long, 'utf8')).toBeLessThanOrEqual(200);
    expect(long).toMatch(/^é+\.txt$/);
    expect([unicode, duplicate]).toEqual(['Ünïcödé 文件.txt', 'ÜNÏCÖDÉ 文件 (2).TXT']);
    for (const name of zip.keys()) {
      expect(name).not.toMatch(/(^|\/)\.\.(\/|$)|^\/|[\u0000-\u001f\u202e]/);
    }

    // Over the limit: the URL resolve gave. Missing: in the row and in the manifest, with the reason.
    expect(rows['doc-faults'].fileA).toEqual({ url: 'https://files.example.test/big.mov', size: 5000, expiresAt: '2030-01-01T00:00:00.000Z' });
    expect(rows['doc-faults'].fileB).toEqual({ missing: 'resolve failed: Error' });
    expect(rows['doc-slow'].fileC).toBeNull();
    expect(rows['doc-gone'].fileA).toEqual({ missing: expect.stringContaining('larger than maxBytes') });

    const missing = Object.fromEntries((manifest.missing as { rowId: string; field: string; reason: string; path?: string }[]).map((m) => [`${m.rowId}.${m.field}`, m]));
    expect(Object.keys(missing).sort()).toEqual(['doc-faults.fileB', 'doc-faults.fileC', 'doc-gone.fileA', 'doc-gone.fileB', 'doc-gone.fileC', 'doc-hung.fileA', 'doc-odd.fileA', 'doc-slow.fileA', 'doc-slow.fileB']);
    expect(missing['doc-odd.fileA'].reason).toBe('resolve gave neither a stream nor a url');
    // An expiry that is not a date is left out rather than failing the export (the export's own expiry is not known yet).
    expect(rows['doc-odd'].fileB).toEqual({ url: 'https://files.example.test/link.bin', size: null, expiresAt: null });
    expect(missing['doc-hung.fileA'].reason).toMatch(/^resolve failed: .*stalled/);
    expect(rows['doc-hung'].fileA).toEqual({ missing: expect.stringContaining('stalled') });
    expect(missing['doc-faults.fileC']).toMatchObject({ category: 'documents', path: `${base}/doc-faults/broken.bin`, reason: expect.stringMatching(/^failed after \d+ bytes: Error$/) });
    expect(missing['doc-slow.fileA'].reason).toContain('stalled');
    expect(missing['doc-slow.fileB']).toMatchObject({ path: `${base}/doc-slow/liar.txt`, reason: expect.stringContaining('larger than its declared size') });
    expect(zip.get(`${base}/doc-slow/liar.txt`)).toEqual(NOTES.subarray(0, 10));
    expect(missing['doc-gone.fileB'].reason).toBe('could not be opened: Error');
    expect(missing['doc-gone.fileC'].reason).toBe('could not be read: Error');
    // The host's error messages stay out of the archive: only the error's class is named.
    const everything = [...zip.values()].map((b) => b.toString('latin1')).join('\n');
    for (const text of ['no such object', 'disk read error', 'bucket unavailable', 'already failed']) expect(everything).not.toContain(text);
    // Nothing of the other team, and no entry for a file that never opened.
    expect([...zip.keys()].some((n) => n.includes('doc-other') || n.includes('closed.bin') || n.includes('slow.bin'))).toBe(false);

    // Every attachment in the manifest: the in-archive ones with a sha256 that matches.
    const attachments = manifest.attachments as { path?: string; url?: string; size: number; sha256?: string; rowId: string; field: string }[];
    expect(attachments).toHaveLength(3 + 3 + 3 + 1 + 1 + 2);
    for (const a of attachments.filter((x) => x.path)) {
      expect([a.path, sha(zip.get(a.path!)!), zip.get(a.path!)!.length]).toEqual([a.path, a.sha256, a.size]);
    }
    expect(attachments.filter((a) => a.url)).toHaveLength(2);
    expect(attachments.find((a) => a.url)).toMatchObject({ rowId: 'doc-faults', field: 'fileA', url: 'https://files.example.test/big.mov', size: 5000 });

    // Already-compressed files are stored, text is deflated.
    const methods = JSON.parse((await exec('python3', ['-c', PYTHON_METHODS, file])).stdout);
    expect([methods[`${base}/doc-plain/notes.txt`], methods[`${base}/doc-plain/shot.png`], methods[`${base}/doc-plain/blob.bin`], methods['documents.ndjson']]).toEqual([8, 0, 0, 8]);

    const verdict = await cli.run(['verify', file]);
    expect(verdict).toMatchObject({ stdout: expect.stringMatching(/^OK /), code: 0, stderr: '' });
  }, 60_000);

  it('a CSV archive holds the same attachments and verifies', async () => {
    const bytes = await exportArchive('csv');
    const file = join(dir, `${db}.csv.zip`);
    writeFileSync(file, bytes);
    const zip = await readZip(bytes);
    expect(zip.get('attachments/documents/doc-plain/shot.png')).toEqual(PICTURE);
    const csv = zip.get('documents.csv')!.toString('utf8');
    expect(csv).toContain('attachments/documents/doc-plain/notes.txt');
    expect((await cli.run(['verify', file])).code).toBe(0);
  }, 60_000);

  it('a JSON document references files by URL only, says which it does not hold, and verifies', async () => {
    const bytes = await exportArchive('json');
    const file = join(dir, `${db}.json`);
    writeFileSync(file, bytes);
    const doc = JSON.parse(bytes.toString('utf8'));
    const rows = Object.fromEntries((doc.data.documents as Record<string, unknown>[]).map((r) => [r.id, r]));
    expect(rows['doc-plain'].fileB).toEqual({ name: 'shot.png', size: PICTURE.length, contentType: 'image/png', notIncluded: expect.stringContaining('zip') });
    expect(rows['doc-faults'].fileA).toMatchObject({ url: 'https://files.example.test/big.mov' });
    expect(doc.attachments).toEqual([
      expect.objectContaining({ rowId: 'doc-faults', field: 'fileA', url: 'https://files.example.test/big.mov' }),
      expect.objectContaining({ rowId: 'doc-odd', field: 'fileB', url: 'https://files.example.test/link.bin' }),
    ]);
    expect((await cli.run(['verify', file])).code).toBe(0);
  }, 60_000);

  it("with onError 'fail', a file that cannot be read fails the export and frees its slot", async () => {
    await t.dataSource.getRepository(StrictDocument).save({ id: 's1', teamId: 'team-1', file: 'x' });
    try {
      const view = await t.service.request(OWNER, { format: 'zip' } as never);
      const row = await waitForExport(t.dataSource, view.id, 60_000);
      expect(row.status).toBe(ExportStatus.Failed);
      expect(row.activeSlot).toBeNull();
    } finally {
      await t.dataSource.getRepository(StrictDocument).clear();
    }
  }, 60_000);
});
