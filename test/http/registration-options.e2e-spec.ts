import { ValidationPipe } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import request from 'supertest';
import { createTestApp } from '../utils/test-app';
import { fakeAuth } from '../utils/fake-auth';
import { HELP_DESK_ENTITIES } from '../fixtures/help-desk.entities';
import { seedHelpDesk, TEAM_A } from '../fixtures/help-desk.seed';

const OWNER = `owner-a:${TEAM_A}:owner`;

describe('the built-in endpoints, as a host configures them', () => {
  it('keep their own validation and error shape under a host-wide ValidationPipe', async () => {
    const t = await createTestApp('sqlite', {
      entities: HELP_DESK_ENTITIES,
      configure: (app) => {
        fakeAuth(app);
        app.useGlobalPipes(new ValidationPipe({ whitelist: false, transform: false }));
      },
    });
    try {
      const http = request(t.app.getHttpServer());
      const res = await http.post('/exports').set('x-user', OWNER).send({ format: 'xml', surprise: 1 }).expect(400);
      expect(res.body).toMatchObject({ statusCode: 400, code: 'EXPORT_INVALID_REQUEST' });
      await http.post('/exports').set('x-user', OWNER).send({}).expect(202);
    } finally {
      await t.close();
    }
  });

  it('serve under a custom path, or not at all with http: false (the service still works)', async () => {
    const custom = await createTestApp('sqlite', { entities: HELP_DESK_ENTITIES, configure: fakeAuth, exportOptions: { path: '/account/data-exports/' } });
    try {
      const http = request(custom.app.getHttpServer());
      await http.get('/account/data-exports').set('x-user', OWNER).expect(200);
      await http.get('/exports').set('x-user', OWNER).expect(404);
    } finally {
      await custom.close();
    }
    const none = await createTestApp('sqlite', { entities: HELP_DESK_ENTITIES, configure: fakeAuth, exportOptions: { http: false } });
    try {
      await seedHelpDesk(none.dataSource, 2);
      const res = await request(none.app.getHttpServer()).post('/exports').set('x-user', OWNER).send({});
      expect(res.status).toBe(404);
      expect(res.body.code).toBeUndefined();
      expect((await none.service.request({ userId: 'u', accountId: TEAM_A, role: 'owner' })).status).toBe('confirmed');
    } finally {
      await none.close();
    }
  });

  it('are described in the OpenAPI document of a host that serves Swagger', async () => {
    const t = await createTestApp('sqlite', { entities: HELP_DESK_ENTITIES });
    try {
      const doc = SwaggerModule.createDocument(t.app, new DocumentBuilder().setTitle('host').build());
      expect(Object.keys(doc.paths).sort()).toEqual([
        '/exports',
        '/exports/eligibility',
        '/exports/estimate',
        '/exports/instant',
        '/exports/{id}',
        '/exports/{id}/confirm',
        '/exports/{id}/download',
        '/exports/{id}/events',
      ]);
      expect(doc.paths['/exports'].post?.summary).toBe('Request an export of the signed-in account');
      expect(doc.paths['/exports'].post?.tags).toEqual(['Data export']);
      const body = JSON.stringify(doc.components?.schemas?.CreateExportDto);
      expect(body).toContain('"format"');
      expect(body).toContain('"categories"');
    } finally {
      await t.close();
    }
  });
});
