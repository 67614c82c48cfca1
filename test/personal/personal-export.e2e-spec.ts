import { Inject, Injectable } from '@nestjs/common';
import request from 'supertest';
import { Column, DataSource, Entity, PrimaryColumn } from 'typeorm';
import {
  DataExport,
  DefaultExportPolicy,
  Exportable,
  ExportModuleExtras,
  ExportModuleOptions,
  ExportNotFoundException,
  ExportNotifier,
  ExportPrincipal,
  ExportRequester,
  ExportStatus,
  ExportSubjectUser,
  ExportView,
} from 'nestjs-data-export';
import { DATABASES } from '../utils/databases';
import { refusalCode } from '../utils/refusal';
import { createTestApp, TestApp, TestClock, waitForExport } from '../utils/test-app';
import { readZip } from '../utils/zip';
import { bootMessage } from '../utils/boot';
import { canary, PERSONAL_ENTITIES, PERSONAL_EXPORTERS, seedPersonal, SignInExporter } from '../fixtures/personal.entities';
import { binary } from '../utils/binary-body';
import { jsonPrincipalAuth } from '../utils/fake-auth';

const HOUR = 3_600_000;
const TEAM_A = 'team-a';
const OWNER = { userId: 'owner-a', accountId: TEAM_A, role: 'owner', email: 'owner@a.example' };
const ADMIN = { userId: 'admin-a', accountId: TEAM_A, role: 'admin', email: 'admin@a.example' };
const M1 = { userId: 'm1', accountId: TEAM_A, role: 'agent', email: 'm1@a.example' };
const M2 = { userId: 'm2', accountId: TEAM_A, role: 'agent', email: 'm2@a.example' };
const M1_IN_B = { userId: 'm1', accountId: 'team-b', role: 'agent', email: 'm1@b.example' };
type Who = ExportPrincipal;

/** The host's members: who `resolveSubject` may confirm, with their address. */
@Entity('pe_members')
class Member {
  @PrimaryColumn({ type: 'varchar', length: 64 }) id: string;
  @PrimaryColumn({ type: 'varchar', length: 64 }) teamId: string;
  @Column({ type: 'varchar', length: 200 }) email: string;
  @Column({ type: 'varchar', length: 200 }) name: string;
}

/** An app whose only category is the team's own. */
@Exportable({ category: 'team-settings', scope: 'teamId' })
@Entity('pe_team_only')
class TeamSettingOnly {
  @PrimaryColumn({ type: 'varchar', length: 36 }) id: string;
  @Column({ type: 'varchar', length: 64 }) teamId: string;
}

/** A host policy allowing exports on behalf of the account's members. */
@Injectable()
class MembersPolicy extends DefaultExportPolicy {
  @Inject(DataSource) private readonly dataSource!: DataSource;

  async resolveSubject(principal: ExportPrincipal, userId: string): Promise<ExportSubjectUser> {
    const member = await this.dataSource.getRepository(Member).findOneBy({ id: userId, teamId: principal.accountId });
    if (!member) throw new ExportNotFoundException();
    return { userId: member.id, email: member.email, displayName: member.name };
  }
}

/** Records each message with who it goes to. */
@Injectable()
class RecipientNotifier extends ExportNotifier {
  readonly sent: { kind: string; view: ExportView; to: ExportRequester }[] = [];
  confirmationRequested(view: ExportView, _url: string, to: ExportRequester): void {
    this.sent.push({ kind: 'confirmationRequested', view, to });
  }
  ready(view: ExportView, _url: string, to: ExportRequester): void {
    this.sent.push({ kind: 'ready', view, to });
  }
  failed(view: ExportView, to: ExportRequester): void {
    this.sent.push({ kind: 'failed', view, to });
  }
}

const signIn = jsonPrincipalAuth;
const as = (who: Who) => JSON.stringify(who);


describe.each(DATABASES)('personal exports on %s', (db) => {
  let t: TestApp;
  let clock: TestClock;
  let http: ReturnType<typeof request>;

  async function boot(exportOptions: Partial<ExportModuleOptions> & ExportModuleExtras = {}): Promise<void> {
    await t?.close();
    clock = new TestClock();
    t = await createTestApp(db, {
      entities: [...PERSONAL_ENTITIES, Member],
      clock,
      configure: signIn,
      metadata: { providers: [...PERSONAL_EXPORTERS] },
      exportOptions: { notifier: RecipientNotifier, downloadTtl: '1h', cooldown: '24h', ...exportOptions },
    });
    await seedPersonal(t.dataSource);
    await t.dataSource.getRepository(Member).insert([
      { id: 'm1', teamId: TEAM_A, email: 'm1-home@a.example', name: 'Member One' },
      { id: 'm2', teamId: TEAM_A, email: 'm2-home@a.example', name: 'Member Two' },
      { id: 'm9', teamId: 'team-b', email: 'm9@b.example', name: 'Other Team' },
    ]);
    http = request(t.app.getHttpServer());
  }
  afterEach(() => t?.close());

  const notifier = () => t.app.get(ExportNotifier) as RecipientNotifier;
  const stored = (id: string) => t.dataSource.getRepository(DataExport).findOneByOrFail({ id });

  /** Downloads a completed export as `who` and returns its entries. */
  async function download(id: string, who: Who): Promise<Map<string, Buffer>> {
    const view = await http.get(`/exports/${id}`).set('x-user', as(who)).expect(200);
    const url = new URL(view.body.downloadUrl);
    const res = await http.get(`${url.pathname.replace(/^\/api/, '')}${url.search}`).set('x-user', as(who)).buffer(true).parse(binary).expect(200);
    return readZip(res.body as Buffer);
  }
  const ndjson = (entries: Map<string, Buffer>, category: string) =>
    entries.get(`${category}.ndjson`)!.toString('utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));

  it("an agent's personal export holds only their rows in personal categories, and none of another member's or team's", async () => {
    await boot();
    const created = await http.post('/exports').set('x-user', as(M1)).send({ kind: 'personal' }).expect(202);
    expect(created.body).toMatchObject({ kind: 'personal', subject: { userId: 'm1' }, requestedBy: 'm1', status: 'confirmed' });
    const row = await waitForExport(t.dataSource, created.body.id);
    expect(row.status).toBe(ExportStatus.Completed);

    const entries = await download(row.id, M1);
    const manifest = JSON.parse(entries.get('manifest.json')!.toString('utf8'));
    expect(manifest).toMatchObject({ kind: 'personal', subject: { userId: 'm1' }, requestedBy: 'm1', accountId: TEAM_A });
    expect(manifest.categories.map((c: { name: string }) => c.name)).toEqual(['threads', 'notes', 'replies', 'reactions', 'sign-ins']);
    expect(manifest.notIncluded.accountOnly).toEqual(['settings', 'invoices']);
    expect([...entries.keys()].filter((k) => k.endsWith('.ndjson')).sort()).toEqual(
      ['notes', 'reactions', 'replies', 'sign-ins', 'threads'].map((c) => `${c}.ndjson`),
    );
    expect(ndjson(entries, 'threads').map((r) => r.title)).toEqual([`thread ${canary(TEAM_A, 'm1')}`]);
    expect(ndjson(entries, 'notes').map((r) => r.body)).toEqual([`note ${canary(TEAM_A, 'm1')}`]);
    expect(ndjson(entries, 'replies').map((r) => r.body)).toEqual([`reply ${canary(TEAM_A, 'm1')}`]);
    // The function's OR (own reactions, or mentions) stays inside the team.
    expect(ndjson(entries, 'reactions').map((r) => r.label).sort()).toEqual(['mention MENTION-team-a-m1', `reaction ${canary(TEAM_A, 'm1')}`]);
    expect(ndjson(entries, 'sign-ins')).toEqual([{ userId: 'm1', team: TEAM_A, kind: 'personal', requestedBy: 'm1' }]);
    const subjects = t.app.get(SignInExporter).subjects;
    expect(subjects).toEqual([{ kind: 'personal', accountId: TEAM_A, userId: 'm1', requestedBy: 'm1' }]);

    const everything = [...entries.values()].map((b) => b.toString('utf8')).join('\n');
    for (const other of [canary(TEAM_A, 'm2'), canary('team-b', 'm1'), canary('team-b', 'm2'), 'SETTING-', 'INVOICE-', 'MENTION-team-b']) {
      expect(everything).not.toContain(other);
    }
    expect(entries.get('README.txt')!.toString('utf8')).toMatch(/About user:\s+m1/);
    // The ready message went to the member.
    expect(notifier().sent.filter((s) => s.kind === 'ready').map((s) => s.to)).toEqual([{ userId: 'm1', accountId: TEAM_A, email: 'm1@a.example' }]);

    // The account export still holds every category and every member's rows.
    const account = await http.post('/exports').set('x-user', as(OWNER)).send({}).expect(202);
    expect(account.body).toMatchObject({ kind: 'account', subject: null });
    await waitForExport(t.dataSource, account.body.id);
    const all = await download(account.body.id, OWNER);
    expect(JSON.parse(all.get('manifest.json')!.toString('utf8')).kind).toBe('account');
    expect(ndjson(all, 'notes')).toHaveLength(2);
    expect(ndjson(all, 'settings')).toHaveLength(1);
    expect(ndjson(all, 'sign-ins').map((r) => r.kind)).toEqual(['account', 'account']);
  });

  it('writes kind and subject into a JSON document too, and names the download after the member', async () => {
    await boot();
    const created = await http.post('/exports').set('x-user', as(M2)).send({ kind: 'personal', format: 'json' }).expect(202);
    await waitForExport(t.dataSource, created.body.id);
    const view = await http.get(`/exports/${created.body.id}`).set('x-user', as(M2)).expect(200);
    const url = new URL(view.body.downloadUrl);
    const res = await http.get(`${url.pathname.replace(/^\/api/, '')}${url.search}`).set('x-user', as(M2)).buffer(true).parse(binary).expect(200);
    expect(res.headers['content-disposition']).toMatch(/filename="data-export-team-a-m2-\d{4}-\d{2}-\d{2}\.json"/);
    const doc = JSON.parse((res.body as Buffer).toString('utf8'));
    expect(doc).toMatchObject({ kind: 'personal', subject: { userId: 'm2' }, requestedBy: 'm2' });
    expect(Object.keys(doc.data)).toEqual(['threads', 'notes', 'replies', 'reactions', 'sign-ins']);
    expect(doc.data.notes.map((r: { body: string }) => r.body)).toEqual([`note ${canary(TEAM_A, 'm2')}`]);
    expect(JSON.stringify(doc)).not.toContain(canary(TEAM_A, 'm1'));
  });

  it('checks what a personal request asks for: personal categories only, a known kind, userId only with personal', async () => {
    await boot();
    const wrong = await http.post('/exports').set('x-user', as(M1)).send({ kind: 'personal', categories: ['notes', 'settings'] }).expect(400);
    expect(wrong.body).toMatchObject({ code: 'EXPORT_INVALID_REQUEST', validCategories: ['threads', 'notes', 'replies', 'reactions', 'sign-ins'] });
    for (const body of [{ kind: 'team' }, { kind: 'account', userId: 'm1' }, { userId: 'm1' }, { kind: 'personal', userId: 7 }, { kind: 'personal', userId: 'x'.repeat(192) }]) {
      const res = await http.post('/exports').set('x-user', as(OWNER)).send(body);
      expect([res.status, res.body.code]).toEqual([400, 'EXPORT_INVALID_REQUEST']);
    }
    expect(await refusalCode(t.service.request(OWNER, { kind: 'team' }))).toBe('EXPORT_INVALID_REQUEST');
    expect(await refusalCode(t.service.request(OWNER, { kind: 'account', userId: 'm1' }))).toBe('EXPORT_INVALID_REQUEST');
    expect((await http.post('/exports').send({ kind: 'personal' }).expect(401)).body.code).toBe('EXPORT_UNAUTHENTICATED');
    // An account export stays for owners and admins.
    expect((await http.post('/exports').set('x-user', as(M1)).send({}).expect(403)).body.code).toBe('EXPORT_FORBIDDEN');
    expect(await t.dataSource.getRepository(DataExport).count()).toBe(0);
    const ok = await http.post('/exports').set('x-user', as(M1)).send({ kind: 'personal', categories: ['notes'] }).expect(202);
    const row = await waitForExport(t.dataSource, ok.body.id);
    const entries = await download(row.id, M1);
    expect([...entries.keys()].filter((k) => k.endsWith('.ndjson'))).toEqual(['notes.ndjson']);
  });

  it('shows members their own personal exports; owners and admins also the account exports, never another member\'s', async () => {
    await boot();
    const mine = (await http.post('/exports').set('x-user', as(M1)).send({ kind: 'personal' }).expect(202)).body;
    const theirs = (await http.post('/exports').set('x-user', as(M2)).send({ kind: 'personal' }).expect(202)).body;
    const account = (await http.post('/exports').set('x-user', as(OWNER)).send({}).expect(202)).body;
    for (const id of [mine.id, theirs.id, account.id]) await waitForExport(t.dataSource, id);

    const ids = async (who: Who) => (await http.get('/exports').set('x-user', as(who)).expect(200)).body.map((v: ExportView) => v.id).sort();
    expect(await ids(M1)).toEqual([mine.id]);
    expect(await ids(M2)).toEqual([theirs.id]);
    expect(await ids(OWNER)).toEqual([account.id]);
    expect(await ids(M1_IN_B)).toEqual([]);

    expect((await http.get(`/exports/${theirs.id}`).set('x-user', as(M1)).expect(404)).body.code).toBe('EXPORT_NOT_FOUND');
    expect((await http.get(`/exports/${mine.id}`).set('x-user', as(OWNER)).expect(404)).body.code).toBe('EXPORT_NOT_FOUND');
    expect((await http.get(`/exports/${mine.id}`).set('x-user', as(M1_IN_B)).expect(404)).body.code).toBe('EXPORT_NOT_FOUND');
    expect((await http.get(`/exports/${account.id}`).set('x-user', as(M1)).expect(403)).body.code).toBe('EXPORT_FORBIDDEN');
    expect((await http.delete(`/exports/${theirs.id}`).set('x-user', as(M1)).expect(404)).body.code).toBe('EXPORT_NOT_FOUND');

    // The download link opens for the member only, not for another member or the account's admins.
    const view = await http.get(`/exports/${mine.id}`).set('x-user', as(M1)).expect(200);
    const url = new URL(view.body.downloadUrl);
    const path = `${url.pathname.replace(/^\/api/, '')}${url.search}`;
    for (const who of [M2, OWNER, ADMIN]) {
      expect((await http.get(path).set('x-user', as(who)).expect(403)).body.code).toBe('EXPORT_FORBIDDEN');
    }
    await http.get(path).set('x-user', as(M1)).buffer(true).parse(binary).expect(200);

    // The member deletes their own completed export.
    const deleted = await http.delete(`/exports/${mine.id}`).set('x-user', as(M1)).expect(200);
    expect(deleted.body).toMatchObject({ status: 'expired', reason: 'deleted', deletedBy: 'm1' });
  });

  it('holds one active export per (account, kind, member) and the cooldown per member; personal and account exports never block each other', async () => {
    await boot({ worker: false });
    expect(await refusalCode(t.service.request(M1, { kind: 'personal' }))).toBe('ok');
    expect(await refusalCode(t.service.request(M1, { kind: 'personal' }))).toBe('EXPORT_ALREADY_ACTIVE');
    expect(await refusalCode(t.service.request(OWNER))).toBe('ok');
    expect(await refusalCode(t.service.request(M2, { kind: 'personal' }))).toBe('ok');
    expect(await refusalCode(t.service.request(OWNER, { kind: 'personal' }))).toBe('ok');
    expect(await refusalCode(t.service.request(M1_IN_B, { kind: 'personal' }))).toBe('ok');
    expect(await refusalCode(t.service.request(ADMIN))).toBe('EXPORT_ALREADY_ACTIVE');
    const eligibility = await http.get('/exports/eligibility?kind=personal').set('x-user', as(M1)).expect(200);
    expect(eligibility.body).toMatchObject({ canRequest: false, reason: 'EXPORT_ALREADY_ACTIVE' });
    expect((await http.get('/exports/eligibility?kind=personal').set('x-user', as(ADMIN)).expect(200)).body).toMatchObject({ canRequest: true });
    expect((await http.get('/exports/eligibility').set('x-user', as(M1)).expect(200)).body).toMatchObject({ canRequest: false, reason: 'EXPORT_FORBIDDEN' });
    expect((await http.get('/exports/eligibility?kind=x').set('x-user', as(M1)).expect(400)).body.code).toBe('EXPORT_INVALID_REQUEST');
  });

  it('lets one export per member through 50 concurrent requests, beside the account\'s own', async () => {
    await boot({ worker: false });
    const results = await Promise.all([
      ...Array.from({ length: 50 }, () => refusalCode(t.service.request(M1, { kind: 'personal' }))),
      ...Array.from({ length: 50 }, (_, i) => refusalCode(t.service.request(i % 2 ? OWNER : ADMIN))),
      ...Array.from({ length: 50 }, () => refusalCode(t.service.request(M2, { kind: 'personal' }))),
    ]);
    for (let group = 0; group < 3; group++) {
      const part = results.slice(group * 50, group * 50 + 50);
      expect(part.filter((r) => r === 'ok')).toHaveLength(1);
      expect(part.filter((r) => r === 'EXPORT_ALREADY_ACTIVE')).toHaveLength(49);
    }
    const rows = await t.dataSource.getRepository(DataExport).find();
    expect(rows.map((r) => `${r.kind}:${r.subjectUserId ?? '-'}`).sort()).toEqual(['account:-', 'personal:m1', 'personal:m2']);
    expect(new Set(rows.map((r) => r.activeSlot)).size).toBe(3);
  });

  it('keeps the cooldown per member once a personal export completed and its download window ended', async () => {
    await boot();
    const first = await t.service.request(M1, { kind: 'personal' });
    await waitForExport(t.dataSource, first.id);
    clock.advance(2 * HOUR);
    expect(await refusalCode(t.service.request(M1, { kind: 'personal' }))).toBe('EXPORT_COOLDOWN');
    expect(await refusalCode(t.service.request(M2, { kind: 'personal' }))).toBe('ok');
    expect(await refusalCode(t.service.request(OWNER))).toBe('ok');
    clock.advance(23 * HOUR);
    expect(await refusalCode(t.service.request(M1, { kind: 'personal' }))).toBe('ok');
    for (const row of await t.dataSource.getRepository(DataExport).find()) await waitForExport(t.dataSource, row.id);
  });

  it('exports on behalf: the owner asks, the member gets the ready message, the manifest says who asked about whom', async () => {
    await boot({ policy: MembersPolicy });
    const created = await http.post('/exports').set('x-user', as(OWNER)).send({ kind: 'personal', userId: 'm1' }).expect(202);
    expect(created.body).toMatchObject({ kind: 'personal', subject: { userId: 'm1' }, requestedBy: 'owner-a', notifiedUserId: null });
    const row = await waitForExport(t.dataSource, created.body.id);
    expect(row.status).toBe(ExportStatus.Completed);
    expect(notifier().sent.filter((s) => s.kind === 'ready').map((s) => s.to)).toEqual([
      { userId: 'm1', accountId: TEAM_A, email: 'm1-home@a.example', requestedBy: 'owner-a' },
    ]);
    // The requester sees it was sent to the member, and may download it for them.
    const view = await http.get(`/exports/${row.id}`).set('x-user', as(OWNER)).expect(200);
    expect(view.body).toMatchObject({ notifiedUserId: 'm1', subject: { userId: 'm1' } });
    expect(JSON.stringify(view.body)).not.toContain('m1-home@a.example');
    const entries = await download(row.id, OWNER);
    const manifest = JSON.parse(entries.get('manifest.json')!.toString('utf8'));
    expect(manifest).toMatchObject({ kind: 'personal', subject: { userId: 'm1' }, requestedBy: 'owner-a' });
    expect(ndjson(entries, 'notes').map((r) => r.body)).toEqual([`note ${canary(TEAM_A, 'm1')}`]);
    expect(entries.get('README.txt')!.toString('utf8')).toMatch(/Requested by: owner-a \(on your behalf\)/);
    // The member sees it among their exports too, and it holds their personal slot.
    expect((await http.get('/exports').set('x-user', as(M1)).expect(200)).body.map((v: ExportView) => v.id)).toEqual([row.id]);
    expect((await http.post('/exports').set('x-user', as(M1)).send({ kind: 'personal' }).expect(409)).body.activeExportId).toBe(row.id);
    // Another admin may not open it.
    const url = new URL(view.body.downloadUrl);
    await http.get(`${url.pathname.replace(/^\/api/, '')}${url.search}`).set('x-user', as(ADMIN)).expect(403);

    // A member may not ask for someone else; a user outside the account does not exist.
    const member = await http.post('/exports').set('x-user', as(M2)).send({ kind: 'personal', userId: 'm1' }).expect(403);
    expect(member.body.code).toBe('EXPORT_FORBIDDEN');
    expect((await http.post('/exports').set('x-user', as(ADMIN)).send({ kind: 'personal', userId: 'm9' }).expect(404)).body.code).toBe('EXPORT_NOT_FOUND');
    expect((await http.post('/exports').set('x-user', as(ADMIN)).send({ kind: 'personal', userId: 'nobody' }).expect(404)).body.code).toBe('EXPORT_NOT_FOUND');
    expect(await t.dataSource.getRepository(DataExport).count()).toBe(1);
  });

  it('refuses exports on behalf with the default policy (403, saying to override resolveSubject)', async () => {
    await boot();
    const refused = await http.post('/exports').set('x-user', as(OWNER)).send({ kind: 'personal', userId: 'm1' }).expect(403);
    expect(refused.body).toMatchObject({ code: 'EXPORT_FORBIDDEN', message: expect.stringMatching(/resolveSubject/) });
    // Naming oneself is a personal export of one's own data.
    const self = await http.post('/exports').set('x-user', as(M1)).send({ kind: 'personal', userId: 'm1' }).expect(202);
    expect(self.body).toMatchObject({ subject: { userId: 'm1' }, requestedBy: 'm1' });
    await waitForExport(t.dataSource, self.body.id);
    expect((await stored(self.body.id)).subjectEmail).toBe('m1@a.example');
  });

  it('with confirmation on, the requester confirms an export on behalf; the member gets the ready message', async () => {
    await boot({ policy: MembersPolicy, confirmation: { required: true } });
    const created = await t.service.request(OWNER, { kind: 'personal', userId: 'm2' });
    expect(created.status).toBe(ExportStatus.Pending);
    expect(notifier().sent.map((s) => [s.kind, s.to.userId, s.to.email])).toEqual([['confirmationRequested', 'owner-a', 'owner@a.example']]);
  });
});

describe('personal exports of an app without personal categories', () => {
  it('refuses them with 400, saying how to mark a category, and creates nothing', async () => {
    const t = await createTestApp('sqlite', { entities: [TeamSettingOnly], exportOptions: { worker: false } });
    try {
      const refused = await t.service.request(M1, { kind: 'personal' }).catch((e) => e);
      expect(refused.getResponse()).toMatchObject({ statusCode: 400, code: 'EXPORT_INVALID_REQUEST', validCategories: [] });
      expect(refused.message).toMatch(/@Exportable\(\{ personal \}\)/);
      expect(await t.dataSource.getRepository(DataExport).count()).toBe(0);
    } finally {
      await t.close();
    }
  });
});

describe('personal ties checked at boot', () => {
  @Entity('pe_bad_column')
  class BadColumn {
    @PrimaryColumn({ type: 'varchar', length: 36 }) id: string;
    @Column({ type: 'varchar', length: 64 }) teamId: string;
  }
  @Entity('pe_bad_relation')
  class BadRelation {
    @PrimaryColumn({ type: 'varchar', length: 36 }) id: string;
    @Column({ type: 'varchar', length: 64 }) teamId: string;
  }
  @Entity('pe_bad_value')
  class BadValue {
    @PrimaryColumn({ type: 'varchar', length: 36 }) id: string;
    @Column({ type: 'varchar', length: 64 }) teamId: string;
  }

  it('refuses an unknown column, an unknown relation or an empty personal tie, with the fix', async () => {
    const { Exportable } = await import('nestjs-data-export');
    Exportable({ category: 'bad-column', scope: 'teamId', personal: 'authorId' })(BadColumn);
    expect(await bootMessage([BadColumn])).toBe(
      '@Exportable on BadColumn: personal "authorId" is not a column of BadColumn. Use a column name, a relation path such as "ticket.requesterId", or a function (qb, subject) => qb.',
    );
    Exportable({ category: 'bad-relation', scope: 'teamId', personal: 'ticket.requesterId' })(BadRelation);
    expect(await bootMessage([BadRelation])).toMatch(/^@Exportable on BadRelation: personal "ticket.requesterId" names "ticket", which is not a relation of BadRelation\./);
    Exportable({ category: 'bad-value', scope: 'teamId', personal: '' })(BadValue);
    expect(await bootMessage([BadValue])).toMatch(/^@Exportable on BadValue: "personal" must name the column holding the member's user id/);
    expect(await bootMessage(PERSONAL_ENTITIES)).toBe('booted');
  });

  it('refuses an exporter whose personal option is not a boolean', async () => {
    const { Exporter } = await import('nestjs-data-export');
    class Vague {
      async *rows() {}
    }
    Exporter('vague', { personal: 'yes' as never })(Vague);
    expect(await bootMessage(PERSONAL_ENTITIES, {}, [Vague])).toMatch(/^@Exporter Vague option "personal" must be true/);
  });
});
