import { BullModule } from '@nestjs/bull';
import { Test } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import { mkdtempSync, readFileSync, rmSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import request from 'supertest';
import { DataSource, Logger as TypeOrmLogger } from 'typeorm';
import {
  DATA_EXPORT_ENTITIES,
  DataExport,
  ExportModule,
  ExportNotifier,
  ExportPrincipal,
  ExportService,
  ExportStatus,
  ExportUnauthenticatedException,
  LocalDiskStorage,
} from 'nestjs-data-export';
import { DATABASES, DatabaseName, dataSourceOptions, REDIS_URL } from '../utils/databases';
import { testRedisPrefix } from '../utils/global-setup';
import { fakeAuth } from '../utils/fake-auth';
import { createTestApp, RecordingNotifier, TEST_SECRET, TestAdapter, TestApp, waitForExport } from '../utils/test-app';
import { HELP_DESK_ENTITIES } from '../fixtures/help-desk.entities';
import { seedHelpDesk } from '../fixtures/help-desk.seed';

const OWNER_A = 'owner-a:team-a:owner';
const MISSING_ID = '00000000-0000-4000-8000-000000000000';

interface RawResponse {
  status: number;
  body: any;
  text: string;
}

/**
 * Sends exactly the bytes and headers given (supertest adds a Content-Type of its own), to an
 * app listening on `port`.
 */
function raw(port: number, method: string, path: string, headers: Record<string, string> = {}, body?: Buffer | string): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const length = body === undefined || 'content-length' in headers ? {} : { 'content-length': String(Buffer.byteLength(body)) };
    const req = httpRequest({ host: '127.0.0.1', port, method, path, headers: { ...length, ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let parsed: unknown;
        try {
          parsed = text ? JSON.parse(text) : undefined;
        } catch {
          parsed = undefined;
        }
        resolve({ status: res.statusCode!, body: parsed, text });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** A body with `depth` nested lists under `categories`. */
function nested(depth: number): string {
  return `{"categories":${'['.repeat(depth)}${']'.repeat(depth)}}`;
}

async function listen(t: TestApp): Promise<number> {
  await t.app.listen(0, '127.0.0.1');
  return (t.app.getHttpServer().address() as AddressInfo).port;
}

/** The body and URL answers are the same on both HTTP adapters. */
const ADAPTERS: TestAdapter[] = ['express', 'fastify'];

describe.each(ADAPTERS)('hostile request bodies and URLs on %s', (adapter) => {
  let t: TestApp;
  let port: number;

  beforeAll(async () => {
    t = await createTestApp('sqlite', { entities: HELP_DESK_ENTITIES, configure: fakeAuth, adapter, exportOptions: { worker: false } });
    await seedHelpDesk(t.dataSource, 1);
    port = await listen(t);
  });
  afterAll(() => t?.close());

  const rows = () => t.dataSource.getRepository(DataExport).count();

  it('answers a body nested 2,000 levels deep with 400 EXPORT_INVALID_REQUEST, 100 of them at once, before validation', async () => {
    const body = nested(2000);
    expect(body.length).toBeLessThan(4100);
    const started = Date.now();
    const answers = await Promise.all(
      Array.from({ length: 100 }, () => raw(port, 'POST', '/exports', { 'x-user': OWNER_A, 'content-type': 'application/json' }, body)),
    );
    // The figure for the report; no timed assertion.
    console.log(`100 requests nested 2,000 levels deep answered in ${Date.now() - started} ms`);
    for (const res of answers) {
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ statusCode: 400, code: 'EXPORT_INVALID_REQUEST', message: 'The request body is nested deeper than 32 levels.' });
    }
    // Objects nest too; 32 levels pass the depth check and meet ordinary validation.
    const objects = '{"a":'.repeat(40) + '1' + '}'.repeat(40);
    expect((await raw(port, 'POST', '/exports', { 'x-user': OWNER_A, 'content-type': 'application/json' }, objects)).body.message).toMatch(/deeper than 32/);
    const shallow = await raw(port, 'POST', '/exports', { 'x-user': OWNER_A, 'content-type': 'application/json' }, nested(31));
    expect(shallow.status).toBe(400);
    expect(shallow.body.message).not.toMatch(/deeper/);
    expect(await rows()).toBe(0);
  });

  it('answers __proto__, constructor and prototype keys anywhere in a JSON body with 400', async () => {
    for (const body of [
      '{"__proto__":{"polluted":true}}',
      '{"constructor":{"prototype":{"polluted":true}}}',
      '{"categories":["tickets"],"since":"2026-01-01T00:00:00Z","x":[{"y":{"prototype":1}}]}',
    ]) {
      const res = await raw(port, 'POST', '/exports', { 'x-user': OWNER_A, 'content-type': 'application/json' }, body);
      expect([res.status, res.body.code]).toEqual([400, 'EXPORT_INVALID_REQUEST']);
      expect(res.body.message).toMatch(/may not hold a "(__proto__|constructor|prototype)" key/);
    }
    const merge = await raw(port, 'POST', '/exports', { 'x-user': OWNER_A, 'content-type': 'application/merge-patch+json' }, '{"__proto__":{}}');
    expect([merge.status, merge.body.code]).toEqual([400, 'EXPORT_INVALID_REQUEST']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(await rows()).toBe(0);
  });

  it('answers a garbage gzip body, an unknown encoding or charset, and bad percent-encoding with our shape', async () => {
    const json = { 'x-user': OWNER_A, 'content-type': 'application/json' };
    const gzip = await raw(port, 'POST', '/exports', { ...json, 'content-encoding': 'gzip' }, Buffer.from('this is not gzip at all'));
    expect(gzip.status).toBe(400);
    expect(gzip.body).toEqual({ statusCode: 400, code: 'EXPORT_INVALID_REQUEST', message: expect.any(String) });
    // A cut gzip stream too.
    const cut = gzipSync('{"format":"json"}').subarray(0, 12);
    expect((await raw(port, 'POST', '/exports', { ...json, 'content-encoding': 'gzip' }, cut)).body).toMatchObject({ statusCode: 400, code: 'EXPORT_INVALID_REQUEST' });
    const unknown = await raw(port, 'POST', '/exports', { ...json, 'content-encoding': 'x-snappy' }, '{}');
    expect(unknown.body).toEqual({ statusCode: 415, code: 'EXPORT_UNSUPPORTED_MEDIA_TYPE', message: expect.any(String) });
    const charset = await raw(port, 'POST', '/exports', { ...json, 'content-type': 'application/json; charset=latin9' }, '{}');
    expect(charset.body).toEqual({ statusCode: 415, code: 'EXPORT_UNSUPPORTED_MEDIA_TYPE', message: expect.any(String) });

    for (const path of ['/exports/%E0%A4%A', '/exports/%zz', `/exports/%E0%A4%A/download?token=x`, '/exports/%C0%AF/confirm']) {
      const res = await raw(port, 'GET', path, { 'x-user': OWNER_A });
      // Fastify's router answers a URL it cannot decode before any route or hook (its
      // `frameworkErrors` option shapes that answer for the whole host): a 400 there too.
      if (adapter === 'fastify') expect(res.status).toBe(400);
      else expect(res.body).toEqual({ statusCode: 400, code: 'EXPORT_INVALID_REQUEST', message: 'The URL is not validly percent-encoded.' });
      if (adapter === 'express') expect(res.text).not.toContain('%');
      expect((await raw(port, 'HEAD', path)).status).toBe(400);
    }
    for (const path of ['/exports?x=%zz', `/exports/${MISSING_ID}/download?token=%E0%A4%A`, `/exports/${MISSING_ID}/confirm?token=%`]) {
      const res = await raw(port, path.includes('confirm') ? 'POST' : 'GET', path, { 'x-user': OWNER_A });
      expect(res.status).toBeLessThan(500);
      expect(res.status === 200 ? res.body : res.body.code).toEqual(res.status === 200 ? [] : expect.stringMatching(/^EXPORT_/));
    }
    expect(await rows()).toBe(0);
  });

  it('answers 415 to a POST /exports body that is not JSON (what a cross-site form sends), empty or not', async () => {
    const user = { 'x-user': OWNER_A };
    const refused: [Record<string, string>, string][] = [
      [{ 'content-type': 'text/plain' }, '{"format":"json"}'],
      [{ 'content-type': 'text/plain' }, ''],
      [{ 'content-type': 'application/x-www-form-urlencoded' }, 'format=json'],
      [{ 'content-type': 'application/x-www-form-urlencoded' }, ''],
      [{ 'content-type': 'multipart/form-data; boundary=x' }, '--x\r\nContent-Disposition: form-data; name="format"\r\n\r\njson\r\n--x--\r\n'],
      [{ 'content-type': 'application/xml' }, '<export/>'],
      [{ 'content-type': 'text/xml' }, '<export/>'],
      [{ 'content-type': 'application/jsonx' }, '{}'],
      [{}, '{}'],
    ];
    for (const [headers, body] of refused) {
      const res = await raw(port, 'POST', '/exports', { ...user, ...headers, 'content-length': String(Buffer.byteLength(body)) }, body);
      expect([headers['content-type'], res.status, res.body]).toEqual([headers['content-type'], 415, { statusCode: 415, code: 'EXPORT_UNSUPPORTED_MEDIA_TYPE', message: expect.any(String) }]);
    }
    // A DELETE with such a body is refused too (and never reaches the export).
    const del = await raw(port, 'DELETE', `/exports/${MISSING_ID}`, { ...user, 'content-type': 'text/plain' }, 'x');
    expect([del.status, del.text]).toEqual([415, expect.stringContaining('EXPORT_UNSUPPORTED_MEDIA_TYPE')]);
    // Nothing was created, so nothing started a cooldown.
    expect(await rows()).toBe(0);

    // No body at all, JSON, and `+json` (read even though the host's parser skips it) are accepted.
    const none = await raw(port, 'POST', '/exports', { 'x-user': 'u1:team-n:owner', 'content-length': '0' });
    expect([none.status, none.body.format]).toEqual([202, 'zip']);
    const json = await raw(port, 'POST', '/exports', { 'x-user': 'u1:team-j:owner', 'content-type': 'application/json; charset=utf-8' }, '{"format":"json"}');
    expect([json.status, json.body.format]).toEqual([202, 'json']);
    const vendor = await raw(port, 'POST', '/exports', { 'x-user': 'u1:team-v:owner', 'content-type': 'application/vnd.api+json' }, '{"format":"json","categories":["tickets"]}');
    expect([vendor.status, vendor.body.format, vendor.body.filters]).toEqual([202, 'json', { categories: ['tickets'] }]);
    const badVendor = await raw(port, 'POST', '/exports', { 'x-user': 'u1:team-w:owner', 'content-type': 'application/vnd.api+json' }, '{"format":');
    expect([badVendor.status, badVendor.body.code]).toEqual([400, 'EXPORT_INVALID_REQUEST']);
    expect(await rows()).toBe(3);
  });
});

describe.each(ADAPTERS)('the confirmation POST accepts JSON, no body, or exactly the empty form its page sends, on %s', (adapter) => {
  let t: TestApp;
  let port: number;

  beforeAll(async () => {
    t = await createTestApp('sqlite', {
      entities: HELP_DESK_ENTITIES,
      configure: fakeAuth,
      adapter,
      exportOptions: { worker: false, confirmation: { required: true }, notifier: RecordingNotifier },
    });
    port = await listen(t);
  });
  afterAll(() => t?.close());

  it('refuses other bodies with 415 and leaves the export pending; the page form confirms', async () => {
    const notifier = t.app.get(ExportNotifier) as RecordingNotifier;
    const created = await request(t.app.getHttpServer()).post('/exports').set('x-user', OWNER_A).send({}).expect(202);
    const link = `/exports/${created.body.id}/confirm?token=${encodeURIComponent(notifier.token('confirmationRequested', created.body.id))}`;
    const page = await raw(port, 'GET', link);
    expect(page.text).toMatch(/<form method="post" action="[^"]+"><button type="submit">/);

    for (const [type, body] of [
      ['text/plain', ''],
      ['text/plain', 'x'],
      ['application/x-www-form-urlencoded', 'confirm=1'],
      ['multipart/form-data; boundary=x', '--x--\r\n'],
    ]) {
      const res = await raw(port, 'POST', link, { 'content-type': type, 'content-length': String(body.length) }, body);
      expect([type, res.status, res.body?.code]).toEqual([type, 415, 'EXPORT_UNSUPPORTED_MEDIA_TYPE']);
    }
    expect((await t.dataSource.getRepository(DataExport).findOneByOrFail({ id: created.body.id })).status).toBe(ExportStatus.Pending);

    // What a browser sends for the page's form: no field, so an empty form-urlencoded body.
    const form = await raw(port, 'POST', link, { 'content-type': 'application/x-www-form-urlencoded', 'content-length': '0', accept: 'text/html' });
    expect(form.status).toBe(200);
    expect(form.text).toContain('Export confirmed');
    expect((await t.dataSource.getRepository(DataExport).findOneByOrFail({ id: created.body.id })).status).toBe(ExportStatus.Confirmed);
    // JSON clients are unaffected.
    const json = await raw(port, 'POST', link, { 'content-type': 'application/json', accept: 'application/json' }, '{}');
    expect([json.status, json.body.status]).toEqual([200, 'confirmed']);
  });
});

/** A TypeORM logger that keeps every query with its parameters. */
class CapturingQueryLogger implements TypeOrmLogger {
  readonly lines: string[] = [];
  logQuery(query: string, parameters?: unknown[]): void {
    this.lines.push(`${query} -- ${JSON.stringify(parameters ?? [])}`);
  }
  logQueryError(error: string | Error, query: string, parameters?: unknown[]): void {
    this.lines.push(`ERROR ${query} -- ${JSON.stringify(parameters ?? [])}`);
  }
  logQuerySlow(_time: number, query: string, parameters?: unknown[]): void {
    this.lines.push(`${query} -- ${JSON.stringify(parameters ?? [])}`);
  }
  logSchemaBuild(): void {}
  logMigration(): void {}
  log(): void {}
}

/** A host app like createTestApp's, with TypeORM `logging: true` into a capturing logger. */
async function createLoggingApp(db: DatabaseName, logger: CapturingQueryLogger): Promise<TestApp> {
  const storageDir = mkdtempSync(join(tmpdir(), 'data-export-'));
  const moduleRef = await Test.createTestingModule({
    imports: [
      TypeOrmModule.forRoot({ ...dataSourceOptions(db, [...HELP_DESK_ENTITIES, ...DATA_EXPORT_ENTITIES]), logging: true, logger }),
      BullModule.forRoot({ url: REDIS_URL, prefix: testRedisPrefix('t') }),
      ExportModule.forRoot({ secret: TEST_SECRET, storage: new LocalDiskStorage(storageDir), worker: false }),
    ],
  }).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  fakeAuth(app);
  await app.init();
  return {
    app,
    dataSource: app.get(DataSource),
    service: app.get(ExportService),
    storageDir,
    close: () => app.close().then(() => rmSync(storageDir, { recursive: true, force: true })),
  };
}

describe.each(DATABASES)('hostile ids and principals on %s', (db) => {
  let t: TestApp;
  let port: number;
  const queries = new CapturingQueryLogger();

  beforeAll(async () => {
    t = await createLoggingApp(db, queries);
    port = await listen(t);
  });
  afterAll(() => t?.close());

  it('answers an id that cannot be an export (NUL byte, too long, ..) as an unknown one, 404, on every route', async () => {
    const before = queries.lines.length;
    for (const id of ['%00', 'a%00b', `${MISSING_ID}%00`, 'a'.repeat(300), '..%2F..', `${MISSING_ID}x`]) {
      for (const [method, path] of [
        ['GET', `/exports/${id}`],
        ['DELETE', `/exports/${id}`],
        ['GET', `/exports/${id}/events`],
        ['GET', `/exports/${id}/confirm?token=x`],
        ['POST', `/exports/${id}/confirm?token=x`],
        ['GET', `/exports/${id}/download?token=x`],
        ['HEAD', `/exports/${id}/download?token=x`],
      ]) {
        const res = await raw(port, method, path, { 'x-user': OWNER_A });
        expect([method, path, res.status]).toEqual([method, path, 404]);
        if (method !== 'HEAD') expect(res.body).toEqual({ statusCode: 404, code: 'EXPORT_NOT_FOUND', message: 'Export not found.' });
      }
    }
    // An unknown well-formed id answers the same.
    expect((await raw(port, 'GET', `/exports/${MISSING_ID}`, { 'x-user': OWNER_A })).body.code).toBe('EXPORT_NOT_FOUND');
    expect(queries.lines.slice(before).filter((q) => q.includes('\\u0000') || q.includes('a'.repeat(300)))).toEqual([]);
  });

  it('refuses principal ids longer than their column (or holding NUL) as no principal, and no query sees them', async () => {
    const long = 'a'.repeat(192);
    const before = queries.lines.length;
    for (const who of [`u:${long}:owner`, `${long}:team-a:owner`]) {
      for (const [method, path] of [
        ['POST', '/exports'],
        ['GET', '/exports'],
        ['GET', `/exports/${MISSING_ID}`],
        ['DELETE', `/exports/${MISSING_ID}`],
        ['GET', `/exports/${MISSING_ID}/events`],
      ]) {
        const res = await raw(port, method, path, { 'x-user': who });
        expect([method, path, res.status, res.body]).toEqual([method, path, 401, { statusCode: 401, code: 'EXPORT_UNAUTHENTICATED', message: expect.any(String) }]);
      }
    }
    // Hosts that call the service themselves are covered too.
    const principals: ExportPrincipal[] = [
      { userId: 'u', accountId: long, role: 'owner' },
      { userId: long, accountId: 'team-a', role: 'owner' },
      { userId: 'u', accountId: 'team\u0000a', role: 'owner' },
      // 191 characters, but 382 UTF-16 units: the column holds it; one more does not fit.
      { userId: 'u', accountId: '\u{1F600}'.repeat(192), role: 'owner' },
    ];
    for (const principal of principals) {
      await expect(t.service.request(principal)).rejects.toBeInstanceOf(ExportUnauthenticatedException);
      await expect(t.service.list(principal)).rejects.toBeInstanceOf(ExportUnauthenticatedException);
      await expect(t.service.get(principal, MISSING_ID)).rejects.toBeInstanceOf(ExportUnauthenticatedException);
      await expect(t.service.cancel(principal, MISSING_ID)).rejects.toBeInstanceOf(ExportUnauthenticatedException);
    }
    const leaked = queries.lines.slice(before).filter((q) => q.includes(long) || q.includes('team\\u0000a') || q.includes('\u{1F600}'));
    expect(leaked).toEqual([]);

    // The logger does see the parameters of queries that run: 191 characters fit and are used.
    const fits = 'b'.repeat(191);
    expect(await t.service.list({ userId: 'u', accountId: fits, role: 'owner' })).toEqual([]);
    expect((await raw(port, 'GET', '/exports', { 'x-user': `u:${fits}:owner` })).status).toBe(200);
    expect(queries.lines.filter((q) => q.includes(fits)).length).toBeGreaterThanOrEqual(2);
  });
});

describe.each(DATABASES)('a stored archive deleted or cut behind the library on %s', (db) => {
  let t: TestApp;
  let port: number;

  beforeAll(async () => {
    t = await createTestApp(db, { entities: HELP_DESK_ENTITIES, configure: fakeAuth });
    await seedHelpDesk(t.dataSource, 3);
    port = await listen(t);
  });
  afterAll(() => t?.close());

  /** A completed export of `account` and the path of its download link. */
  async function completed(account: string): Promise<{ row: DataExport; link: string; file: string }> {
    const user = `owner:${account}:owner`;
    const created = await raw(port, 'POST', '/exports', { 'x-user': user, 'content-type': 'application/json' }, '{}');
    expect(created.status).toBe(202);
    const row = await waitForExport(t.dataSource, created.body.id);
    expect(row.status).toBe(ExportStatus.Completed);
    const view = await raw(port, 'GET', `/exports/${row.id}`, { 'x-user': user });
    const u = new URL(view.body.downloadUrl);
    return { row, link: `${u.pathname}${u.search}`, file: join(t.storageDir, row.storageKey!) };
  }

  /** HEAD, GET and a ranged GET all answer 410 EXPORT_ARCHIVE_MISSING; the export expired with its slot free. */
  async function expectArchiveMissing(row: DataExport, link: string, account: string): Promise<void> {
    expect((await raw(port, 'HEAD', link)).status).toBe(410);
    for (const headers of [{}, { range: 'bytes=0-9' }, { range: 'bytes=-100' }]) {
      const res = await raw(port, 'GET', link, headers as Record<string, string>);
      expect([res.status, res.body]).toEqual([410, { statusCode: 410, code: 'EXPORT_ARCHIVE_MISSING', message: expect.any(String) }]);
    }
    expect((await raw(port, 'HEAD', link)).status).toBe(410);
    const stored = await t.dataSource.getRepository(DataExport).findOneByOrFail({ id: row.id });
    expect(stored).toMatchObject({ status: ExportStatus.Expired, activeSlot: null, storageKey: null, error: expect.stringMatching(/archive .* missing or incomplete/) });
    const view = await raw(port, 'GET', `/exports/${row.id}`, { 'x-user': `owner:${account}:owner` });
    expect(view.body).toMatchObject({ status: 'expired', error: stored.error });
    expect(view.body.downloadUrl).toBeUndefined();
    // The slot is free: a new request meets the cooldown of the completed export, not 409.
    expect((await raw(port, 'POST', '/exports', { 'x-user': `owner:${account}:owner` })).body.code).toBe('EXPORT_COOLDOWN');
  }

  it('a deleted file: HEAD and GET answer 410 EXPORT_ARCHIVE_MISSING, the export expires', async () => {
    const { row, link, file } = await completed('team-a');
    unlinkSync(file);
    await expectArchiveMissing(row, link, 'team-a');
  });

  it('a file cut short (or emptied): never a partial 200/206, the same 410', async () => {
    const cut = await completed('team-b');
    truncateSync(cut.file, readFileSync(cut.file).length - 1);
    await expectArchiveMissing(cut.row, cut.link, 'team-b');
    const emptied = await completed('team-c');
    writeFileSync(emptied.file, '');
    await expectArchiveMissing(emptied.row, emptied.link, 'team-c');
  });
});

describe('a plain (unencrypted) stored archive cut behind the library', () => {
  it('answers 410 EXPORT_ARCHIVE_MISSING instead of a 200 that stops short', async () => {
    const t = await createTestApp('sqlite', { entities: HELP_DESK_ENTITIES, configure: fakeAuth, exportOptions: { encryption: false } });
    try {
      await seedHelpDesk(t.dataSource, 3);
      const port = await listen(t);
      const view = await t.service.request({ userId: 'u', accountId: 'team-a', role: 'owner' });
      const row = await waitForExport(t.dataSource, view.id);
      const file = join(t.storageDir, row.storageKey!);
      truncateSync(file, Math.floor(row.size! / 2));
      const { downloadUrl } = await t.service.get({ userId: 'u', accountId: 'team-a', role: 'owner' }, row.id);
      const u = new URL(downloadUrl!);
      expect((await raw(port, 'HEAD', `${u.pathname}${u.search}`)).status).toBe(410);
      const res = await raw(port, 'GET', `${u.pathname}${u.search}`, { range: 'bytes=0-9' });
      expect([res.status, res.body?.code]).toEqual([410, 'EXPORT_ARCHIVE_MISSING']);
    } finally {
      await t.close();
    }
  });
});
