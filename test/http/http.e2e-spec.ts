import { createHash } from 'node:crypto';
import { fakeAuth } from '../utils/fake-auth';
import request from 'supertest';
import { getQueueToken } from '@nestjs/bull';
import type { Queue } from 'bull';
import { DataExport, EXPORT_QUEUE, ExportNotifier, ExportStatus } from 'nestjs-data-export';
import { get as httpGet } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ExportLinkSigner } from '../../lib/crypto/export-link.signer';
import { DATABASES, DatabaseName } from '../utils/databases';
import { createTestApp, RecordingNotifier, TestAdapter, TestApp, TestClock, waitForExport } from '../utils/test-app';
import { readZip } from '../utils/zip';
import { HELP_DESK_ENTITIES } from '../fixtures/help-desk.entities';
import { seedHelpDesk, TEAM_A, TEAM_B } from '../fixtures/help-desk.seed';
import { insertBulkMessages } from '../fixtures/help-desk.seed';
import { binary } from '../utils/binary-body';

const HOUR = 3_600_000;

const OWNER_A = 'owner-a:team-a:owner';
const AGENT_A = 'agent-a:team-a:agent';
const OWNER_B = 'owner-b:team-b:owner';

/** Every database on Express; Fastify on SQLite and PostgreSQL (the same scenarios, one code path). */
const TARGETS: [DatabaseName, TestAdapter][] = [
  ...DATABASES.map((db): [DatabaseName, TestAdapter] => [db, 'express']),
  ['sqlite', 'fastify'],
  ['postgres', 'fastify'],
];

describe.each(TARGETS)('HTTP endpoints on %s with %s', (db, adapter) => {
  let t: TestApp;
  let clock: TestClock;
  let http: ReturnType<typeof request>;

  beforeEach(async () => {
    clock = new TestClock();
    t = await createTestApp(db, {
      entities: HELP_DESK_ENTITIES,
      clock,
      configure: fakeAuth,
      adapter,
      exportOptions: { downloadTtl: '24h', cooldown: '48h', progressInterval: 20, baseUrl: 'https://app.example.com/api' },
    });
    await seedHelpDesk(t.dataSource, 3);
    http = request(t.app.getHttpServer());
  });
  afterEach(() => t?.close());

  async function completedExport(): Promise<{ id: string; downloadUrl: string; row: DataExport }> {
    const created = await http.post('/exports').set('x-user', OWNER_A).send({}).expect(202);
    const row = await waitForExport(t.dataSource, created.body.id);
    expect(row.status).toBe(ExportStatus.Completed);
    const view = await http.get(`/exports/${row.id}`).set('x-user', OWNER_A).expect(200);
    return { id: row.id, downloadUrl: view.body.downloadUrl, row };
  }
  /** Replaces the app of this test with one built with other export options. */
  async function reboot(exportOptions: Parameters<typeof createTestApp>[1]['exportOptions']): Promise<void> {
    await t.close();
    clock = new TestClock();
    t = await createTestApp(db, { entities: HELP_DESK_ENTITIES, clock, configure: fakeAuth, adapter, exportOptions });
    await seedHelpDesk(t.dataSource, 3);
    http = request(t.app.getHttpServer());
  }
  const pathOf = (url: string) => {
    const u = new URL(url);
    return `${u.pathname.replace(/^\/api/, '')}${u.search}`;
  };

  it('401 without a principal, 403 for an agent, 400 for bad input, 202 then 409 for a second request', async () => {
    const anon = await http.post('/exports').send({}).expect(401);
    expect(anon.body).toEqual({ statusCode: 401, code: 'EXPORT_UNAUTHENTICATED', message: expect.any(String) });
    expect((await http.post('/exports').set('x-user', AGENT_A).send({}).expect(403)).body.code).toBe('EXPORT_FORBIDDEN');
    // An agent sees only their own personal exports: none yet.
    expect((await http.get('/exports').set('x-user', AGENT_A).expect(200)).body).toEqual([]);

    const unknown = await http.post('/exports').set('x-user', OWNER_A).send({ categories: ['tickets', 'payroll'] }).expect(400);
    expect(unknown.body).toMatchObject({ code: 'EXPORT_INVALID_REQUEST', validCategories: ['customers', 'tickets', 'messages', 'webhooks'] });
    for (const body of [
      { since: '2026-02-01T00:00:00Z', until: '2026-01-01T00:00:00Z' },
      { since: 'last tuesday' },
      { format: 'xml' },
      { categories: 'tickets' },
      { categories: [] },
      { categories: [42] },
      { includeDeleted: 'yes' },
      { surprise: true },
    ]) {
      const res = await http.post('/exports').set('x-user', OWNER_A).send(body);
      expect([res.status, res.body.code]).toEqual([400, 'EXPORT_INVALID_REQUEST']);
    }
    const malformed = await http.post('/exports').set('x-user', OWNER_A).set('content-type', 'application/json').send('{"format":');
    expect(malformed.status).toBe(400);

    const created = await http.post('/exports').set('x-user', OWNER_A).send({ format: 'zip', categories: ['tickets'] }).expect(202);
    expect(created.body).toMatchObject({ status: 'confirmed', format: 'zip', filters: { categories: ['tickets'] } });
    const again = await http.post('/exports').set('x-user', OWNER_A).send({}).expect(409);
    expect(again.body).toMatchObject({ code: 'EXPORT_ALREADY_ACTIVE', activeExportId: created.body.id });
    await waitForExport(t.dataSource, created.body.id);
  });

  it('lists newest first, hides other accounts (404), and issues a fresh signed link on each read', async () => {
    const { id, downloadUrl } = await completedExport();
    expect(downloadUrl).toMatch(new RegExp(`^https://app\\.example\\.com/api/exports/${id}/download\\?token=`));
    const again = await http.get(`/exports/${id}`).set('x-user', OWNER_A).expect(200);
    expect(again.body.downloadUrl).not.toBe(downloadUrl);
    const list = await http.get('/exports').set('x-user', OWNER_A).expect(200);
    expect(list.body.map((v: { id: string }) => v.id)).toEqual([id]);
    expect((await http.get(`/exports/${id}`).set('x-user', OWNER_B).expect(404)).body.code).toBe('EXPORT_NOT_FOUND');
    expect((await http.get('/exports/not-a-uuid').set('x-user', OWNER_A).expect(404)).body.code).toBe('EXPORT_NOT_FOUND');
    expect((await http.delete(`/exports/${id}`).set('x-user', OWNER_B).expect(404)).body.code).toBe('EXPORT_NOT_FOUND');
    expect((await http.get('/exports').set('x-user', OWNER_B).expect(200)).body).toEqual([]);
  });

  it('downloads with safe headers; HEAD describes; two Range halves equal the whole; records downloads', async () => {
    const { id, downloadUrl, row } = await completedExport();
    const path = pathOf(downloadUrl);
    const head = await http.head(path).expect(200);
    expect(head.headers).toMatchObject({
      'content-type': 'application/zip',
      'content-length': String(row.size),
      etag: `"${row.sha256}"`,
      'accept-ranges': 'bytes',
      'cache-control': 'private, no-store',
    });
    expect(head.headers['content-disposition']).toMatch(/^attachment; filename="data-export-team-a-\d{4}-\d{2}-\d{2}\.zip"/);

    const whole = await http.get(path).buffer(true).parse(binary).expect(200);
    const bytes = whole.body as Buffer;
    expect(bytes.length).toBe(row.size);
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(row.sha256);
    expect((await readZip(bytes)).has('manifest.json')).toBe(true);

    const mid = Math.floor(bytes.length / 2);
    const first = await http.get(path).set('Range', `bytes=0-${mid - 1}`).buffer(true).parse(binary).expect(206);
    expect(first.headers['content-range']).toBe(`bytes 0-${mid - 1}/${bytes.length}`);
    const second = await http.get(path).set('Range', `bytes=${mid}-`).buffer(true).parse(binary).expect(206);
    expect(Buffer.concat([first.body, second.body]).equals(bytes)).toBe(true);
    const suffix = await http.get(path).set('Range', 'bytes=-10').buffer(true).parse(binary).expect(206);
    expect((suffix.body as Buffer).equals(bytes.subarray(bytes.length - 10))).toBe(true);
    // A suffix longer than the file selects all of it (RFC 9110 §14.1.2).
    const oversized = await http.get(path).set('Range', 'bytes=-999999999').buffer(true).parse(binary).expect(206);
    expect(oversized.headers['content-range']).toBe(`bytes 0-${bytes.length - 1}/${bytes.length}`);
    expect((oversized.body as Buffer).equals(bytes)).toBe(true);
    const outside = await http.get(path).set('Range', `bytes=${bytes.length + 5}-`).expect(416);
    expect(outside.headers['content-range']).toBe(`bytes */${bytes.length}`);
    // A stale If-Range sends the whole file.
    await http.get(path).set('Range', 'bytes=0-9').set('If-Range', '"other"').expect(200);

    const stored = await t.dataSource.getRepository(DataExport).findOneByOrFail({ id });
    expect(stored.downloadCount).toBe(6);
    expect(stored.lastDownloadedAt).not.toBeNull();
  });

  it('403 for a tampered or missing token, 409 before completion, 410 once the link or the window ended', async () => {
    const { id, downloadUrl } = await completedExport();
    const u = new URL(downloadUrl);
    const token = u.searchParams.get('token')!;
    const tampered = token.slice(0, -2) + (token.endsWith('AA') ? 'BB' : 'AA');
    for (const q of [`?token=${encodeURIComponent(tampered)}`, '', '?token=', '?token=a.b.c', `?token=${encodeURIComponent(token)}&token=x`]) {
      const res = await http.get(`/exports/${id}/download${q}`);
      expect([res.status, res.body.code]).toEqual([403, 'EXPORT_LINK_INVALID']);
    }
    // A link for one export does not open another.
    const second = await http.post('/exports').set('x-user', OWNER_B).send({}).expect(202);
    expect((await http.get(`/exports/${second.body.id}/download?token=${encodeURIComponent(token)}`).expect(403)).body.code).toBe('EXPORT_LINK_INVALID');
    // A genuine download token for an export that is not completed yet.
    const signer = t.app.get(ExportLinkSigner);
    await t.dataSource.getRepository(DataExport).update({ id: second.body.id }, { status: ExportStatus.Processing });
    const early = signer.sign(second.body.id, 'download', new Date(clock.now().getTime() + HOUR));
    const notReady = await http.get(`/exports/${second.body.id}/download?token=${encodeURIComponent(early)}`).expect(409);
    expect(notReady.body).toMatchObject({ code: 'EXPORT_NOT_READY', status: 'processing' });

    clock.advance(24 * HOUR + 1000);
    const gone = await http.get(pathOf(downloadUrl)).expect(410);
    expect(gone.body.code).toBe('EXPORT_LINK_EXPIRED');
    // Reading it now gives no link; the sweeper or the next request expires it.
    expect((await http.get(`/exports/${id}`).set('x-user', OWNER_A).expect(200)).body.downloadUrl).toBeUndefined();
  });

  it('429 with Retry-After after an export was deleted within the cooldown; DELETE cancels', async () => {
    const { id } = await completedExport();
    const deleted = await http.delete(`/exports/${id}`).set('x-user', OWNER_A).expect(200);
    expect(deleted.body.status).toBe('expired');
    const cooldown = await http.post('/exports').set('x-user', OWNER_A).send({}).expect(429);
    expect(cooldown.body).toMatchObject({ code: 'EXPORT_COOLDOWN', retryAfterSeconds: expect.any(Number), availableAt: expect.any(String) });
    expect(cooldown.headers['retry-after']).toBe(String(cooldown.body.retryAfterSeconds));
    expect(cooldown.body.retryAfterSeconds).toBeGreaterThan(47 * 3600);
  });

  it('streams progress as Server-Sent Events, increasing, then one final completed status', async () => {
    await reboot({ batchSize: 5, progressInterval: 1, confirmation: { required: true }, notifier: RecordingNotifier });
    await insertBulkMessages(t.dataSource, 2000, (i) => `bulk ${i}`);
    const notifier = t.app.get(ExportNotifier) as RecordingNotifier;
    await t.app.listen(0, '127.0.0.1');
    const port = (t.app.getHttpServer().address() as AddressInfo).port;

    // The stream is opened while the export waits for confirmation; confirming starts the job.
    const created = await http.post('/exports').set('x-user', OWNER_A).send({}).expect(202);
    const body = await new Promise<string>((resolve, reject) => {
      const req = httpGet({ host: '127.0.0.1', port, path: `/exports/${created.body.id}/events`, headers: { 'x-user': OWNER_A } }, (res) => {
        expect(res.statusCode).toBe(200);
        expect(res.headers['content-type']).toMatch(/text\/event-stream/);
        let text = '';
        let confirmed = false;
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          text += chunk;
          if (!confirmed) {
            confirmed = true;
            t.service.confirm(created.body.id, notifier.token('confirmationRequested', created.body.id)).catch(reject);
          }
        });
        res.on('end', () => resolve(text));
      });
      req.on('error', reject);
    });
    const events = body
      .split('\n\n')
      .filter((block) => block.trim())
      .map((block) => ({ type: /^event: (.*)$/m.exec(block)?.[1], data: JSON.parse(/^data: (.*)$/m.exec(block)![1]) }));
    expect(events[0]).toMatchObject({ type: 'progress', data: { status: 'pending' } });
    const final = events[events.length - 1];
    expect(final).toMatchObject({ type: 'status', data: { id: created.body.id, status: 'completed' } });
    expect(events.filter((e) => e.type === 'status')).toHaveLength(1);
    const running = events.filter((e) => e.type === 'progress' && e.data.status === 'processing').map((e) => e.data.progress.rowsDone);
    expect(new Set(running).size).toBeGreaterThanOrEqual(3);
    expect([...running].sort((a, b) => a - b)).toEqual(running);
    expect(body).not.toMatch(/token|downloadUrl/);
    // A stream for another account's export is a 404.
    await http.get(`/exports/${created.body.id}/events`).set('x-user', OWNER_B).expect(404);
  });

  it('confirms through the link: GET shows a page, POST confirms; bad and expired tokens are refused', async () => {
    await reboot({ confirmation: { required: true }, notifier: RecordingNotifier });
    const notifier = t.app.get(ExportNotifier) as RecordingNotifier;

    const created = await http.post('/exports').set('x-user', OWNER_A).send({}).expect(202);
    expect(created.body.status).toBe('pending');
    const token = notifier.token('confirmationRequested', created.body.id);
    const link = `/exports/${created.body.id}/confirm?token=${encodeURIComponent(token)}`;

    const page = await http.get(link).expect(200);
    expect(page.headers['content-type']).toMatch(/text\/html/);
    expect(page.text).toContain('<form method="post"');
    // The GET changed nothing.
    expect((await t.dataSource.getRepository(DataExport).findOneByOrFail({ id: created.body.id })).status).toBe('pending');

    expect((await http.post(`/exports/${created.body.id}/confirm?token=bad`).expect(403)).body.code).toBe('EXPORT_LINK_INVALID');
    const confirmed = await http.post(link).set('Accept', 'application/json').expect(200);
    expect(confirmed.body.status).toBe('confirmed');
    await waitForExport(t.dataSource, created.body.id);

    const second = await http.post('/exports').set('x-user', OWNER_B).send({}).expect(202);
    const token2 = notifier.token('confirmationRequested', second.body.id);
    clock.advance(25 * HOUR);
    const expired = await http.post(`/exports/${second.body.id}/confirm?token=${encodeURIComponent(token2)}`).set('Accept', 'application/json').expect(410);
    expect(expired.body.code).toBe('EXPORT_LINK_EXPIRED');
  });
});

describe('HTTP endpoints when Redis is unreachable', () => {
  it('answers 503 EXPORT_QUEUE_UNAVAILABLE and holds no slot', async () => {
    const t = await createTestApp('sqlite', {
      entities: HELP_DESK_ENTITIES,
      configure: fakeAuth,
      noBullRoot: true,
      exportOptions: { worker: false, redis: 'redis://127.0.0.1:1', enqueueTimeout: 300 },
    });
    const queue = t.app.get<Queue>(getQueueToken(EXPORT_QUEUE));
    try {
      const http = request(t.app.getHttpServer());
      const res = await http.post('/exports').set('x-user', OWNER_A).send({}).expect(503);
      expect(res.body.code).toBe('EXPORT_QUEUE_UNAVAILABLE');
      const rows = await t.dataSource.getRepository(DataExport).find();
      expect(rows.map((r) => [r.status, r.activeSlot])).toEqual([['failed', null]]);
    } finally {
      // Stop the clients retrying a server that is not there, so the process can exit.
      for (const client of (queue as unknown as { clients: { disconnect(): void }[] }).clients) client.disconnect();
      await t.close();
    }
  });
});
void TEAM_A;
void TEAM_B;
