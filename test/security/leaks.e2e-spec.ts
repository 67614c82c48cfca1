import { LoggerService } from '@nestjs/common';
import request from 'supertest';
import { Column, Entity, PrimaryColumn } from 'typeorm';
import { ExportEvent, Exportable, ExportStatus, Redact } from 'nestjs-data-export';
import { createTestApp, downloadArchive, TEST_SECRET, TestApp, waitForExport } from '../utils/test-app';
import { fakeAuth } from '../utils/fake-auth';
import { HELP_DESK_ENTITIES } from '../fixtures/help-desk.entities';
import { OTHER_TENANT_CANARY, REDACTED_CANARY, seedHelpDesk, TEAM_A } from '../fixtures/help-desk.seed';
import { DATABASES } from '../utils/databases';
import { CapturingLogger } from '../utils/capturing-logger';

/** A category whose mask fails on a planted value: the failure must not carry it anywhere. */
@Exportable({ category: 'zz-notes', scope: 'teamId', order: 99 })
@Entity('leak_notes')
class Note {
  @PrimaryColumn({ type: 'integer' }) id: number;
  @Column({ type: 'varchar', length: 64 }) teamId: string;
  @Redact({
    with: (v) => {
      if (String(v).includes(REDACTED_CANARY)) throw new Error(`refusing ${String(v)}`);
      return v;
    },
  })
  @Column({ type: 'varchar', length: 200 })
  body: string;
}

describe.each(DATABASES)('leak hunting on %s', (db) => {
  let t: TestApp;
  const logger = new CapturingLogger();
  const events: ExportEvent[] = [];

  beforeAll(async () => {
    t = await createTestApp(db, {
      entities: [...HELP_DESK_ENTITIES, Note],
      configure: fakeAuth,
      logger,
      exportOptions: { cooldown: 1000 },
    });
    await seedHelpDesk(t.dataSource, 4);
    t.service.events$.subscribe((e) => events.push(e));
  });
  afterAll(() => t?.close());

  it('no canary, secret or token appears in logs, error bodies, events or the archive', async () => {
    const http = request(t.app.getHttpServer());
    const bodies: string[] = [];
    const tokens: string[] = [];
    const owner = `owner-a:${TEAM_A}:owner`;

    // A successful export in each format, downloaded.
    for (const format of ['zip', 'json']) {
      const created = await http.post('/exports').set('x-user', owner).send({ format, categories: ['customers', 'tickets', 'messages', 'webhooks'] }).expect(202);
      await waitForExport(t.dataSource, created.body.id);
      const view = await http.get(`/exports/${created.body.id}`).set('x-user', owner).expect(200);
      tokens.push(new URL(view.body.downloadUrl).searchParams.get('token')!);
      const archive = await downloadArchive(t, created.body.id, { userId: 'owner-a', accountId: TEAM_A, role: 'owner' });
      for (const canary of [REDACTED_CANARY, OTHER_TENANT_CANARY, TEST_SECRET]) expect(archive.toString('latin1').includes(canary)).toBe(false);
      bodies.push((await http.get(`/exports/${created.body.id}/download?token=${encodeURIComponent(tokens[tokens.length - 1].slice(0, -1))}`)).text);
      bodies.push((await http.delete(`/exports/${created.body.id}`).set('x-user', owner)).text);
      await new Promise((r) => setTimeout(r, 1100)); // past the 1 s cooldown
    }

    // A failing export whose failure involves a planted secret value.
    await t.dataSource.getRepository(Note).insert([{ id: 1, teamId: TEAM_A, body: `${REDACTED_CANARY} top secret` }]);
    const failing = await http.post('/exports').set('x-user', owner).send({}).expect(202);
    const failed = await waitForExport(t.dataSource, failing.body.id);
    expect(failed.status).toBe(ExportStatus.Failed);
    bodies.push((await http.get(`/exports/${failing.body.id}`).set('x-user', owner)).text);

    // Refusals.
    bodies.push((await http.post('/exports').set('x-user', `agent:${TEAM_A}:agent`).send({})).text);
    bodies.push((await http.post('/exports').set('x-user', owner).send({ categories: ['payroll'] })).text);
    bodies.push((await http.get(`/exports/${failing.body.id}/download?token=${encodeURIComponent(TEST_SECRET)}`)).text);

    const haystacks = { logs: logger.lines.join('\n'), bodies: bodies.join('\n'), events: JSON.stringify(events) };
    expect(logger.lines.length).toBeGreaterThan(3);
    expect(events.length).toBeGreaterThan(3);
    for (const [where, text] of Object.entries(haystacks)) {
      for (const secret of [REDACTED_CANARY, OTHER_TENANT_CANARY, TEST_SECRET, ...tokens]) {
        if (text.includes(secret)) throw new Error(`${secret.slice(0, 12)}… appears in ${where}`);
      }
    }
    // Boot listed the fields redacted by their names alone.
    expect(haystacks.logs).toMatch(/Redacted by name \(opt a field in with @ExportField\(\{ sensitive: false \}\)\): Customer\.portalPasswordHash, Webhook\.signingSecret/);
    // The failure was logged, by category and error class only.
    expect(haystacks.logs).toMatch(/failed \(attempt 1 of 1\): Export failed while reading category "zz-notes" \(Error\)/);
  });
});
