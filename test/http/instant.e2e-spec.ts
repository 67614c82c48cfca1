/**
 * Instant downloads (`instant: { maxRows }`): a small account's archive streamed straight into
 * the response, with the request's permission rules, its own rate limit, no file at rest, a
 * refusal naming POST /exports above the limit, and an aborted response (never a short file
 * that looks whole) when the archive fails half-way.
 */
import { Injectable } from '@nestjs/common';
import { readdirSync } from 'node:fs';
import { get as httpGet, IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import request from 'supertest';
import { CategoryExporter, DataExport, Exporter } from 'nestjs-data-export';
import { resolveExportOptions } from '../../lib/options/validate-export-options.util';
import { DATABASES, DatabaseName } from '../utils/databases';
import { fakeAuth } from '../utils/fake-auth';
import { HELP_DESK_ENTITIES } from '../fixtures/help-desk.entities';
import { expectedRows, HelpDeskSeed, OTHER_TENANT_CANARY, REDACTED_CANARY, seedHelpDesk, TEAM_A } from '../fixtures/help-desk.seed';
import { createTestApp, TEST_SECRET, TestAdapter, TestApp } from '../utils/test-app';
import { parseNdjson, readZip } from '../utils/zip';
import { binary } from '../utils/binary-body';

const OWNER_A = 'owner-a:team-a:owner';
const ADMIN_A = 'admin-a:team-a:admin';
const OWNER_B = 'owner-b:team-b:owner';
const AGENT_A = 'agent-a:team-a:agent';
const CANARY = 'CANARY-INSTANT-0d1e';

/** Reads a binary response body into a Buffer. */

/** Every file the app stored (none for an instant download). */
const storedFiles = (t: TestApp) => readdirSync(t.storageDir, { recursive: true });

/** Every database on Express; Fastify on SQLite and PostgreSQL. */
const TARGETS: [DatabaseName, TestAdapter][] = [...DATABASES.map((db): [DatabaseName, TestAdapter] => [db, 'express']), ['sqlite', 'fastify'], ['postgres', 'fastify']];

describe.each(TARGETS)('instant downloads on %s with %s', (db, adapter) => {
  let t: TestApp;
  let seed: HelpDeskSeed;
  let http: ReturnType<typeof request>;

  beforeAll(async () => {
    t = await createTestApp(db, {
      entities: HELP_DESK_ENTITIES,
      configure: fakeAuth,
      adapter,
      exportOptions: { instant: { maxRows: 200, cooldown: '1m' } },
    });
    seed = await seedHelpDesk(t.dataSource, 12);
    http = request(t.app.getHttpServer());
  });
  afterAll(() => t?.close());

  it('streams a small account\'s ZIP at once: rows equal the database, redaction and isolation hold, nothing stored', async () => {
    const res = await http.get('/exports/instant?format=zip').set('x-user', OWNER_A).buffer(true).parse(binary).expect(200);
    expect(res.headers['content-type']).toBe('application/zip');
    expect(res.headers['content-disposition']).toMatch(new RegExp(`^attachment; filename="data-export-team-a-\\d{4}-\\d{2}-\\d{2}\\.zip"`));
    expect(res.headers['cache-control']).toBe('private, no-store');
    expect(res.headers['content-length']).toBeUndefined();
    const files = await readZip(res.body as Buffer);
    const want = expectedRows(seed);
    for (const [category, rows] of Object.entries(want)) {
      expect({ category, rows: parseNdjson(files.get(`${category}.ndjson`)!) }).toEqual({ category, rows });
    }
    const manifest = JSON.parse(files.get('manifest.json')!.toString());
    expect(manifest.summary.byCategory).toEqual(Object.fromEntries(Object.entries(want).map(([c, rows]) => [c, rows.length])));
    for (const [name, bytes] of files) {
      expect({ name, redacted: bytes.includes(REDACTED_CANARY), other: bytes.includes(OTHER_TENANT_CANARY) }).toEqual({ name, redacted: false, other: false });
    }
    // No job, no row, no file at rest.
    expect(storedFiles(t)).toEqual([]);
    expect(await t.dataSource.getRepository(DataExport).count()).toBe(0);
  });

  it('limits each account to one instant download per cooldown: 429 with Retry-After', async () => {
    const again = await http.get('/exports/instant?format=zip').set('x-user', ADMIN_A).expect(429);
    expect(again.body).toMatchObject({ statusCode: 429, code: 'EXPORT_INSTANT_RATE_LIMITED' });
    expect(Number(again.headers['retry-after'])).toBeGreaterThan(50);
    expect(Number(again.headers['retry-after'])).toBeLessThanOrEqual(60);
    expect(again.headers['content-disposition']).toBeUndefined();
  });

  it('checks the permission first (401, 403), so a refused principal takes no account\'s turn', async () => {
    expect((await http.get('/exports/instant').expect(401)).body.code).toBe('EXPORT_UNAUTHENTICATED');
    expect((await http.get('/exports/instant').set('x-user', 'agent-b:team-b:agent').expect(403)).body.code).toBe('EXPORT_FORBIDDEN');
    expect((await http.get('/exports/instant?format=pdf').set('x-user', 'agent-b:team-b:agent').expect(403)).body.code).toBe('EXPORT_FORBIDDEN');
    expect((await http.get('/exports/instant?categories=nope').set('x-user', OWNER_B).expect(400)).body.code).toBe('EXPORT_INVALID_REQUEST');
    // Team B's turn is still there after the refusals above.
    const res = await http.get('/exports/instant?format=json&categories=tickets').set('x-user', OWNER_B).buffer(true).parse(binary).expect(200);
    expect(res.headers['content-type']).toBe('application/json');
    const doc = JSON.parse((res.body as Buffer).toString());
    expect(doc.accountId).toBe('team-b');
    expect(doc.data.tickets).toEqual(expectedRows(seed, 'team-b').tickets);
    expect(Object.keys(doc.data)).toEqual(['tickets']);
    expect((await http.get('/exports/instant').set('x-user', AGENT_A).expect(403)).body.code).toBe('EXPORT_FORBIDDEN');
  });

  it('refuses an account above maxRows with 409, the estimate and POST /exports to use instead', async () => {
    const big = await createTestApp(db, { entities: HELP_DESK_ENTITIES, configure: fakeAuth, adapter, exportOptions: { instant: { maxRows: 20 } } });
    try {
      await seedHelpDesk(big.dataSource, 12);
      const res = await request(big.app.getHttpServer()).get('/exports/instant?format=json').set('x-user', OWNER_A).expect(409);
      expect(res.body).toMatchObject({ statusCode: 409, code: 'EXPORT_TOO_LARGE_FOR_INSTANT', maxRows: 20, use: 'POST /exports' });
      expect(res.body.message).toContain('POST /exports');
      const want = expectedRows(seed);
      expect(res.body.estimate).toMatchObject({ format: 'json', rows: Object.values(want).reduce((n, r) => n + r.length, 0), exact: true });
      expect(res.body.estimate.categories.tickets).toMatchObject({ rows: want.tickets.length, exact: true });
      // Within the limit with fewer categories; gzipped JSON.
      const small = await request(big.app.getHttpServer()).get('/exports/instant?format=json.gz&categories=customers').set('x-user', 'owner-b:team-b:owner').buffer(true).parse(binary).expect(200);
      expect(small.headers['content-type']).toBe('application/gzip');
      expect(small.headers['content-disposition']).toMatch(/filename="data-export-team-b-[0-9-]+\.json\.gz"/);
      expect(JSON.parse(gunzipSync(small.body as Buffer).toString()).data.customers).toHaveLength(4);
      expect(storedFiles(big)).toEqual([]);
    } finally {
      await big.close();
    }
  });
});

describe('instant downloads turned off', () => {
  it('answers 404 EXPORT_INSTANT_DISABLED, and the service refuses alike', async () => {
    const t = await createTestApp('sqlite', { entities: HELP_DESK_ENTITIES, configure: fakeAuth });
    try {
      const res = await request(t.app.getHttpServer()).get('/exports/instant').set('x-user', OWNER_A).expect(404);
      expect(res.body.code).toBe('EXPORT_INSTANT_DISABLED');
      await expect(t.service.instant({ userId: 'u', accountId: TEAM_A, role: 'owner' })).rejects.toMatchObject({ code: 'EXPORT_INSTANT_DISABLED' });
    } finally {
      await t.close();
    }
  });

  it('refuses bad instant options at boot, naming the fix', () => {
    const base = { secret: TEST_SECRET };
    expect(() => resolveExportOptions({ ...base, instant: { maxRows: 0 } })).toThrow(/"instant.maxRows" must be an integer from 1 to 1000000/);
    expect(() => resolveExportOptions({ ...base, instant: {} as never })).toThrow(/"instant.maxRows"/);
    expect(() => resolveExportOptions({ ...base, instant: 500 as never })).toThrow(/"instant" must be \{ maxRows/);
    expect(() => resolveExportOptions({ ...base, instant: { maxRows: 10, cooldown: 'soon' as never } })).toThrow(/"instant.cooldown" is not a valid duration/);
    expect(() => resolveExportOptions({ ...base, instant: { maxRows: 10 }, confirmation: { required: true } })).toThrow(/cannot be combined/);
    expect(resolveExportOptions({ ...base, instant: { maxRows: 10 } }).instant).toEqual({ maxRows: 10, cooldownMs: 60_000 });
    expect(resolveExportOptions(base).instant).toBeUndefined();
  });
});

/** Yields many rows, then fails: the archive is half-written when it throws. */
@Exporter('ledger', { order: 9 })
@Injectable()
class FailingLedgerExporter implements CategoryExporter {
  async *rows() {
    for (let i = 0; i < 20_000; i++) yield { id: i, note: `ledger line ${i} ${'x'.repeat(80)}` };
    throw new Error(`ledger upstream said ${CANARY}`);
  }
  count(): number {
    return 50;
  }
}

describe.each([['sqlite', 'express'], ['postgres', 'express'], ['sqlite', 'fastify']] as const)('an instant download that fails half-way on %s with %s', (db, adapter) => {
  it('aborts the response: the client sees an error, not a complete-looking file; nothing leaks or stays', async () => {
    const logs: string[] = [];
    const logger = { log: (m: unknown) => logs.push(String(m)), warn: (m: unknown) => logs.push(String(m)), error: (m: unknown) => logs.push(String(m)), debug() {}, verbose() {} };
    const t = await createTestApp(db, {
      entities: HELP_DESK_ENTITIES,
      configure: fakeAuth,
      adapter,
      logger,
      exportOptions: { instant: { maxRows: 100_000, cooldown: 1 } },
      metadata: { providers: [FailingLedgerExporter] },
    });
    try {
      await seedHelpDesk(t.dataSource, 3);
      await t.app.listen(0);
      const port = (t.app.getHttpServer().address() as AddressInfo).port;
      for (const format of ['zip', 'json']) {
        const outcome = await new Promise<{ status: number; bytes: number; complete: boolean; error?: string }>((resolve) => {
          httpGet({ port, path: `/exports/instant?format=${format}`, headers: { 'x-user': OWNER_A } }, (res: IncomingMessage) => {
            let bytes = 0;
            let error: string | undefined;
            res.on('data', (c: Buffer) => (bytes += c.length));
            res.on('error', (e) => (error = e.message));
            res.on('close', () => resolve({ status: res.statusCode!, bytes, complete: res.complete, error }));
          }).on('error', (e) => resolve({ status: 0, bytes: 0, complete: false, error: e.message }));
        });
        // Bytes had been sent (so the status was 200), and then the response was cut.
        expect({ format, status: outcome.status, complete: outcome.complete }).toEqual({ format, status: 200, complete: false });
        expect(outcome.bytes).toBeGreaterThan(10_000);
        expect(outcome.error).toBeDefined();
        await new Promise((r) => setTimeout(r, 20));
      }
      expect(logs.some((l) => l.includes('Instant download of account team-a stopped') && l.includes('"ledger"'))).toBe(true);
      expect(logs.join('\n')).not.toContain(CANARY);
      expect(storedFiles(t)).toEqual([]);
      // The connection the archive read from went back (or was dropped): the database still answers.
      const estimate = await request(t.app.getHttpServer()).get('/exports/estimate?categories=tickets').set('x-user', OWNER_A).expect(200);
      expect(estimate.body.rows).toBe(2);
    } finally {
      await t.close();
    }
  });
});
