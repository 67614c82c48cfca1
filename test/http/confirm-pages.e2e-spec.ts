import request from 'supertest';
import { ExportConfirmationPageState, ExportNotifier } from 'nestjs-data-export';
import { fakeAuth } from '../utils/fake-auth';
import { createTestApp, RecordingNotifier, TestAdapter, TestApp, TestClock, waitForExport } from '../utils/test-app';
import { HELP_DESK_ENTITIES } from '../fixtures/help-desk.entities';
import { seedHelpDesk } from '../fixtures/help-desk.seed';

const OWNER_A = 'owner-a:team-a:owner';
const HOUR = 3_600_000;
const ADAPTERS: TestAdapter[] = ['express', 'fastify'];

describe.each(ADAPTERS)('confirmation pages on %s', (adapter) => {
  let t: TestApp | undefined;
  afterEach(() => t?.close());

  async function boot(confirmation: Record<string, unknown> = {}) {
    const clock = new TestClock();
    t = await createTestApp('sqlite', {
      entities: HELP_DESK_ENTITIES,
      clock,
      configure: fakeAuth,
      adapter,
      exportOptions: { baseUrl: 'https://app.example.com/api', notifier: RecordingNotifier, confirmation: { required: true, ...confirmation } },
    });
    await seedHelpDesk(t.dataSource, 1);
    const http = request(t.app.getHttpServer());
    const created = await http.post('/exports').set('x-user', OWNER_A).send({}).expect(202);
    const token = (t.app.get(ExportNotifier) as RecordingNotifier).token('confirmationRequested', created.body.id);
    return { http, clock, id: created.body.id as string, link: `/exports/${created.body.id}/confirm?token=${encodeURIComponent(token)}` };
  }

  it('says what is true in every state, with a way back to the app', async () => {
    const { http, clock, id, link } = await boot();
    const pending = await http.get(link).expect(200);
    expect(pending.text).toContain('<form method="post"');
    expect(pending.text).toContain('href="https://app.example.com/"');
    const posted = await http.post(link).type('form').send('').expect(200);
    expect(posted.text).toContain('Export confirmed');
    expect(posted.text).toContain('being prepared');
    await waitForExport(t!.dataSource, id);
    // Reopening the link of a completed export says it is ready, not "being prepared".
    const done = await http.get(link).expect(200);
    expect(done.text).toContain('Your export is ready');
    expect(done.text).not.toContain('being prepared');
    expect(done.text).not.toContain('<form');
    const again = await http.post(link).type('form').send('').expect(200);
    expect(again.text).toContain('Your export is ready');
    // A link that is not valid, or expired, opens a page that says so.
    expect((await http.get(`/exports/${id}/confirm?token=bad`).expect(200)).text).toContain('no longer valid');
    clock.advance(25 * HOUR);
    expect((await http.get(link).expect(200)).text).toContain('no longer valid');
  });

  it('renders the host page function, with returnUrl as the way back', async () => {
    const seen: ExportConfirmationPageState[] = [];
    const page = (p: ExportConfirmationPageState) => {
      seen.push(p);
      return `<p>host page: ${p.state} <a href="${p.returnUrl}">back</a></p>`;
    };
    const { http, id, link } = await boot({ page, returnUrl: 'https://app.example.com/settings/export' });
    const res = await http.get(link).expect(200);
    expect(res.headers['content-type']).toMatch(/text\/html/);
    expect(res.text).toBe('<p>host page: confirm <a href="https://app.example.com/settings/export">back</a></p>');
    expect(seen[0]).toEqual({ state: 'confirm', exportId: id, action: link, returnUrl: 'https://app.example.com/settings/export' });
  });

  it('redirects to the host page it names, with the state and the URL to POST', async () => {
    const { http, id, link } = await boot({ page: '/settings/export' });
    const res = await http.get(link).expect(303);
    const target = new URL(res.headers.location);
    expect(target.origin + target.pathname).toBe('https://app.example.com/settings/export');
    expect(Object.fromEntries(target.searchParams)).toEqual({ exportId: id, state: 'confirm', confirmUrl: `https://app.example.com${link}` });
    const posted = await http.post(link).type('form').send('').expect(303);
    expect(new URL(posted.headers.location).searchParams.get('state')).toBe('confirmed');
  });

  it('refuses a page option that is neither a function nor a URL', async () => {
    await expect(boot({ page: 42 })).rejects.toThrow(/confirmation\.page/);
  });
});
