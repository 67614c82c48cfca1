import { CanActivate, Controller, ExecutionContext, ForbiddenException, Injectable, UseGuards } from '@nestjs/common';
import type { Request } from 'express';
import request from 'supertest';
import { ExportStatus } from 'nestjs-data-export';
import { ExportController, ExportRoute } from 'nestjs-data-export/http';
import { HELP_DESK_ENTITIES } from '../fixtures/help-desk.entities';
import { seedHelpDesk, TEAM_A } from '../fixtures/help-desk.seed';
import { fakeAuth } from '../utils/fake-auth';
import { createTestApp, TestApp, waitForExport } from '../utils/test-app';

const OWNER = `owner-a:${TEAM_A}:owner`;

/** A host's guard for every route of its controller: only requests from the app's own front end. */
@Injectable()
class FrontEndOnly implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    return context.switchToHttp().getRequest<Request>().headers['x-front-end'] === '1';
  }
}

/** The endpoints under the host's own path, with a guard on all and a rule for one route. */
@Controller('account/data-exports')
@UseGuards(FrontEndOnly)
class AccountExportController extends ExportController {
  protected override beforeRoute(route: ExportRoute, req: Request): void {
    if (route === 'cancel' && req.headers['x-recent-login'] !== '1') throw new ForbiddenException('Sign in again to delete an export.');
  }
}

describe('a host controller extending ExportController (http: false, its own path and guards)', () => {
  let t: TestApp;
  let http: ReturnType<typeof request>;

  beforeAll(async () => {
    t = await createTestApp('sqlite', {
      entities: HELP_DESK_ENTITIES,
      exportOptions: { http: false, path: 'account/data-exports' },
      metadata: { controllers: [AccountExportController] },
      configure: fakeAuth,
    });
    await seedHelpDesk(t.dataSource, 2);
    http = request(t.app.getHttpServer());
  });
  afterAll(() => t?.close());

  it('serves the endpoints under its path, with the guard on every route, the per-route rule, the error shape and links to its path', async () => {
    // The built-in controller is not mounted.
    await http.get('/exports').set('x-user', OWNER).expect(404);
    // The host's guard refuses a request without its header, on every route.
    await http.get('/account/data-exports').set('x-user', OWNER).expect(403);

    const created = await http.post('/account/data-exports').set('x-user', OWNER).set('x-front-end', '1').send({}).expect(202);
    const row = await waitForExport(t.dataSource, created.body.id);
    expect(row.status).toBe(ExportStatus.Completed);
    const listed = await http.get('/account/data-exports').set('x-user', OWNER).set('x-front-end', '1').expect(200);
    expect(listed.body.map((v: { id: string }) => v.id)).toEqual([row.id]);

    // Validation and the library's error shape are inherited.
    const bad = await http.post('/account/data-exports').set('x-user', OWNER).set('x-front-end', '1').send({ format: 'xml' }).expect(400);
    expect(bad.body.code).toBe('EXPORT_INVALID_REQUEST');
    const badId = await http.get(`/account/data-exports/${'x'.repeat(300)}`).set('x-user', OWNER).set('x-front-end', '1').expect(404);
    expect(badId.body.code).toBe('EXPORT_NOT_FOUND');

    // The download link points at the host's path and serves ranges there.
    const view = await http.get(`/account/data-exports/${row.id}`).set('x-user', OWNER).set('x-front-end', '1').expect(200);
    const link = new URL(view.body.downloadUrl);
    expect(link.pathname).toBe(`/account/data-exports/${row.id}/download`);
    const part = await http.get(`${link.pathname}${link.search}`).set('x-front-end', '1').set('Range', 'bytes=0-9').expect(206);
    expect(part.headers['content-range']).toBe(`bytes 0-9/${row.size}`);

    // The per-route rule: deleting needs a recent sign-in; the export is left as it was.
    const refused = await http.delete(`/account/data-exports/${row.id}`).set('x-user', OWNER).set('x-front-end', '1').expect(403);
    expect(refused.body.message).toBe('Sign in again to delete an export.');
    expect((await t.service.get({ userId: 'owner-a', accountId: TEAM_A, role: 'owner' }, row.id)).status).toBe(ExportStatus.Completed);
    const deleted = await http.delete(`/account/data-exports/${row.id}`).set('x-user', OWNER).set('x-front-end', '1').set('x-recent-login', '1').expect(200);
    expect(deleted.body.status).toBe(ExportStatus.Expired);
  });
});
