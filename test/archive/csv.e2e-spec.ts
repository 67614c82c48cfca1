import { parse } from 'csv-parse/sync';
import { execFile } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CategoryExporter, Exporter, ExportModuleOptions, ExportPrincipal, ExportStatus, ExportSubject } from 'nestjs-data-export';
import { Customer, HELP_DESK_ENTITIES, Message, Webhook } from '../fixtures/help-desk.entities';
import { expectedRows, HelpDeskSeed, REDACTED_CANARY, secretsOf, seedHelpDesk, TEAM_A } from '../fixtures/help-desk.seed';
import { DATABASES, DatabaseName } from '../utils/databases';
import { createTestApp, downloadArchive, TestApp, waitForExport } from '../utils/test-app';
import { readZip } from '../utils/zip';

const OWNER_A: ExportPrincipal = { userId: 'user-a1', accountId: TEAM_A, role: 'owner' };
const CATEGORIES = ['customers', 'tickets', 'messages', 'webhooks'] as const;
const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/** Texts a spreadsheet would run as a formula: each must reach the CSV with a leading `'`. */
const FORMULAS = ['=HYPERLINK("https://evil.example","click")', '+1+2', "-2+3+cmd|' /C calc'!A0", '@SUM(A1:A2)', '\t=1+1', '\r=1+1'];
/** Texts that look close but are not formulas: the text of a number, or a formula sign later on. */
const NOT_FORMULAS = ['-5', '+7.25', 'a=b', ' =1'];
/** A team A customer whose text cells start like formulas and whose number is negative. */
const FORMULA_CUSTOMER = { name: '@admin', email: '-5', tokenCount: -5, customFields: { formula: '=1+1' } };

/** A team A webhook URL that is a formula. */
const FORMULA_URL = '=HYPERLINK("https://evil.example/hook","open")';

/** Adds the formula rows to team A (and to `seed`, so that they are expected like the rest). */
async function seedFormulas(t: TestApp, seed: HelpDeskSeed): Promise<void> {
  const customer = Object.assign(new Customer(), {
    id: 'a1000000-0000-4000-8000-000000000009',
    teamId: TEAM_A,
    ...FORMULA_CUSTOMER,
    portalPasswordHash: `${REDACTED_CANARY}-hash-formula`,
    nationalId: `${REDACTED_CANARY}-nid-formula`,
    phone: `+1555${REDACTED_CANARY.slice(-4)}0999`,
    createdAt: new Date(Date.UTC(2026, 0, 20)),
  });
  const messages = [...FORMULAS, ...NOT_FORMULAS].map((body, i) =>
    Object.assign(new Message(), {
      id: `a9000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
      ticketId: 'a2000000-0000-4000-8000-000000000000',
      body,
      internal: false,
      authorIp: null,
      createdAt: new Date(Date.UTC(2026, 1, 1, 0, 0, i)),
    }),
  );
  // Webhooks are plain columns: on PostgreSQL the database writes their CSV (COPY).
  const webhook = Object.assign(new Webhook(), { id: 109, ownerTeam: TEAM_A, url: FORMULA_URL, signingSecret: `${REDACTED_CANARY}-whsec-formula` });
  await t.dataSource.getRepository(Customer).insert({ ...customer } as never);
  await t.dataSource.getRepository(Message).insert(messages.map((m) => ({ ...m })));
  await t.dataSource.getRepository(Webhook).insert({ ...webhook });
  seed.customers.push(customer);
  seed.messages.push(...messages);
  seed.webhooks.push(webhook);
}

/** A cell as the CSV rules write an NDJSON value (formulas aside). */
function cellOf(value: unknown): string {
  if (value === null) return '';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/** Parses a CSV the strict way: quotes as RFC 4180 has them, every record as wide as the header, CRLF record ends. */
function parseStrict(bytes: Buffer): string[][] {
  const text = bytes.toString('utf8');
  if (text === '') return [];
  expect(text.endsWith('\r\n')).toBe(true);
  // RFC 4180: a line break is a record's end (CRLF) or inside a quoted cell, never anywhere else.
  const unquoted = text.replace(/"(?:[^"]|"")*"/g, '');
  expect(unquoted.split('\r\n').filter((piece) => /[\r\n]/.test(piece))).toEqual([]);
  return parse(text, { relax_quotes: false, relax_column_count: false, record_delimiter: '\r\n', bom: false });
}

/** Requests team A's export in `format`, waits for it, downloads it and frees the slot for the next one. */
async function exportArchive(t: TestApp, input: Record<string, unknown> = {}) {
  const view = await t.service.request(OWNER_A, { format: 'csv', ...input });
  const row = await waitForExport(t.dataSource, view.id);
  expect([row.error, row.status, row.format]).toEqual([null, ExportStatus.Completed, 'csv']);
  const bytes = await downloadArchive(t, row.id, OWNER_A);
  const { downloadUrl } = await t.service.get(OWNER_A, row.id);
  const download = await t.service.describeDownload(row.id, new URL(downloadUrl!).searchParams.get('token'));
  const q = (name: string) => t.dataSource.driver.escape(name);
  await t.dataSource.query(`UPDATE data_exports SET ${q('activeSlot')} = NULL, ${q('status')} = 'expired', ${q('completedAt')} = NULL`);
  return { row, bytes, download, entries: await readZip(bytes) };
}

/**
 * Runs LibreOffice headless on `files`: imported as UTF-8 CSV (every column as text with
 * `asText`, else as LibreOffice reads cells by itself: numbers, dates, formulas), saved back as
 * CSV with every text cell quoted, and parsed.
 */
async function libreOfficeRoundTrip(files: Map<string, Buffer>, asText: boolean): Promise<Map<string, string[][]>> {
  const dir = mkdtempSync(join(tmpdir(), 'csv-lo-'));
  try {
    mkdirSync(join(dir, 'in'));
    mkdirSync(join(dir, 'out'));
    for (const [name, bytes] of files) writeFileSync(join(dir, 'in', name), bytes);
    const textColumns = Array.from({ length: 20 }, (_, i) => `${i + 1}/2`).join('/');
    await promisify(execFile)(
      'soffice',
      [
        '--headless',
        '--norestore',
        `-env:UserInstallation=file://${join(dir, `profile-${randomUUID()}`)}`,
        `--infilter=CSV:44,34,76,1${asText ? `,${textColumns}` : ''}`,
        '--convert-to',
        'csv:Text - txt - csv (StarCalc):44,34,76,1,,0,true,true,false,false',
        '--outdir',
        join(dir, 'out'),
        ...[...files.keys()].map((name) => join(dir, 'in', name)),
      ],
      { timeout: 90_000 },
    );
    return new Map(
      [...files.keys()].map((name) => [name, parse(readFileSync(join(dir, 'out', name), 'utf8'), { bom: true, relax_column_count: true })]),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function bootWith(db: DatabaseName, csv?: ExportModuleOptions['csv']) {
  const ctx: { t: TestApp; seed: HelpDeskSeed } = {} as never;
  beforeAll(async () => {
    // A small batch size makes every category span several batches.
    ctx.t = await createTestApp(db, { entities: HELP_DESK_ENTITIES, exportOptions: { batchSize: 7, ...(csv ? { csv } : {}) } });
    ctx.seed = await seedHelpDesk(ctx.t.dataSource);
    await seedFormulas(ctx.t, ctx.seed);
  });
  afterAll(() => ctx.t?.close());
  return ctx;
}

describe.each(DATABASES)('csv archive on %s', (db) => {
  describe('with the default csv options', () => {
    const ctx = bootWith(db);

    it('writes one RFC 4180 CSV per category whose cells are the NDJSON values, redacted and scoped', async () => {
      const { t, seed } = ctx;
      const { row, bytes, entries, download } = await exportArchive(t);
      expect(row.size).toBe(bytes.length);
      expect(row.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
      expect(download.contentType).toBe('application/zip');
      expect(download.fileName).toMatch(/\.csv\.zip$/);

      expect([...entries.keys()].sort()).toEqual(
        ['README.txt', 'manifest.json', ...CATEGORIES.map((c) => `${c}.csv`), ...CATEGORIES.map((c) => `schemas/${c}.schema.json`)].sort(),
      );
      const manifest = JSON.parse(entries.get('manifest.json')!.toString('utf8'));
      expect(manifest).toMatchObject({
        format: 'csv',
        accountId: TEAM_A,
        csv: { encoding: 'utf-8', bom: false, delimiter: ',', recordDelimiter: '\r\n', header: true, neutralizeFormulas: true },
      });

      const expected = expectedRows(seed);
      const neutralized = new Set([...FORMULAS, FORMULA_CUSTOMER.name, FORMULA_URL]);
      for (const category of CATEGORIES) {
        const file = entries.get(`${category}.csv`)!;
        expect(file.subarray(0, 3).equals(BOM)).toBe(false);
        const [header, ...records] = parseStrict(file);
        const rows = expected[category] as Record<string, unknown>[];
        // The header is the field keys in the schema's order: redacted fields are not columns.
        expect(header).toEqual(Object.keys(rows[0]));
        const schema = JSON.parse(entries.get(`schemas/${category}.schema.json`)!.toString('utf8'));
        expect(header).toEqual(Object.keys(schema.properties));
        expect(records).toEqual(
          rows.map((r) => Object.values(r).map((v) => (typeof v === 'string' && neutralized.has(v) ? `'${v}` : cellOf(v)))),
        );
        const entry = manifest.categories.find((c: { name: string }) => c.name === category);
        expect(entry).toMatchObject({ file: `${category}.csv`, rows: records.length, bytes: file.length, status: 'complete' });
        expect(entry.sha256).toBe(createHash('sha256').update(file).digest('hex'));
        expect(row.counts![category]).toBe(records.length);
      }
      const customers = parseStrict(entries.get('customers.csv')!);
      expect(customers[0]).not.toContain('portalPasswordHash');
      expect(customers[0]).not.toContain('nationalId');
      expect(customers.slice(1).map((r) => r[customers[0].indexOf('phone')])).toEqual(expected.customers.map((c) => c.phone));
      expect(customers.slice(1).every((r) => /^….{4}$/.test(r[customers[0].indexOf('phone')]))).toBe(true);

      // No secret and no row of the other team, in the archive's bytes or in any entry.
      for (const secret of secretsOf(seed)) {
        for (const b of [bytes, ...entries.values()]) expect(b.includes(secret)).toBe(false);
      }
      const readme = entries.get('README.txt')!.toString('utf8');
      expect(readme).toContain('<category>.csv');
      expect(readme).toContain("has a ' (apostrophe) added in front of it");
      expect(readme).toContain('csv.neutralizeFormulas');
    });

    it('neutralizes text cells a spreadsheet would run as formulas, never numbers', async () => {
      const { entries } = await exportArchive(ctx.t, { categories: ['customers', 'messages', 'webhooks'] });
      const [wh, ...webhooks] = parseStrict(entries.get('webhooks.csv')!);
      expect(webhooks.map((r) => r[wh.indexOf('url')])).toContain(`'${FORMULA_URL}`);
      const [mh, ...messages] = parseStrict(entries.get('messages.csv')!);
      const bodies = messages.map((r) => r[mh.indexOf('body')]);
      for (const formula of FORMULAS) expect(bodies).toContain(`'${formula}`);
      for (const text of NOT_FORMULAS) expect(bodies).toContain(text);
      expect(bodies.filter((b) => b.startsWith("'"))).toHaveLength(FORMULAS.length);
      const [ch, ...customers] = parseStrict(entries.get('customers.csv')!);
      const formulaCustomer = customers.find((r) => r[ch.indexOf('id')].endsWith('0009'))!;
      expect(formulaCustomer[ch.indexOf('name')]).toBe("'@admin");
      // The text of a number is not a formula; a number is never changed; JSON text starts with {.
      expect(formulaCustomer[ch.indexOf('email')]).toBe('-5');
      expect(formulaCustomer[ch.indexOf('tokenCount')]).toBe('-5');
      expect(formulaCustomer[ch.indexOf('customFields')]).toBe('{"formula":"=1+1"}');
    });

    if (db === 'sqlite') {
      it('opens in LibreOffice with the same cells', async () => {
        const { entries } = await exportArchive(ctx.t);
        const files = new Map(CATEGORIES.map((c) => [`${c}.csv`, entries.get(`${c}.csv`)!]));
        const converted = await libreOfficeRoundTrip(files, true);
        for (const [name, ours] of files) {
          const theirs = converted.get(name)!;
          const cells = parseStrict(ours);
          // LibreOffice ends a line break inside a cell with LF, whatever it read.
          const norm = (rows: string[][]) => rows.map((r) => r.map((c) => c.replace(/\r\n?/g, '\n')));
          expect([name, norm(theirs)]).toEqual([name, norm(cells)]);
        }
        // Opened as LibreOffice reads cells by itself, no neutralized cell runs as a formula.
        const [mh, ...messages] = (await libreOfficeRoundTrip(new Map([['messages.csv', files.get('messages.csv')!]]), false)).get('messages.csv')!;
        const bodies = messages.map((r) => r[mh.indexOf('body')].replace(/\r\n?/g, '\n'));
        for (const formula of FORMULAS) expect(bodies).toContain(`'${formula}`.replace(/\r\n?/g, '\n'));
      }, 120_000);
    }
  });

  describe('with csv: { neutralizeFormulas: false, bom: true }', () => {
    const ctx = bootWith(db, { neutralizeFormulas: false, bom: true });

    it('writes cells as stored, after a UTF-8 BOM, and says so in README.txt and the manifest', async () => {
      const { entries } = await exportArchive(ctx.t);
      const expected = expectedRows(ctx.seed);
      for (const category of CATEGORIES) {
        const file = entries.get(`${category}.csv`)!;
        expect(file.subarray(0, 3).equals(BOM)).toBe(true);
        const [header, ...records] = parseStrict(file.subarray(3));
        const rows = expected[category] as Record<string, unknown>[];
        expect(header).toEqual(Object.keys(rows[0]));
        expect(records).toEqual(rows.map((r) => Object.values(r).map(cellOf)));
      }
      const [mh, ...messages] = parseStrict(entries.get('messages.csv')!.subarray(3));
      for (const formula of FORMULAS) expect(messages.map((r) => r[mh.indexOf('body')])).toContain(formula);
      const manifest = JSON.parse(entries.get('manifest.json')!.toString('utf8'));
      expect(manifest.csv).toMatchObject({ bom: true, neutralizeFormulas: false });
      const readme = entries.get('README.txt')!.toString('utf8');
      expect(readme).toContain('cells are written exactly as stored');
      expect(readme).toContain('with a byte order mark');
    });

    if (db === 'sqlite') {
      it('is what LibreOffice runs as formulas when neutralization is off', async () => {
        const { entries } = await exportArchive(ctx.t, { categories: ['messages'] });
        const [mh, ...messages] = (await libreOfficeRoundTrip(new Map([['messages.csv', entries.get('messages.csv')!]]), false)).get('messages.csv')!;
        const bodies = messages.map((r) => r[mh.indexOf('body')]);
        // =HYPERLINK(…) runs and shows "click": the risk that the default neutralization removes.
        expect(bodies).toContain('click');
        expect(bodies).not.toContain(FORMULAS[0]);
      }, 120_000);
    }
  });
});

/** Rows of a payment provider, with a declared schema, a mask and values of every JSON kind. */
@Exporter('ledger', {
  schema: { type: 'object', properties: { id: { type: 'string' }, amount: { type: 'string' } } },
  redact: { card: { keep: 'last4' }, secretNote: true },
})
class LedgerExporter implements CategoryExporter {
  async *rows(subject: ExportSubject) {
    yield { amount: 2n ** 60n, id: `${subject.accountId}-1`, at: new Date(Date.UTC(2026, 0, 1)), card: '4242424242424242', pdf: Buffer.from('pdf'), meta: { n: 1 }, note: '=1+1', secretNote: 'hidden' };
    yield { id: `${subject.accountId}-2`, amount: -7n, card: null, note: undefined };
  }
}

/** No schema: its header is the first row's keys; a later row may leave some out. */
@Exporter('shapes')
class ShapesExporter implements CategoryExporter {
  async *rows() {
    yield { a: 1, b: 'x', c: true };
    yield { a: 2.5 };
  }
}

/** A later row has a field its header does not. */
@Exporter('drifting')
class DriftingExporter implements CategoryExporter {
  async *rows() {
    yield { a: 1 };
    yield { a: 2, extra: 'kept out of no file' };
  }
}

describe('csv archive of custom exporters', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp('sqlite', { entities: HELP_DESK_ENTITIES, metadata: { providers: [LedgerExporter, ShapesExporter, DriftingExporter] } });
  });
  afterAll(() => t?.close());

  it('writes the declared fields first, then the first row\'s other keys, with the value rules and masks', async () => {
    const { entries } = await exportArchive(t, { categories: ['ledger', 'shapes'] });
    expect(parseStrict(entries.get('ledger.csv')!)).toEqual([
      ['id', 'amount', 'card', 'at', 'pdf', 'meta', 'note'],
      [`${TEAM_A}-1`, (2n ** 60n).toString(), '…4242', '2026-01-01T00:00:00.000Z', Buffer.from('pdf').toString('base64'), '{"n":1}', "'=1+1"],
      [`${TEAM_A}-2`, '-7', '', '', '', '', ''],
    ]);
    expect(parseStrict(entries.get('shapes.csv')!)).toEqual([
      ['a', 'b', 'c'],
      ['1', 'x', 'true'],
      ['2.5', '', ''],
    ]);
    for (const bytes of entries.values()) expect(bytes.includes('hidden')).toBe(false);
  });

  it('fails the export, naming the category and the field, when a later row has a field outside the header', async () => {
    const view = await t.service.request(OWNER_A, { format: 'csv', categories: ['drifting'] });
    const row = await waitForExport(t.dataSource, view.id);
    expect(row.status).toBe(ExportStatus.Failed);
    expect(row.error).toContain('category "drifting"');
    expect(row.error).toContain('"extra"');
    expect(row.error).not.toContain('kept out of no file');
    expect(row.activeSlot).toBeNull();
  });
});
