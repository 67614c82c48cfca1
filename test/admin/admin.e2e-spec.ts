import { getQueueToken } from '@nestjs/bull';
import { Injectable } from '@nestjs/common';
import type { Queue } from 'bull';
import type { NextFunction, Request, Response } from 'express';
import { readdirSync } from 'node:fs';
import request from 'supertest';
import { Column, Entity, PrimaryColumn } from 'typeorm';
import {
  DataExport,
  DataExportEvent,
  DefaultExportPolicy,
  EXPORT_QUEUE,
  ExportAdminService,
  ExportNotFoundException,
  ExportNotifier,
  ExportPrincipal,
  ExportStatus,
  ExportSubjectUser,
  ExportSweeper,
  Exportable,
  Redact,
} from 'nestjs-data-export';
import { DATABASES } from '../utils/databases';
import { refusalCode } from '../utils/refusal';
import { createTestApp, RecordingNotifier, TEST_SECRET, TestApp, TestClock, waitForExport } from '../utils/test-app';
import { HELP_DESK_ENTITIES } from '../fixtures/help-desk.entities';
import { seedHelpDesk, TEAM_A, TEAM_B } from '../fixtures/help-desk.seed';
import { CapturingLogger } from '../utils/capturing-logger';

const MINUTE = 60_000;
const SUPPORT = { userId: 'support-1', email: 'support@host.example' };
const owner = (accountId: string): ExportPrincipal => ({ userId: `owner-${accountId}`, accountId, role: 'owner', email: `owner@${accountId}.example` });

/** While set, the mask of this category throws on its planted row: the export fails. */
let breakExports = false;

@Exportable({ category: 'zz-fragile', scope: 'teamId', order: 99 })
@Entity('adm_fragile')
class Fragile {
  @PrimaryColumn({ type: 'integer' }) id: number;
  @Column({ type: 'varchar', length: 64 }) teamId: string;
  @Redact({
    with: (v) => {
      if (breakExports && String(v).startsWith('planted')) throw new Error('cannot mask');
      return v;
    },
  })
  @Column({ type: 'varchar', length: 200 })
  note: string;
}

/** What one member wrote: the personal category. */
@Exportable({ category: 'member-notes', scope: 'teamId', personal: 'authorId', order: 98 })
@Entity('adm_member_notes')
class MemberNote {
  @PrimaryColumn({ type: 'integer' }) id: number;
  @Column({ type: 'varchar', length: 64 }) teamId: string;
  @Column({ type: 'varchar', length: 64 }) authorId: string;
  @Column({ type: 'varchar', length: 200 }) body: string;
}

/** The host's members: m1 is a member of every team. */
@Injectable()
class MembersPolicy extends DefaultExportPolicy {
  async resolveSubject(_principal: ExportPrincipal, userId: string): Promise<ExportSubjectUser> {
    if (userId !== 'm1') throw new ExportNotFoundException();
    return { userId, email: 'm1@members.example' };
  }
}

describe.each(DATABASES)('ExportAdminService and the audit trail on %s', (db) => {
  let t: TestApp;
  let clock: TestClock;
  let admin: ExportAdminService;
  let notifier: RecordingNotifier;
  const logger = new CapturingLogger();
  /** Every token and link the app handed out, to look for in the trail and the logs. */
  const issued = new Set<string>();
  const rows = () => t.dataSource.getRepository(DataExport);

  function remember(url: string | undefined): void {
    if (!url) return;
    issued.add(url);
    const token = new URL(url).searchParams.get('token');
    if (token) issued.add(token);
  }

  /** Waits for the export to end and for the trail to record how (written just after the status changed). */
  async function settled(id: string): Promise<DataExport> {
    const row = await waitForExport(t.dataSource, id);
    const ending = row.status === ExportStatus.Completed ? 'completed' : row.status === ExportStatus.Failed ? 'failed' : undefined;
    for (let i = 0; ending && i < 100; i++) {
      if ((await admin.history({ exportId: id })).some((h) => h.type === ending)) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    return row;
  }

  async function requestAndWait(who: ExportPrincipal): Promise<string> {
    const view = await t.service.request(who);
    await settled(view.id);
    return view.id;
  }

  beforeAll(async () => {
    clock = new TestClock();
    t = await createTestApp(db, {
      entities: [...HELP_DESK_ENTITIES, Fragile, MemberNote],
      clock,
      logger,
      configure: (app) =>
        app.use((req: Request & { user?: unknown }, _res: Response, next: NextFunction) => {
          const header = req.headers['x-user'];
          if (typeof header === 'string') req.user = JSON.parse(header);
          next();
        }),
      exportOptions: { notifier: RecordingNotifier, policy: MembersPolicy, downloadTtl: '24h', cooldown: '24h' },
    });
    admin = t.app.get(ExportAdminService);
    notifier = t.app.get(ExportNotifier) as RecordingNotifier;
    await seedHelpDesk(t.dataSource, 2);
    await t.dataSource.getRepository(Fragile).insert([
      { id: 1, teamId: 'team-r', note: 'planted note' },
      { id: 2, teamId: 'team-r', note: 'plain note' },
    ]);
    await t.dataSource.getRepository(MemberNote).insert({ id: 1, teamId: TEAM_A, authorId: 'm1', body: 'hello' });
  });
  afterAll(() => t?.close());

  it('lists exports across accounts newest first, filtered, keyset-paged, with their account', async () => {
    const ids: string[] = [];
    for (const account of [TEAM_A, TEAM_B, 'team-c', 'team-d', 'team-e']) {
      ids.push(await requestAndWait(owner(account)));
      clock.advance(MINUTE);
    }
    const newestFirst = [...ids].reverse();
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await admin.list({ limit: 2, ...(cursor ? { cursor } : {}) });
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.items.map((i) => i.id));
      cursor = page.nextCursor ?? undefined;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen).toEqual(newestFirst);

    const b = await admin.list({ accountId: TEAM_B });
    expect(b.items.map((i) => [i.id, i.accountId, i.status])).toEqual([[ids[1], TEAM_B, ExportStatus.Completed]]);
    expect(b.items[0]).not.toHaveProperty('downloadUrl');
    expect(b.nextCursor).toBeNull();

    const start = new Date(Date.UTC(2026, 10, 25, 12, 0, 0));
    const between = await admin.list({ from: new Date(start.getTime() + MINUTE), to: new Date(start.getTime() + 3 * MINUTE).toISOString() });
    expect(between.items.map((i) => i.id)).toEqual([ids[2], ids[1]]);
    expect((await admin.list({ status: 'completed', kind: 'account' })).items).toHaveLength(5);
    expect((await admin.list({ kind: 'personal' })).items).toEqual([]);
    expect((await admin.list({ status: 'failed' })).items).toEqual([]);

    expect(await refusalCode(admin.list({ status: 'done' as never }))).toBe('EXPORT_INVALID_REQUEST');
    expect(await refusalCode(admin.list({ cursor: 'not-a-cursor' }))).toBe('EXPORT_INVALID_REQUEST');
    expect(await refusalCode(admin.list({ limit: 0 }))).toBe('EXPORT_INVALID_REQUEST');
    expect(await refusalCode(admin.list({ from: 'yesterday' }))).toBe('EXPORT_INVALID_REQUEST');
  });

  it('records a download with its address, user agent and range; force-expire deletes the file and the link answers 410', async () => {
    const [item] = (await admin.list({ accountId: TEAM_A })).items;
    const view = await t.service.get(owner(TEAM_A), item.id);
    remember(view.downloadUrl);
    const url = new URL(view.downloadUrl!);
    const http = request(t.app.getHttpServer());
    const ranged = await http
      .get(`${url.pathname}${url.search}`)
      .set('User-Agent', 'AuditTest/1.0 (compliance)')
      .set('X-User', JSON.stringify(owner(TEAM_A)))
      .set('Range', 'bytes=0-9');
    expect(ranged.status).toBe(206);

    const row = await rows().findOneByOrFail({ id: item.id });
    expect(readdirSync(t.storageDir, { recursive: true }).map(String).some((f) => row.storageKey!.endsWith(f) || f.endsWith(row.storageKey!))).toBe(true);
    const expired = await admin.forceExpire(item.id, SUPPORT, 'Erasure request #7');
    expect(expired).toMatchObject({ id: item.id, status: ExportStatus.Expired, reason: 'deleted', deletedBy: SUPPORT.userId, accountId: TEAM_A });
    expect((await rows().findOneByOrFail({ id: item.id })).storageKey).toBeNull();
    expect(readdirSync(t.storageDir, { recursive: true }).map(String).filter((f) => f.includes(item.id))).toEqual([]);
    const gone = await http.get(`${url.pathname}${url.search}`);
    expect(gone.status).toBe(410);
    expect(gone.body.code).toBe('EXPORT_LINK_EXPIRED');
    // Force-expiring again changes nothing.
    expect((await admin.forceExpire(item.id, SUPPORT)).status).toBe(ExportStatus.Expired);

    const history = await admin.history({ exportId: item.id });
    expect(history.map((h) => h.type)).toEqual(['requested', 'started', 'completed', 'downloaded', 'admin.force-expired']);
    expect(history[0]).toMatchObject({ actor: `owner-${TEAM_A}`, accountId: TEAM_A, detail: { kind: 'account', format: 'zip' } });
    expect(history[1].actor).toBe('system');
    expect(history[3]).toMatchObject({ actor: `owner-${TEAM_A}`, userAgent: 'AuditTest/1.0 (compliance)', detail: { range: '0-9' } });
    expect(history[3].ip).toMatch(/127\.0\.0\.1|::1/);
    expect(history[4]).toMatchObject({ actor: SUPPORT.userId, detail: { reason: 'Erasure request #7' } });
    expect(new Date(history[2].at).getTime()).toBeGreaterThanOrEqual(new Date(history[0].at).getTime());

    expect(await refusalCode(admin.forceExpire('00000000-0000-4000-8000-000000000000', SUPPORT))).toBe('EXPORT_NOT_FOUND');
    expect(await refusalCode(admin.forceExpire(item.id, ''))).toBe('EXPORT_INVALID_REQUEST');
  });

  it('retries a failed export, refusing while the account holds another active export', async () => {
    breakExports = true;
    const failedId = await requestAndWait(owner('team-r'));
    expect((await rows().findOneByOrFail({ id: failedId })).status).toBe(ExportStatus.Failed);
    expect((await admin.list({ status: 'failed' })).items.map((i) => i.id)).toEqual([failedId]);
    breakExports = false;
    clock.advance(MINUTE);
    const otherId = await requestAndWait(owner('team-r'));

    expect(await refusalCode(admin.retry(failedId, SUPPORT))).toBe('EXPORT_ALREADY_ACTIVE');
    expect(await refusalCode(admin.retry(otherId, SUPPORT))).toBe('EXPORT_INVALID_REQUEST');
    await admin.forceExpire(otherId, SUPPORT);

    const retried = await admin.retry(failedId, SUPPORT, 'mask fixed');
    expect(retried.status).toBe(ExportStatus.Confirmed);
    const done = await settled(failedId);
    expect(done.status).toBe(ExportStatus.Completed);
    expect(done.activeSlot).toBe('team-r');
    const types = (await admin.history({ exportId: failedId })).map((h) => h.type);
    expect(types).toEqual(['requested', 'started', 'failed', 'admin.retried', 'started', 'completed']);
    const failed = (await admin.history({ exportId: failedId })).find((h) => h.type === 'failed')!;
    expect(failed.detail).toEqual({ reason: 'Export failed while reading category "zz-fragile" (Error).' });
    await admin.forceExpire(failedId, SUPPORT);
  });

  it('cancels a waiting export, recording the operator', async () => {
    const queue = t.app.get<Queue>(getQueueToken(EXPORT_QUEUE));
    await queue.pause(true);
    try {
      const view = await t.service.request(owner('team-x'));
      const cancelled = await admin.cancel(view.id, SUPPORT, 'asked by phone');
      expect(cancelled.status).toBe(ExportStatus.Cancelled);
      expect((await rows().findOneByOrFail({ id: view.id })).activeSlot).toBeNull();
      const last = (await admin.history({ exportId: view.id })).pop();
      expect(last).toMatchObject({ type: 'admin.cancelled', actor: SUPPORT.userId, detail: { reason: 'asked by phone' } });
      // An ended export stays as it is.
      expect((await admin.cancel(view.id, SUPPORT)).status).toBe(ExportStatus.Cancelled);
    } finally {
      await queue.resume(true);
    }
  });

  it('requests on behalf of an account and of a member; the cooldown holds unless overridden, with the reason recorded', async () => {
    const first = await admin.requestFor(SUPPORT, { accountId: 'team-o', format: 'json' });
    expect(first).toMatchObject({ accountId: 'team-o', requestedBy: SUPPORT.userId, kind: 'account', format: 'json' });
    await settled(first.id);
    await admin.forceExpire(first.id, SUPPORT);

    expect(await refusalCode(admin.requestFor(SUPPORT, { accountId: 'team-o' }))).toBe('EXPORT_COOLDOWN');
    expect(await refusalCode(admin.requestFor(SUPPORT, { accountId: 'team-o', override: { reason: ' ' } }))).toBe('EXPORT_INVALID_REQUEST');
    const forced = await admin.requestFor(SUPPORT, { accountId: 'team-o', override: { reason: 'DSAR #42, deadline Friday' } });
    await settled(forced.id);
    const [requested] = await admin.history({ exportId: forced.id });
    expect(requested).toMatchObject({ type: 'admin.requested', actor: SUPPORT.userId, accountId: 'team-o', detail: { override: 'DSAR #42, deadline Friday' } });
    // The ready message of an account export goes to the operator who asked.
    remember(notifier.calls.find((c) => c.kind === 'ready' && c.view.id === forced.id)?.url);

    const personal = await admin.requestFor(SUPPORT, { accountId: TEAM_A, userId: 'm1' });
    expect(personal).toMatchObject({ kind: 'personal', subject: { userId: 'm1' }, accountId: TEAM_A });
    expect(await refusalCode(admin.requestFor(SUPPORT, { accountId: TEAM_A, userId: 'stranger' }))).toBe('EXPORT_NOT_FOUND');
    expect((await settled(personal.id)).status).toBe(ExportStatus.Completed);
    expect((await admin.history({ exportId: personal.id }))[0]).toMatchObject({ type: 'admin.requested', detail: { kind: 'personal', subjectUserId: 'm1' } });

    const account = await admin.history({ accountId: 'team-o' });
    expect(account.map((h) => [h.exportId === first.id ? 'first' : 'forced', h.type])).toEqual([
      ['first', 'admin.requested'],
      ['first', 'started'],
      ['first', 'completed'],
      ['first', 'admin.force-expired'],
      ['forced', 'admin.requested'],
      ['forced', 'started'],
      ['forced', 'completed'],
    ]);
    expect(await refusalCode(admin.history({} as never))).toBe('EXPORT_INVALID_REQUEST');
  });

  it('pages one by one through exports requested at the same instant without losing or repeating one', async () => {
    const all = (await admin.list({ limit: 200 })).items.map((i) => i.id);
    expect(all.length).toBeGreaterThan(8);
    const times = (await admin.list({ limit: 200 })).items.map((i) => i.createdAt);
    expect(new Set(times).size).toBeLessThan(times.length);
    const paged: string[] = [];
    let cursor: string | null = null;
    do {
      const page: Awaited<ReturnType<ExportAdminService['list']>> = await admin.list({ limit: 1, ...(cursor ? { cursor } : {}) });
      paged.push(...page.items.map((i) => i.id));
      cursor = page.nextCursor;
    } while (cursor);
    expect(paged).toEqual(all);
  });

  it('prunes records past the retention, and never holds a token, a link or the secret', async () => {
    for (const call of notifier.calls) remember(call.url);
    for (const { id, accountId } of await rows().find()) {
      const view = await t.service.get(owner(accountId), id).catch(() => undefined);
      remember(view?.downloadUrl);
    }
    expect(issued.size).toBeGreaterThan(4);
    const table = JSON.stringify(await t.dataSource.getRepository(DataExportEvent).find());
    const logs = logger.lines.join('\n');
    expect(table.length).toBeGreaterThan(1000);
    for (const secret of [...issued, TEST_SECRET]) {
      expect(table).not.toContain(secret);
      expect(logs).not.toContain(secret);
    }
    expect(table).not.toContain('token');
    expect(table).not.toMatch(/https?:\/\//);

    const before = await t.dataSource.getRepository(DataExportEvent).count();
    clock.advance(401 * 24 * 60 * MINUTE);
    const swept = await t.app.get(ExportSweeper).sweep();
    expect(swept.auditPruned).toBe(before);
    // What remains is what this sweep recorded (the expiries of exports still downloadable).
    expect((await t.dataSource.getRepository(DataExportEvent).find()).every((e) => e.type === 'expired')).toBe(true);
  });
});

describe.each(DATABASES)('the audit trail of an instant download, and a trail that cannot be written, on %s', (db) => {
  let t: TestApp;
  const logger = new CapturingLogger();
  beforeAll(async () => {
    t = await createTestApp(db, { entities: HELP_DESK_ENTITIES, logger, exportOptions: { instant: { maxRows: 500 } } });
    await seedHelpDesk(t.dataSource, 2);
  });
  afterAll(() => t?.close());

  it('records who started it, with no export row and no file', async () => {
    const download = await t.service.instant(owner(TEAM_A), { format: 'json' });
    for await (const _ of download.stream) void _;
    const trail = await t.app.get(ExportAdminService).history({ accountId: TEAM_A });
    expect(trail).toEqual([
      { at: expect.any(String), type: 'instant-downloaded', actor: `owner-${TEAM_A}`, exportId: expect.stringMatching(/^[0-9a-f-]{36}$/), accountId: TEAM_A, detail: { format: 'json', rows: download.estimate.rows } },
    ]);
    expect(await t.dataSource.getRepository(DataExport).count()).toBe(0);
  });

  it('logs an audit record it cannot write, and the export goes on', async () => {
    await t.dataSource.query('DROP TABLE data_export_events');
    const view = await t.service.request(owner(TEAM_B));
    const done = await waitForExport(t.dataSource, view.id);
    expect(done.status).toBe(ExportStatus.Completed);
    const lines = logger.lines.filter((l) => l.includes('not written'));
    expect(lines.length).toBeGreaterThanOrEqual(3);
    expect(lines.join('\n')).toContain(`Audit record "completed" of export ${view.id} not written`);
  });
});
