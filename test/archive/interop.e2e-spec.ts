import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createWriteStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { ExportPrincipal, ExportRegistry, ExportStatus } from 'nestjs-data-export';
import { ZipArchiveWriter } from '../../lib/archive/zip-archive.writer';
import { createEntitySource } from '../../lib/source/create-entity-source';
import { ExportSource } from '../../lib/source/export-source';
import { DataExport } from '../../lib/entities/data-export.entity';
import { createTestApp, downloadArchive, TestApp, waitForExport } from '../utils/test-app';
import { readZipEntries } from '../utils/zip';
import { buildVerifyCli, VerifyCli } from '../utils/verify-cli';
import { HELP_DESK_ENTITIES } from '../fixtures/help-desk.entities';
import { seedHelpDesk, TEAM_A } from '../fixtures/help-desk.seed';

const exec = promisify(execFile);
const OWNER_A: ExportPrincipal = { userId: 'user-a1', accountId: TEAM_A, role: 'owner' };

/** Runs a reader; its exit code and output. */
async function sh(command: string, args: string[], input?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = input === undefined
      ? await exec(command, args, { maxBuffer: 64 * 1024 * 1024 })
      : await exec('bash', ['-c', `cat "$0" | ${command} ${args.map((a) => `'${a}'`).join(' ')}`, input], { maxBuffer: 64 * 1024 * 1024 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** Python's zipfile: testzip, then every entry's sha256, and the ZIP64 flag it saw. */
const PYTHON_ZIP = `
import hashlib, json, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    assert z.testzip() is None, z.testzip()
    out = {i.filename: hashlib.sha256(z.read(i)).hexdigest() for i in z.infolist()}
    out['zip64'] = any(i.file_size >= 0 and (i.extra and b'\\x01\\x00' == i.extra[:2]) for i in z.infolist())
print(json.dumps(out))
`;

const PYTHON_JSON = `
import gzip, json, sys
path = sys.argv[1]
opener = gzip.open if path.endswith('.gz') else open
with opener(path, 'rt', encoding='utf-8') as f:
    doc = json.load(f)
print(json.dumps({k: len(v) for k, v in doc['data'].items()}))
`;

describe('archives read by other readers (sqlite)', () => {
  let t: TestApp;
  let cli: VerifyCli;
  let dir: string;
  const files: Record<'zip' | 'zip64' | 'json' | 'json.gz', string> = {} as never;
  let counts: Record<string, number>;

  beforeAll(async () => {
    cli = await buildVerifyCli();
    dir = mkdtempSync(join(tmpdir(), 'data-export-interop-'));
    t = await createTestApp('sqlite', { entities: HELP_DESK_ENTITIES, exportOptions: { batchSize: 7 } });
    await seedHelpDesk(t.dataSource);
    let row: DataExport | undefined;
    for (const format of ['zip', 'json', 'json.gz'] as const) {
      const view = await t.service.request(OWNER_A, { format } as never);
      row = await waitForExport(t.dataSource, view.id);
      expect([row.status, row.error]).toEqual([ExportStatus.Completed, null]);
      files[format] = join(dir, `export.${format}`);
      writeFileSync(files[format], await downloadArchive(t, row.id, OWNER_A));
      counts = row.counts!;
      await t.dataSource.query(`UPDATE data_exports SET "activeSlot" = NULL, "status" = 'expired', "completedAt" = NULL`);
    }
    // The same export through a ZIP writer whose ZIP64 threshold is 1 byte: every size and
    // offset goes in ZIP64 fields and the ZIP64 end records are written, as past 4 GiB.
    const subject = { kind: 'account' as const, accountId: TEAM_A, userId: 'user-a1', requestedBy: 'user-a1' };
    const source = new ExportSource(createEntitySource({ dataSource: t.dataSource, subject, filters: {}, batchSize: 7 }), subject, {});
    const registry = t.app.get(ExportRegistry);
    files.zip64 = join(dir, 'export64.zip');
    const out = createWriteStream(files.zip64);
    await source.open();
    try {
      await new ZipArchiveWriter({ zip64Limit: 1 }).write(
        {
          exportRow: row!,
          categories: registry.getPlannedCategories(),
          source,
          batchSize: 7,
          exportedAt: new Date(),
          compressionLevel: 6,
          onBatch: async () => undefined,
          notIncluded: registry.getNotIncluded(),
          about: {},
        },
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

  it.each(['zip', 'zip64'] as const)('%s: Python zipfile, bsdtar (the normal ZIP from a pipe too), 7z, unzip, yauzl and verify all read it whole', async (kind) => {
    const path = files[kind];
    const bytes = readFileSync(path);
    const entries = await readZipEntries(bytes);
    const names = entries.map((e) => e.name);
    expect(names).toEqual(['README.txt', ...Object.keys(counts).map((c) => `schemas/${c}.schema.json`), ...Object.keys(counts).map((c) => `${c}.ndjson`), 'manifest.json']);
    const sha = Object.fromEntries(entries.map((e) => [e.name, createHash('sha256').update(e.data).digest('hex')]));
    // yauzl sees ZIP64 extra fields exactly in the ZIP64 archive.
    expect(entries.slice(1).every((e) => e.extraFieldIds.includes(0x0001))).toBe(kind === 'zip64');

    const python = await sh('python3', ['-c', PYTHON_ZIP, path]);
    expect(python.stderr).toBe('');
    const seen = JSON.parse(python.stdout);
    expect(seen.zip64).toBe(kind === 'zip64');
    delete seen.zip64;
    expect(seen).toEqual(sha);

    const listed = await sh('bsdtar', ['-tf', path]);
    expect(listed).toMatchObject({ code: 0, stderr: '' });
    expect(listed.stdout.trim().split('\n')).toEqual(names);
    const manifest = entries.find((e) => e.name === 'manifest.json')!.data.toString('utf8');
    const extracted = await sh('bsdtar', ['-xOf', path, 'manifest.json']);
    expect(extracted).toMatchObject({ code: 0, stderr: '', stdout: manifest });
    if (kind === 'zip') {
      // Streaming: bsdtar reads the local headers and data descriptors from a pipe, without the
      // central directory. (An entry of 4 GiB or more has a 64-bit data descriptor, which
      // libarchive 3.6 misreads from a pipe: see docs/archive-format.md.)
      const piped = await sh('bsdtar', ['-xOf', '-', 'manifest.json'], path);
      expect(piped).toMatchObject({ code: 0, stderr: '', stdout: manifest });
      for (const category of Object.keys(counts)) {
        const file = await sh('bsdtar', ['-xOf', '-', `${category}.ndjson`], path);
        expect([category, file.code, createHash('sha256').update(file.stdout).digest('hex')]).toEqual([category, 0, sha[`${category}.ndjson`]]);
      }
    }

    const seven = await sh('7z', ['t', path]);
    expect(seven.code).toBe(0);
    expect(seven.stdout).toContain('Everything is Ok');
    expect(seven.stdout).toContain(`Files: ${names.length}`);
    const unzip = await sh('unzip', ['-t', path]);
    expect(unzip.code).toBe(0);
    expect(unzip.stdout).toContain('No errors detected');

    const verdict = await cli.run(['verify', path]);
    expect(verdict).toMatchObject({ code: 0, stderr: '' });
    expect(verdict.stdout).toMatch(new RegExp(`^OK ${path}: 4 categories, ${Object.values(counts).reduce((a, b) => a + b, 0)} rows, sha256 ${createHash('sha256').update(bytes).digest('hex')}\\n$`));
  });

  it('json and json.gz: Python json and gzip, gzip -t, 7z and verify read them whole', async () => {
    for (const kind of ['json', 'json.gz'] as const) {
      const path = files[kind];
      const python = await sh('python3', ['-c', PYTHON_JSON, path]);
      expect(python.stderr).toBe('');
      expect(JSON.parse(python.stdout)).toEqual(counts);
      expect((await cli.run(['verify', path])).code).toBe(0);
    }
    const gz = files['json.gz'];
    expect((await sh('gzip', ['-t', gz])).code).toBe(0);
    const seven = await sh('7z', ['t', gz]);
    expect(seven.code).toBe(0);
    expect(seven.stdout).toContain('Everything is Ok');
    // Python's gzip gives the bytes node's gunzip gives, and they are the JSON document.
    const python = await sh('python3', ['-c', 'import gzip,sys; sys.stdout.buffer.write(gzip.open(sys.argv[1]).read())', gz]);
    const document = gunzipSync(readFileSync(gz)).toString('utf8');
    expect(python).toMatchObject({ code: 0, stdout: document });
    expect(JSON.parse(document).summary.byCategory).toEqual(counts);
  });
});
