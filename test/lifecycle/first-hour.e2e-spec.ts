import { Injectable, INestApplication, LoggerService } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import request from 'supertest';
import { firstValueFrom, filter, take, toArray } from 'rxjs';
import {
  DataExport,
  DefaultExportPolicy,
  ExportEvent,
  ExportForbiddenException,
  ExportModuleExtras,
  ExportModuleOptions,
  ExportNotifier,
  ExportPrincipal,
  ExportRequestContext,
  ExportStatus,
  ExportSweeper,
  ExportView,
} from 'nestjs-data-export';
import { DATABASES } from '../utils/databases';
import { refusalCode } from '../utils/refusal';
import { createTestApp, RecordingNotifier, TestApp, TestClock, waitForExport } from '../utils/test-app';
import { HELP_DESK_ENTITIES } from '../fixtures/help-desk.entities';
import { insertBulkMessages, seedHelpDesk, TEAM_A } from '../fixtures/help-desk.seed';

const HOUR = 3_600_000;
const OWNER: ExportPrincipal = { userId: 'owner-a', accountId: TEAM_A, role: 'owner', email: 'owner@a.example' };
const NO_EMAIL: ExportPrincipal = { userId: 'admin-a', accountId: TEAM_A, role: 'admin' };
const AGENT: ExportPrincipal = { userId: 'agent-a', accountId: TEAM_A, role: 'agent', email: 'agent@a.example' };

/** `x-user: <JSON principal>` becomes `req.user`. */
function signIn(app: INestApplication): void {
  app.use((req: Request & { user?: unknown }, _res: Response, next: NextFunction) => {
    const header = req.headers['x-user'];
    if (typeof header === 'string') req.user = JSON.parse(header);
    next();
  });
}
const as = (who: ExportPrincipal) => JSON.stringify(who);

/** Keeps the warnings the app logs, with their context. */
class RecordingLogger implements LoggerService {
  readonly warnings: { message: string; context?: string }[] = [];
  log(): void {}
  error(): void {}
  debug(): void {}
  verbose(): void {}
  warn(message: unknown, context?: string): void {
    this.warnings.push({ message: String(message), context });
  }
}

/** A host policy: owners wait 1 h after an export instead of the cooldown; suspended accounts may not export. */
@Injectable()
class HostPolicy extends DefaultExportPolicy {
  assertCanRequest(principal: ExportPrincipal, context: ExportRequestContext): void {
    if (principal.accountId === 'suspended') throw new ExportForbiddenException('This account is suspended.');
    super.assertCanRequest(principal, context);
  }
  protected cooldownMs(principal: ExportPrincipal): number {
    return principal.role === 'owner' ? HOUR : super.cooldownMs(principal);
  }
}

/** Every number of a view is a JSON number (or null where the field may be null). */
function expectNumbers(view: ExportView): void {
  expect(typeof view.progress.rowsDone).toBe('number');
  expect(typeof view.progress.percent).toBe('number');
  expect(view.progress.rowsEstimated === null || typeof view.progress.rowsEstimated === 'number').toBe(true);
  expect(view.size === null || typeof view.size === 'number').toBe(true);
  expect(typeof view.attempts).toBe('number');
  expect(typeof view.downloadCount).toBe('number');
  for (const n of Object.values(view.counts ?? {})) expect(typeof n).toBe('number');
}

describe.each(DATABASES)('the first hour of a team on %s', (db) => {
  let t: TestApp;
  let clock: TestClock;
  let http: ReturnType<typeof request>;
  let logger: RecordingLogger;
  const rows = () => t.dataSource.getRepository(DataExport).find();

  async function boot(exportOptions: Partial<ExportModuleOptions> & ExportModuleExtras = {}): Promise<void> {
    await t?.close();
    clock = new TestClock();
    logger = new RecordingLogger();
    t = await createTestApp(db, {
      entities: HELP_DESK_ENTITIES,
      clock,
      logger,
      configure: signIn,
      exportOptions: { notifier: RecordingNotifier, downloadTtl: '24h', cooldown: '48h', ...exportOptions },
    });
    await seedHelpDesk(t.dataSource, 2);
    http = request(t.app.getHttpServer());
  }
  afterEach(() => t?.close());

  it('refuses a confirmed request without an email (422 EXPORT_EMAIL_REQUIRED), creating nothing, and says so at boot', async () => {
    await boot({ confirmation: { required: true } });
    const warnings = logger.warnings.filter((w) => /email/i.test(w.message));
    expect(warnings).toEqual([{ message: expect.stringMatching(/confirmation.*email/i), context: 'ExportModule' }]);

    const refused = await http.post('/exports').set('x-user', as(NO_EMAIL)).send({});
    expect(refused.body).toEqual({ statusCode: 422, code: 'EXPORT_EMAIL_REQUIRED', message: expect.any(String) });
    expect(refused.body.message).not.toMatch(/EXPORT_/);
    for (const email of ['', '   ', 'not-an-address', 42]) {
      expect(await refusalCode(t.service.request({ ...NO_EMAIL, email } as ExportPrincipal))).toBe('EXPORT_EMAIL_REQUIRED');
    }
    expect(await rows()).toEqual([]);
    expect((t.app.get(ExportNotifier) as RecordingNotifier).calls).toEqual([]);
    expect((await http.get('/exports/eligibility').set('x-user', as(NO_EMAIL)).expect(200)).body).toEqual({
      canRequest: false,
      reason: 'EXPORT_EMAIL_REQUIRED',
      nextAllowedAt: null,
      activeExportId: null,
    });

    // With an address the request waits for its confirmation.
    const created = await http.post('/exports').set('x-user', as(OWNER)).send({}).expect(202);
    expect(created.body.status).toBe('pending');

    // Without confirmation no email is needed, and nothing is said at boot.
    await boot();
    expect(logger.warnings.filter((w) => /email/i.test(w.message))).toEqual([]);
    await http.post('/exports').set('x-user', as(NO_EMAIL)).send({}).expect(202);
  });

  it('shows a deleted export as deleted (by whom, when) in the view and the events; a lapsed one as expired or unconfirmed', async () => {
    await boot();
    const created = await http.post('/exports').set('x-user', as(OWNER)).send({}).expect(202);
    await waitForExport(t.dataSource, created.body.id);
    // The completion's own status event can still be on its way once the row reads completed.
    const events = firstValueFrom(t.service.events$.pipe(filter((e: ExportEvent) => e.type === 'status' && e.export.status !== 'completed'), take(1), toArray()));
    clock.advance(HOUR);
    const deleted = await http.delete(`/exports/${created.body.id}`).set('x-user', as(OWNER)).expect(200);
    expect(deleted.body).toMatchObject({ status: 'expired', reason: 'deleted', deletedBy: 'owner-a', deletedAt: clock.now().toISOString() });
    const [event] = await events;
    expect(event.export).toMatchObject({ status: 'expired', reason: 'deleted', deletedBy: 'owner-a', deletedAt: clock.now().toISOString() });
    expect((await http.get(`/exports/${created.body.id}`).set('x-user', as(OWNER)).expect(200)).body).toMatchObject({ reason: 'deleted', deletedBy: 'owner-a' });

    // Past the cooldown, an export whose window ends is `expired`, and an unconfirmed one `unconfirmed`.
    clock.advance(48 * HOUR);
    const second = await http.post('/exports').set('x-user', as(OWNER)).send({}).expect(202);
    await waitForExport(t.dataSource, second.body.id);
    clock.advance(25 * HOUR);
    await t.app.get(ExportSweeper).sweep();
    expect((await http.get(`/exports/${second.body.id}`).set('x-user', as(OWNER)).expect(200)).body).toMatchObject({
      status: 'expired',
      reason: 'expired',
      deletedAt: null,
      deletedBy: null,
    });

    await boot({ confirmation: { required: true, ttl: '1h' } });
    const pending = await http.post('/exports').set('x-user', as(OWNER)).send({}).expect(202);
    expect(pending.body.reason).toBeNull();
    clock.advance(2 * HOUR);
    await t.app.get(ExportSweeper).sweep();
    expect((await http.get(`/exports/${pending.body.id}`).set('x-user', as(OWNER)).expect(200)).body).toMatchObject({ status: 'expired', reason: 'unconfirmed' });
  });

  it('answers every number as a number, from the first POST on', async () => {
    await boot({ batchSize: 5 });
    await insertBulkMessages(t.dataSource, 50, (i) => `bulk ${i}`);
    const events: ExportEvent[] = [];
    const subscription = t.service.events$.subscribe((e) => events.push(e));
    const created = await http.post('/exports').set('x-user', as(OWNER)).send({}).expect(202);
    expect(created.body.progress.rowsDone).toBe(0);
    expect(created.body.progress.percent).toBe(0);
    expect(created.body.attempts).toBe(0);
    expect(created.body.downloadCount).toBe(0);
    expectNumbers(created.body);
    await waitForExport(t.dataSource, created.body.id);
    subscription.unsubscribe();

    const done = (await http.get(`/exports/${created.body.id}`).set('x-user', as(OWNER)).expect(200)).body as ExportView;
    expect(done.status).toBe(ExportStatus.Completed);
    expectNumbers(done);
    expect(done.size).toBeGreaterThan(0);
    expect(done.progress.rowsDone).toBeGreaterThan(50);
    expect(done.progress.rowsEstimated).toBeGreaterThan(0);
    expect(done.attempts).toBe(1);
    expect(Object.keys(done.counts ?? {}).length).toBeGreaterThan(0);
    expectNumbers((await http.get('/exports').set('x-user', as(OWNER)).expect(200)).body[0]);
    expect(events.length).toBeGreaterThan(2);
    for (const e of events) expectNumbers(e.export);
  });

  it('tells before any request whether one may be made, why not and from when, with the codes a request answers', async () => {
    await boot({ confirmation: { required: true, ttl: '2h' } });
    const eligibility = async (who?: ExportPrincipal) => {
      const call = http.get('/exports/eligibility');
      return (await (who ? call.set('x-user', as(who)) : call)).body;
    };
    const requestCode = async (who: ExportPrincipal) => (await http.post('/exports').set('x-user', as(who)).send({})).body.code;

    expect((await http.get('/exports/eligibility')).status).toBe(401);
    expect(await eligibility(AGENT)).toEqual({ canRequest: false, reason: 'EXPORT_FORBIDDEN', nextAllowedAt: null, activeExportId: null });
    expect(await requestCode(AGENT)).toBe('EXPORT_FORBIDDEN');
    expect(await eligibility(OWNER)).toEqual({ canRequest: true, nextAllowedAt: null, activeExportId: null });
    expect(await t.service.eligibility(OWNER)).toEqual({ canRequest: true, nextAllowedAt: null, activeExportId: null });

    // Pending: the slot frees when the confirmation link lapses.
    const pending = await http.post('/exports').set('x-user', as(OWNER)).send({}).expect(202);
    expect(await eligibility(OWNER)).toEqual({
      canRequest: false,
      reason: 'EXPORT_ALREADY_ACTIVE',
      nextAllowedAt: new Date(clock.now().getTime() + 2 * HOUR).toISOString(),
      activeExportId: pending.body.id,
    });
    expect(await requestCode(OWNER)).toBe('EXPORT_ALREADY_ACTIVE');

    // Completed: ready until its window ends, but the 48 h cooldown holds the next request longer.
    const notifier = t.app.get(ExportNotifier) as RecordingNotifier;
    await t.service.confirm(pending.body.id, notifier.token('confirmationRequested', pending.body.id));
    const row = await waitForExport(t.dataSource, pending.body.id);
    const cooldownEnd = new Date(row.completedAt!.getTime() + 48 * HOUR).toISOString();
    expect(await eligibility(OWNER)).toEqual({ canRequest: false, reason: 'EXPORT_ALREADY_ACTIVE', nextAllowedAt: cooldownEnd, activeExportId: row.id });

    // Deleted: the cooldown.
    await http.delete(`/exports/${row.id}`).set('x-user', as(OWNER)).expect(200);
    expect(await eligibility(OWNER)).toEqual({ canRequest: false, reason: 'EXPORT_COOLDOWN', nextAllowedAt: cooldownEnd, activeExportId: null });
    expect(await requestCode(OWNER)).toBe('EXPORT_COOLDOWN');
    clock.advance(48 * HOUR);
    expect((await eligibility(OWNER)).canRequest).toBe(true);

    // A host's policy is followed: its own cooldown, its own refusals.
    await boot({ policy: HostPolicy });
    const quick = await http.post('/exports').set('x-user', as(OWNER)).send({}).expect(202);
    const done = await waitForExport(t.dataSource, quick.body.id);
    const hourLater = new Date(done.completedAt!.getTime() + HOUR).toISOString();
    // The slot frees when the 24 h window ends, after the owner's 1 h cooldown.
    expect((await eligibility(OWNER)).nextAllowedAt).toBe(done.expiresAt!.toISOString());
    await http.delete(`/exports/${done.id}`).set('x-user', as(OWNER)).expect(200);
    expect(await eligibility(OWNER)).toEqual({ canRequest: false, reason: 'EXPORT_COOLDOWN', nextAllowedAt: hourLater, activeExportId: null });
    const suspended = { ...OWNER, accountId: 'suspended' };
    expect(await eligibility(suspended)).toEqual({ canRequest: false, reason: 'EXPORT_FORBIDDEN', nextAllowedAt: null, activeExportId: null });
    expect(await requestCode(suspended)).toBe('EXPORT_FORBIDDEN');
  });
});
