import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ExportPrincipal, ExportStatus } from 'nestjs-data-export';
import { DATABASES } from '../utils/databases';
import { createTestApp, downloadArchive, TestApp, waitForExport } from '../utils/test-app';
import { parseNdjson, readZip } from '../utils/zip';
import { HELP_DESK_ENTITIES } from '../fixtures/help-desk.entities';
import {
  expectedRows,
  HelpDeskSeed,
  secretsOf,
  seedHelpDesk,
  TEAM_A,
} from '../fixtures/help-desk.seed';

const OWNER_A: ExportPrincipal = { userId: 'user-a1', accountId: TEAM_A, role: 'owner' };
const CATEGORIES = ['customers', 'tickets', 'messages', 'webhooks'] as const;

describe.each(DATABASES)('archive on %s', (db) => {
  let t: TestApp;
  let seed: HelpDeskSeed;

  beforeAll(async () => {
    // A small batch size makes every category span several batches.
    t = await createTestApp(db, { entities: HELP_DESK_ENTITIES, exportOptions: { batchSize: 7 } });
    seed = await seedHelpDesk(t.dataSource);
  });
  afterAll(() => t?.close());

  async function exportFor(input = {}): Promise<{ row: Awaited<ReturnType<typeof waitForExport>>; bytes: Buffer }> {
    const view = await t.service.request(OWNER_A, input);
    const row = await waitForExport(t.dataSource, view.id);
    expect(row.error).toBeNull();
    expect(row.status).toBe(ExportStatus.Completed);
    const bytes = await downloadArchive(t, row.id, OWNER_A);
    // At rest the file is encrypted: none of the archive's bytes show through.
    const stored = readFileSync(join(t.storageDir, row.storageKey!));
    expect(stored.subarray(0, 4).toString('latin1')).toBe('NDX1');
    for (const secret of secretsOf(seed)) expect(stored.includes(secret)).toBe(false);
    // The stored file is complete and alone: no temporary file is left behind.
    expect(readdirSync(t.storageDir).filter((f) => f.includes('.partial'))).toEqual([]);
    // Each request must free the slot for the next test of this suite.
    await t.dataSource.query(`UPDATE data_exports SET ${t.dataSource.driver.escape('activeSlot')} = NULL, ${t.dataSource.driver.escape('status')} = 'expired', ${t.dataSource.driver.escape('completedAt')} = NULL`);
    return { row, bytes };
  }

  it('writes a ZIP whose rows equal the account rows, redacted and scoped', async () => {
    const { row, bytes } = await exportFor();
    expect(row.size).toBe(bytes.length);
    expect(row.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));

    const entries = await readZip(bytes);
    expect([...entries.keys()].sort()).toEqual(
      [
        'README.txt',
        'manifest.json',
        ...CATEGORIES.map((c) => `${c}.ndjson`),
        ...CATEGORIES.map((c) => `schemas/${c}.schema.json`),
      ].sort(),
    );

    const expected = expectedRows(seed);
    const manifest = JSON.parse(entries.get('manifest.json')!.toString('utf8'));
    expect(manifest).toMatchObject({ exportVersion: '1', exportId: row.id, accountId: TEAM_A, requestedBy: 'user-a1' });
    expect(manifest.categories.map((c: { name: string }) => c.name)).toEqual([...CATEGORIES]);

    const ajv = new Ajv2020({ strict: false });
    addFormats(ajv);
    for (const category of CATEGORIES) {
      const file = entries.get(`${category}.ndjson`)!;
      const rows = parseNdjson(file);
      expect(rows).toEqual(expected[category]);
      // Key order follows the entity's column order, and no other key appears.
      rows.forEach((r, i) => expect(Object.keys(r)).toEqual(Object.keys(expected[category][i])));

      const entry = manifest.categories.find((c: { name: string }) => c.name === category);
      expect(entry).toMatchObject({ file: `${category}.ndjson`, rows: rows.length, bytes: file.length });
      expect(entry.sha256).toBe(createHash('sha256').update(file).digest('hex'));
      expect(manifest.summary.byCategory[category]).toBe(rows.length);
      expect(row.counts![category]).toBe(rows.length);

      const schema = JSON.parse(entries.get(`schemas/${category}.schema.json`)!.toString('utf8'));
      const validate = ajv.compile(schema);
      for (const r of rows) {
        expect(validate(r) ? null : validate.errors).toBeNull();
      }
    }
    expect(manifest.summary.rows).toBe(CATEGORIES.reduce((n, c) => n + expected[c].length, 0));

    // Redacted fields are absent from the rows and from the schemas.
    const customersSchema = JSON.parse(entries.get('schemas/customers.schema.json')!.toString('utf8'));
    expect(Object.keys(customersSchema.properties)).not.toEqual(expect.arrayContaining(['nationalId']));
    expect(customersSchema.properties).not.toHaveProperty('portalPasswordHash');
    expect(customersSchema.properties).not.toHaveProperty('nationalId');
    const webhooksSchema = JSON.parse(entries.get('schemas/webhooks.schema.json')!.toString('utf8'));
    expect(webhooksSchema.properties).not.toHaveProperty('signingSecret');

    // No canary in the archive's bytes, compressed or not.
    const haystacks = [bytes, ...entries.values()].map((b) => b.toString('latin1'));
    const utf8 = [...entries.values()].map((b) => b.toString('utf8'));
    for (const secret of secretsOf(seed)) {
      for (const h of [...haystacks, ...utf8]) expect(h.includes(secret)).toBe(false);
    }
  });

  it('writes the json format as one streamed document with the same rows', async () => {
    const { row, bytes } = await exportFor({ format: 'json' });
    expect(row.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
    const doc = JSON.parse(bytes.toString('utf8'));
    expect(doc).toMatchObject({ exportVersion: '1', accountId: TEAM_A, exportId: row.id });
    expect(doc.data).toEqual(expectedRows(seed));
    expect(doc.summary.byCategory).toEqual(Object.fromEntries(CATEGORIES.map((c) => [c, doc.data[c].length])));
    for (const secret of secretsOf(seed)) expect(bytes.toString('utf8').includes(secret)).toBe(false);
  });

  it('writes json.gz as the same document gzipped, whose bytes the size, sha256 and download type describe', async () => {
    const view = await t.service.request(OWNER_A, { format: 'json.gz' });
    const row = await waitForExport(t.dataSource, view.id);
    expect([row.status, row.format]).toEqual([ExportStatus.Completed, 'json.gz']);
    const bytes = await downloadArchive(t, row.id, OWNER_A);
    expect(bytes.subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]));
    expect(row.size).toBe(bytes.length);
    expect(row.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
    const text = gunzipSync(bytes).toString('utf8');
    const doc = JSON.parse(text);
    expect(doc).toMatchObject({ exportVersion: '1', accountId: TEAM_A, exportId: row.id, format: 'json.gz' });
    expect(doc.data).toEqual(expectedRows(seed));
    for (const secret of secretsOf(seed)) expect(text.includes(secret)).toBe(false);
    const { downloadUrl } = await t.service.get(OWNER_A, row.id);
    const info = await t.service.describeDownload(row.id, new URL(downloadUrl!).searchParams.get('token'));
    expect(info.contentType).toBe('application/gzip');
    expect(info.fileName).toMatch(/\.json\.gz$/);
    // A range is of the gzipped bytes, as downloaded.
    expect(await downloadArchive(t, row.id, OWNER_A, { start: 10, end: 99 })).toEqual(bytes.subarray(10, 100));
    await t.dataSource.query(`UPDATE data_exports SET ${t.dataSource.driver.escape('activeSlot')} = NULL, ${t.dataSource.driver.escape('status')} = 'expired', ${t.dataSource.driver.escape('completedAt')} = NULL`);
  });

  it('applies the category, date-range and includeDeleted filters', async () => {
    const since = new Date(Date.UTC(2026, 0, 10, 11, 0, 0)).toISOString();
    const until = new Date(Date.UTC(2026, 0, 10, 15, 0, 0)).toISOString();
    const { bytes } = await exportFor({ categories: ['tickets', 'messages'], since, until });
    const entries = await readZip(bytes);
    expect([...entries.keys()].filter((n) => n.endsWith('.ndjson')).sort()).toEqual(['messages.ndjson', 'tickets.ndjson']);
    const inRange = (iso: unknown) => String(iso) >= since && String(iso) < until;
    const all = expectedRows(seed);
    expect(parseNdjson(entries.get('tickets.ndjson')!)).toEqual(all.tickets.filter((r) => inRange(r.createdAt)));
    expect(parseNdjson(entries.get('messages.ndjson')!)).toEqual(all.messages.filter((r) => inRange(r.createdAt)));
    const manifest = JSON.parse(entries.get('manifest.json')!.toString('utf8'));
    expect(manifest.filters).toEqual({ categories: ['tickets', 'messages'], since, until });

    const withDeleted = await exportFor({ categories: ['tickets'], includeDeleted: true });
    const tickets = parseNdjson((await readZip(withDeleted.bytes)).get('tickets.ndjson')!);
    expect(tickets).toEqual(expectedRows(seed, TEAM_A, true).tickets);
    expect(tickets.some((r) => r.deletedAt !== null)).toBe(true);
  });
});
