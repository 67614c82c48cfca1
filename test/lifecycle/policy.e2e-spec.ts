import {
  DataExport,
  ExportAlreadyActiveException,
  ExportCooldownException,
  ExportPrincipal,
  ExportStatus,
} from 'nestjs-data-export';
import { DATABASES } from '../utils/databases';
import { refusalCode } from '../utils/refusal';
import { createTestApp, TestApp, TestClock, waitForExport } from '../utils/test-app';
import { HELP_DESK_ENTITIES } from '../fixtures/help-desk.entities';
import { seedHelpDesk, TEAM_A, TEAM_B } from '../fixtures/help-desk.seed';

const HOUR = 3_600_000;
const owner = (accountId = TEAM_A): ExportPrincipal => ({ userId: `owner-${accountId}`, accountId, role: 'owner' });
const admin = (accountId = TEAM_A): ExportPrincipal => ({ userId: `admin-${accountId}`, accountId, role: 'admin' });
const agent = (accountId = TEAM_A): ExportPrincipal => ({ userId: `agent-${accountId}`, accountId, role: 'agent' });


describe.each(DATABASES)('ExportPolicy on %s', (db) => {
  let t: TestApp;
  let clock: TestClock;

  beforeEach(async () => {
    clock = new TestClock();
    t = await createTestApp(db, {
      entities: HELP_DESK_ENTITIES,
      clock,
      exportOptions: { downloadTtl: '1h', cooldown: '24h' },
    });
    await seedHelpDesk(t.dataSource, 3);
  });
  afterEach(() => t?.close());

  const rows = () => t.dataSource.getRepository(DataExport).find({ order: { createdAt: 'ASC' } });

  it('lets owners and admins manage exports; refuses agents (403) and anonymous callers (401)', async () => {
    expect(await refusalCode(t.service.request(agent()))).toBe('EXPORT_FORBIDDEN');
    // An agent lists only their own personal exports: none.
    expect(await t.service.list(agent())).toEqual([]);
    expect(await refusalCode(t.service.list(null))).toBe('EXPORT_UNAUTHENTICATED');
    expect(await refusalCode(t.service.request(null))).toBe('EXPORT_UNAUTHENTICATED');
    expect(await refusalCode(t.service.request({ accountId: '', userId: 'x', role: 'owner' }))).toBe('EXPORT_UNAUTHENTICATED');
    expect(await rows()).toEqual([]);

    const view = await t.service.request(admin());
    expect(await t.service.list(agent())).toEqual([]);
    expect(await refusalCode(t.service.get(agent(), view.id))).toBe('EXPORT_FORBIDDEN');
    expect(await refusalCode(t.service.cancel(agent(), view.id))).toBe('EXPORT_FORBIDDEN');
    expect((await t.service.get(owner(), view.id)).id).toBe(view.id);
    // Another account's export does not exist for this principal.
    expect(await refusalCode(t.service.get(owner(TEAM_B), view.id))).toBe('EXPORT_NOT_FOUND');
    expect(await refusalCode(t.service.cancel(owner(TEAM_B), view.id))).toBe('EXPORT_NOT_FOUND');
    expect(await t.service.list(owner(TEAM_B))).toEqual([]);
  });

  it('allows one active export per account, including a completed one still downloadable', async () => {
    const first = await t.service.request(owner());
    const refused = await t.service.request(admin()).catch((e) => e);
    expect(refused).toBeInstanceOf(ExportAlreadyActiveException);
    expect(refused.getResponse()).toMatchObject({ statusCode: 409, code: 'EXPORT_ALREADY_ACTIVE', activeExportId: first.id });

    const done = await waitForExport(t.dataSource, first.id);
    expect(done.status).toBe(ExportStatus.Completed);
    const again = await t.service.request(owner()).catch((e) => e);
    expect(again).toBeInstanceOf(ExportAlreadyActiveException);
    expect(again.details.activeExportId).toBe(first.id);
    // Other accounts are not affected.
    expect(await refusalCode(t.service.request(owner(TEAM_B)))).toBe('ok');
  });

  it('answers 429 with retryAfterSeconds and availableAt once the download window ended, until 24 h after completion', async () => {
    const first = await t.service.request(owner());
    const done = await waitForExport(t.dataSource, first.id);
    clock.advance(2 * HOUR);
    const refused = await t.service.request(owner()).catch((e) => e);
    expect(refused).toBeInstanceOf(ExportCooldownException);
    const availableAt = new Date(done.completedAt!.getTime() + 24 * HOUR);
    expect(refused.getResponse()).toMatchObject({
      statusCode: 429,
      code: 'EXPORT_COOLDOWN',
      availableAt: availableAt.toISOString(),
      retryAfterSeconds: Math.ceil((availableAt.getTime() - clock.now().getTime()) / 1000),
    });
    // The lapsed export was expired on the way and its file deleted.
    const expired = await t.dataSource.getRepository(DataExport).findOneByOrFail({ id: first.id });
    expect(expired).toMatchObject({ status: ExportStatus.Expired, activeSlot: null, storageKey: null });

    clock.advance(22 * HOUR - 1000);
    expect(await refusalCode(t.service.request(owner()))).toBe('EXPORT_COOLDOWN');
    clock.advance(1000);
    expect(await refusalCode(t.service.request(owner()))).toBe('ok');
  });

  it('starts no cooldown after a cancelled or failed export', async () => {
    const first = await t.service.request(owner());
    await t.service.cancel(owner(), first.id);
    const second = await t.service.request(owner());
    await t.dataSource.getRepository(DataExport).update({ id: second.id }, { status: ExportStatus.Failed, activeSlot: null, completedAt: null });
    expect(await refusalCode(t.service.request(owner()))).toBe('ok');
  });

  it('creates exactly one export from 50 concurrent requests; other accounts are unaffected', async () => {
    const results = await Promise.all([
      ...Array.from({ length: 50 }, (_, i) => refusalCode(t.service.request(i % 2 ? owner() : admin()))),
      refusalCode(t.service.request(owner(TEAM_B))),
      refusalCode(t.service.request(owner('team-c'))),
    ]);
    const forA = results.slice(0, 50);
    expect(forA.filter((r) => r === 'ok')).toHaveLength(1);
    expect(forA.filter((r) => r === 'EXPORT_ALREADY_ACTIVE')).toHaveLength(49);
    expect(results.slice(50)).toEqual(['ok', 'ok']);
    const all = await rows();
    expect(all.filter((r) => r.accountId === TEAM_A)).toHaveLength(1);
    expect(all.filter((r) => r.accountId === TEAM_B)).toHaveLength(1);
    await Promise.all(all.map((r) => waitForExport(t.dataSource, r.id)));
  });

  it('rejects bad input with EXPORT_INVALID_REQUEST, naming the valid categories, and stores nothing', async () => {
    const unknown = await t.service.request(owner(), { categories: ['tickets', 'invoices'] }).catch((e) => e);
    expect(unknown.getResponse()).toMatchObject({
      code: 'EXPORT_INVALID_REQUEST',
      validCategories: ['customers', 'tickets', 'messages', 'webhooks'],
    });
    expect(unknown.message).toMatch(/Unknown categories: "invoices"/);
    expect(await refusalCode(t.service.request(owner(), { since: '2026-02-01T00:00:00Z', until: '2026-01-01T00:00:00Z' }))).toBe('EXPORT_INVALID_REQUEST');
    expect(await refusalCode(t.service.request(owner(), { since: 'yesterday' }))).toBe('EXPORT_INVALID_REQUEST');
    expect(await refusalCode(t.service.request(owner(), { format: 'xml' as never }))).toBe('EXPORT_INVALID_REQUEST');
    expect(await rows()).toEqual([]);
  });
});
