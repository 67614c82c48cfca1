import request from 'supertest';
import { DataExport, DataExportDownload, ExportModuleOptions, ExportStatus } from 'nestjs-data-export';
import { DATABASES } from '../utils/databases';
import { refusalCode } from '../utils/refusal';
import { createTestApp, TestApp, TestClock, waitForExport } from '../utils/test-app';
import { HELP_DESK_ENTITIES } from '../fixtures/help-desk.entities';
import { seedHelpDesk, TEAM_A, TEAM_B } from '../fixtures/help-desk.seed';
import { binary } from '../utils/binary-body';
import { jsonPrincipalAuth } from '../utils/fake-auth';

const OWNER_A = { userId: 'owner-a', accountId: TEAM_A, role: 'owner' };
const ADMIN_A = { userId: 'admin-a', accountId: TEAM_A, role: 'admin' };
const AGENT_A = { userId: 'agent-a', accountId: TEAM_A, role: 'agent' };
const ADMIN_B = { userId: 'admin-b', accountId: TEAM_B, role: 'admin' };
type Who = typeof OWNER_A;

const signIn = jsonPrincipalAuth;
const as = (who: Who) => JSON.stringify(who);


describe.each(DATABASES)('download links stay with their account on %s', (db) => {
  let t: TestApp;
  let http: ReturnType<typeof request>;

  async function boot(exportOptions: Partial<ExportModuleOptions> = {}): Promise<void> {
    await t?.close();
    t = await createTestApp(db, { entities: HELP_DESK_ENTITIES, clock: new TestClock(), configure: signIn, exportOptions });
    await seedHelpDesk(t.dataSource, 2);
    http = request(t.app.getHttpServer());
  }
  afterEach(() => t?.close());

  /** A completed export of team A, and the path of its download link. */
  async function completed(): Promise<{ id: string; path: string; token: string; size: number }> {
    const created = await http.post('/exports').set('x-user', as(OWNER_A)).send({}).expect(202);
    const row = await waitForExport(t.dataSource, created.body.id);
    expect(row.status).toBe(ExportStatus.Completed);
    const view = await http.get(`/exports/${row.id}`).set('x-user', as(OWNER_A)).expect(200);
    const url = new URL(view.body.downloadUrl);
    return { id: row.id, path: `${url.pathname}${url.search}`, token: url.searchParams.get('token')!, size: row.size! };
  }
  const stored = (id: string) => t.dataSource.getRepository(DataExport).findOneByOrFail({ id });

  it("refuses another account's principal and a role that may not export (403, GET and HEAD), serves the link alone and the account's own members", async () => {
    await boot();
    const { id, path, token, size } = await completed();

    for (const who of [ADMIN_B, AGENT_A]) {
      const get = await http.get(path).set('x-user', as(who));
      expect([get.status, get.body.code]).toEqual([403, 'EXPORT_FORBIDDEN']);
      expect(get.headers['content-disposition']).toBeUndefined();
      expect(get.headers['content-type']).toMatch(/^application\/json/);
      const head = await http.head(path).set('x-user', as(who));
      expect(head.status).toBe(403);
      expect(head.headers['content-length']).not.toBe(String(size));
      // A Range request gets nothing either.
      expect((await http.get(path).set('x-user', as(who)).set('Range', 'bytes=0-99')).status).toBe(403);
    }
    expect((await stored(id)).downloadCount).toBe(0);

    // Code that calls the service gets the same rules.
    expect(await refusalCode(t.service.openDownload(id, token, undefined, { principal: ADMIN_B }))).toBe('EXPORT_FORBIDDEN');
    expect(await refusalCode(t.service.describeDownload(id, token, { principal: AGENT_A }))).toBe('EXPORT_FORBIDDEN');

    // The link alone (an email opened in a browser that is not signed in), and members of the account.
    const anonymous = await http.get(path).buffer(true).parse(binary).expect(200);
    expect((anonymous.body as Buffer).length).toBe(size);
    await http.get(path).set('x-user', as(ADMIN_A)).buffer(true).parse(binary).expect(200);
    await http.head(path).set('x-user', as(OWNER_A)).expect(200);
    expect((await stored(id)).downloadCount).toBe(2);
  });

  it('with downloadRequiresPrincipal, refuses the link alone (401) and serves a member of the account', async () => {
    await boot({ downloadRequiresPrincipal: true });
    const { id, path, token } = await completed();
    const anonymous = await http.get(path);
    expect([anonymous.status, anonymous.body.code]).toEqual([401, 'EXPORT_UNAUTHENTICATED']);
    expect((await http.head(path)).status).toBe(401);
    expect((await http.get(path).set('x-user', as(ADMIN_B))).body.code).toBe('EXPORT_FORBIDDEN');
    expect(await refusalCode(t.service.describeDownload(id, token))).toBe('EXPORT_UNAUTHENTICATED');
    await http.get(path).set('x-user', as(OWNER_A)).buffer(true).parse(binary).expect(200);
  });

  it('records every download with its time and address in the view; maxDownloads caps them, concurrent ones included (410 EXPORT_DOWNLOAD_LIMIT)', async () => {
    await boot({ maxDownloads: 2 });
    const { id, path } = await completed();
    await http.head(path).expect(200);
    // Five at once: the cap lets exactly two through.
    const results = await Promise.all([1, 2, 3, 4, 5].map(() => http.get(path).buffer(true).parse(binary)));
    expect(results.map((r) => r.status).sort()).toEqual([200, 200, 410, 410, 410]);
    for (const refused of results.filter((r) => r.status === 410)) {
      expect(JSON.parse((refused.body as Buffer).toString()).code).toBe('EXPORT_DOWNLOAD_LIMIT');
      expect(refused.headers['content-type']).toMatch(/^application\/json/);
      expect(refused.headers['content-disposition']).toBeUndefined();
    }
    const head = await http.head(path);
    expect(head.status).toBe(410);

    const view = await http.get(`/exports/${id}`).set('x-user', as(OWNER_A)).expect(200);
    expect(view.body.downloadCount).toBe(2);
    expect(view.body.downloadUrl).toBeUndefined();
    expect(view.body.downloads).toEqual([
      { at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/), ip: expect.stringMatching(/127\.0\.0\.1|::1/) },
      { at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/), ip: expect.stringMatching(/127\.0\.0\.1|::1/) },
    ]);
    const list = await http.get('/exports').set('x-user', as(OWNER_A)).expect(200);
    expect(list.body[0].downloads).toEqual(view.body.downloads);
    expect(await t.dataSource.getRepository(DataExportDownload).countBy({ exportId: id })).toBe(2);
  });
});
