import { readFileSync } from 'node:fs';
import { BrowserContext, Page } from 'playwright-core';
import type { SampleApp } from '../../sample-app/create-sample-app';
import { Member, Ticket } from '../../sample-app/entities';
import type { OutboxMail } from '../../sample-app/mail/outbox';
import { expectNoCodes, pageWidth, setupSampleBrowser, signIn } from '../utils/sample-browser';
import { parseNdjson, readZip } from '../utils/zip';

/*
 * The help-desk sample, driven in headless Chromium: real SQLite, real Redis (a Bull prefix of
 * its own, removed afterwards), the library's real endpoints and worker, the page's real
 * JavaScript. Nothing is mocked. Screenshots land in a temporary folder; with
 * UPDATE_SCREENSHOTS=1 they replace the committed ones in docs/images/.
 */

const harness = setupSampleBrowser();
const boot = harness.boot.bind(harness);
const newPage = (viewport?: { width: number; height: number }) => harness.newPage(viewport);
const shot = harness.shot.bind(harness);

jest.setTimeout(60_000);

/** What the request form says before any click: closed (and why), or open. */
async function requestForm(page: Page): Promise<{ blocked: string | null; buttonDisabled: boolean; fieldsDisabled: boolean; rules: string | null }> {
  return {
    blocked: (await page.getAttribute('#request-card', 'data-blocked')) || null,
    buttonDisabled: await page.isDisabled('#request'),
    fieldsDisabled: await page.isDisabled('input.category >> nth=0'),
    rules: (await page.isVisible('#rules')) ? await page.textContent('#rules') : null,
  };
}

describe('help-desk sample: Settings → Data Export in headless Chromium', () => {
  let sample: SampleApp;
  let context: BrowserContext;
  let page: Page;

  beforeAll(async () => {
    // Enough rows that the progress bar has something to show.
    sample = await boot('main', { tickets: 12_000, batchSize: 400 });
  });
  afterAll(async () => {
    await context?.close();
    await sample?.close();
  });

  it('prints the demo users on a sign-in page that says it is demo-only', async () => {
    ({ context, page } = await newPage());
    await page.goto(sample.url);
    await page.waitForURL('**/demo/sign-in');
    await expect(page.textContent('.demo-banner')).resolves.toContain('Demo sign-in — not real authentication');
    const emails = await page.$$eval('button[data-user-email]', (buttons) => buttons.map((b) => `${b.getAttribute('data-role')}:${b.getAttribute('data-user-email')}`));
    expect(emails).toEqual(sample.users.map((u) => `${u.role}:${u.email}`));
    expect(sample.users.map((u) => u.role)).toEqual(['owner', 'admin', 'agent', 'owner', 'admin', 'agent']);
    await shot(page, 'sample-sign-in.png');
  });

  it('an owner requests an export, follows the live progress bar to completion, and downloads a valid ZIP', async () => {
    const owner = sample.users.find((u) => u.role === 'owner' && u.teamId === 'northwind-outfitters')!;
    await signIn(page, sample, owner.email);
    await expect(page.textContent('#who')).resolves.toContain('Olivia Bennett');
    // Every category of the registry is offered, with what is never exported.
    const categories = await page.$$eval('input.category', (boxes) => boxes.map((b) => b.getAttribute('value')));
    expect(categories).toEqual(['team', 'members', 'customers', 'tickets', 'messages', 'articles', 'csat_surveys', 'settings', 'webhooks', 'api_keys', 'invitations', 'billing']);
    // In the product's words, not the code's: no column names.
    const offered = (await page.textContent('#categories'))!;
    expect(offered).toContain('Never exported: passwords, MFA secrets');
    expect(offered).toContain('CSAT responses');
    expect(offered).not.toMatch(/passwordHash|mfaSecret|lastSignInIp|csat_surveys|api_keys/);
    expect(await requestForm(page)).toEqual({ blocked: null, buttonDisabled: false, fieldsDisabled: false, rules: null });

    await page.click('#request');
    await page.waitForSelector('#notice[data-code="REQUESTED"]');
    // The form closes at once, with the reason: one export at a time.
    await page.waitForSelector('#request-card[data-blocked="active"]');
    const during = await requestForm(page);
    expect(during).toMatchObject({ blocked: 'active', buttonDisabled: true, fieldsDisabled: true });
    expect(during.rules).toMatch(/We're packaging your current export|Your export is ready to download/);
    // The bar moves while the job runs (SSE `progress` events from GET /exports/:id/events)…
    const seenProcessing = await page
      .waitForFunction(
        () => {
          const doc = (globalThis as any).document;
          const card = doc.getElementById('current');
          const now = Number(doc.getElementById('progress').getAttribute('aria-valuenow'));
          return card.dataset.status === 'processing' && now >= 10 && now <= 90;
        },
        undefined,
        { timeout: 20_000, polling: 'raf' },
      )
      .then(() => true)
      .catch(() => false);
    if (seenProcessing) await shot(page, 'data-export-progress.png', '#rules');
    // …and ends on one final `status` event: completed, with a download button.
    await page.waitForSelector('#current[data-status="completed"] #download', { timeout: 30_000 });
    expect(seenProcessing).toBe(true);
    await expect(page.getAttribute('#progress', 'aria-valuenow')).resolves.toBe('100');
    expect(Number(await page.getAttribute('#current', 'data-events'))).toBeGreaterThanOrEqual(2);
    await expect(page.textContent('#current-status')).resolves.toBe('Ready to download');
    // "We're packaging your data" does not stay beside "Ready to download".
    await page.waitForSelector('#notice', { state: 'hidden' });
    const ready = await requestForm(page);
    expect(ready).toMatchObject({ blocked: 'active', buttonDisabled: true });
    expect(ready.rules).toContain('Your export is ready to download');
    expect(ready.rules).toMatch(/You can request a new one on .+ \(in 2[34] h \d{2} min\)/);
    await expectNoCodes(page);
    await shot(page, 'data-export-completed.png', '#rules');

    const exportId = (await page.getAttribute('#current', 'data-export-id'))!;
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download')]);
    expect(download.suggestedFilename()).toMatch(/^data-export-northwind-outfitters-\d{4}-\d{2}-\d{2}\.zip$/);
    const bytes = readFileSync((await download.path())!);
    const zip = await readZip(bytes);
    const manifest = JSON.parse(zip.get('manifest.json')!.toString('utf8'));
    expect(manifest).toMatchObject({ exportId, accountId: 'northwind-outfitters', requestedBy: owner.id });
    const rows = Object.fromEntries(manifest.categories.map((c: { name: string; rows: number }) => [c.name, c.rows]));
    for (const [name, count] of Object.entries(rows)) {
      expect([name, parseNdjson(zip.get(`${name}.ndjson`)!).length]).toEqual([name, count]);
    }
    // The counts match the team's rows in the database and the export's view.
    const teamTickets = await sample.dataSource.getRepository(Ticket).countBy({ teamId: 'northwind-outfitters' });
    expect(rows.tickets).toBe(teamTickets);
    expect(rows.tickets).toBeGreaterThan(5000);
    expect(rows.members).toBe(await sample.dataSource.getRepository(Member).countBy({ teamId: 'northwind-outfitters' }));
    const view = (await page.evaluate(async (id) => (await fetch(`/exports/${id}`)).json(), exportId)) as { counts: Record<string, number>; size: number };
    expect(view.counts).toEqual(rows);
    expect(view.size).toBe(bytes.length);

    // Only this team's data, internal notes included, and no secrets.
    const tickets = parseNdjson(zip.get('tickets.ndjson')!);
    expect(new Set(tickets.map((t) => t.teamId))).toEqual(new Set(['northwind-outfitters']));
    const ticketIds = new Set(tickets.map((t) => t.id));
    const messages = parseNdjson(zip.get('messages.ndjson')!);
    expect(messages.every((m) => ticketIds.has(m.ticketId))).toBe(true);
    // Invoices come from the payment provider through an exporter, card numbers masked; the
    // README says what the archive does not hold.
    const invoices = parseNdjson(zip.get('billing.ndjson')!);
    expect(invoices).toHaveLength(12);
    expect(invoices.every((i) => /^…\d{4}$/.test(String(i.cardNumber)))).toBe(true);
    const readme = zip.get('README.txt')!.toString('utf8');
    expect(readme).toContain('Card details beyond the last four digits: held by our payment provider, never by us.');
    expect(readme).toContain('Purpose:    To bill the team for its plan');
    expect(messages.some((m) => m.internal === true)).toBe(true);
    for (const m of parseNdjson(zip.get('members.ndjson')!)) {
      expect(Object.keys(m)).not.toEqual(expect.arrayContaining(['passwordHash']));
      expect(m).not.toHaveProperty('mfaSecret');
      expect(m.lastSignInIp).toMatch(/\.0$/);
    }
    for (const w of parseNdjson(zip.get('webhooks.ndjson')!)) {
      expect(w.url).toMatch(/^https:\/\//);
      expect(w).not.toHaveProperty('secret');
    }
    for (const k of parseNdjson(zip.get('api_keys.ndjson')!)) expect(k.key).toMatch(/^…[A-Za-z0-9]{4}$/);
    for (const i of parseNdjson(zip.get('invitations.ndjson')!)) expect(i).not.toHaveProperty('token');
    expect(bytes.toString('latin1')).not.toContain('whsec_');

    // The ready email is in the outbox, with a working download link.
    await page.goto(`${sample.url}/demo/outbox`);
    const mail = page.locator(`article.mail[data-kind="ready"][data-export-id="${exportId}"]`);
    await expect(mail.locator('.subject').textContent()).resolves.toBe('Your Northwind Outfitters data export is ready');
    const [emailed] = await Promise.all([page.waitForEvent('download'), mail.locator('a[href*="/download?token="]').click()]);
    expect(readFileSync((await emailed.path())!).equals(bytes)).toBe(true);
  });

  it('before any click, the form is closed while the export is downloadable, then by the cooldown after it is deleted, which the history shows as deleted', async () => {
    await page.goto(`${sample.url}/settings/data-export`);
    await page.waitForSelector('body[data-ready="true"]');
    await page.waitForSelector('#current[data-status="completed"]');
    const active = await requestForm(page);
    expect(active).toMatchObject({ blocked: 'active', buttonDisabled: true, fieldsDisabled: true });
    expect(active.rules).toContain('Your export is ready to download');
    await shot(page, 'data-export-already-active.png', '#rules');

    // Deleting the completed export through the page frees the slot; the cooldown still applies.
    const exportId = (await page.getAttribute('#current', 'data-export-id'))!;
    await page.click('#delete');
    await page.waitForSelector('#notice[data-code="DELETED"]');
    await page.waitForSelector('#current', { state: 'hidden' });
    await page.waitForSelector('#request-card[data-blocked="cooldown"]');
    const row = page.locator(`#history tr[data-export-id="${exportId}"]`);
    await expect(row.locator('.badge').textContent()).resolves.toBe('Deleted');
    await expect(row.textContent()).resolves.toMatch(/Deleted .+ by You/);

    // A fresh visit says it before the click too.
    await page.reload();
    await page.waitForSelector('body[data-ready="true"]');
    const cooldown = await requestForm(page);
    expect(cooldown).toMatchObject({ blocked: 'cooldown', buttonDisabled: true, fieldsDisabled: true });
    expect(cooldown.rules).toContain('Please wait before requesting another export');
    expect(cooldown.rules).toMatch(/You can request a new one on .+ \(in 2[34] h \d{2} min\)/);
    await expect(page.locator(`#history tr[data-export-id="${exportId}"] .badge`).textContent()).resolves.toBe('Deleted');
    await expectNoCodes(page);
    await shot(page, 'data-export-cooldown.png', '#rules');
  });

  it('an agent sees, before any click, that only owners and admins can export', async () => {
    const agent = sample.users.find((u) => u.role === 'agent' && u.teamId === 'northwind-outfitters')!;
    await signIn(page, sample, agent.email);
    await expect(page.textContent('#history tbody')).resolves.toContain('visible to team owners and admins');
    const form = await requestForm(page);
    expect(form).toMatchObject({ blocked: 'role', buttonDisabled: true, fieldsDisabled: true });
    expect(form.rules).toContain('Only team owners and admins can export data');
    expect(form.rules).toContain(`${agent.name}, an agent of Northwind Outfitters`);
    await expectNoCodes(page);
    await shot(page, 'data-export-refused-agent.png', '#rules');
  });

  it('fits a phone: 390 px wide without sideways scrolling, for the owner (history, cooldown) and the agent', async () => {
    const phone = await newPage({ width: 390, height: 844 });
    try {
      for (const role of ['owner', 'agent']) {
        const user = sample.users.find((u) => u.role === role && u.teamId === 'northwind-outfitters')!;
        await signIn(phone.page, sample, user.email);
        expect([role, await pageWidth(phone.page)]).toEqual([role, 390]);
      }
    } finally {
      await phone.context.close();
    }
  });
});

describe('help-desk sample with email confirmation (the default; --no-confirm turns it off)', () => {
  let sample: SampleApp;
  let context: BrowserContext;

  beforeAll(async () => {
    sample = await boot('confirm', { tickets: 300, confirm: true });
  });
  afterAll(async () => {
    await context?.close();
    await sample?.close();
  });

  it('confirm-then-download works through the demo outbox, without a mail server', async () => {
    let page: Page;
    ({ context, page } = await newPage());
    const owner = sample.users.find((u) => u.role === 'owner' && u.teamId === 'lumen-analytics')!;
    await signIn(page, sample, owner.email);
    await page.click('#request');
    await page.waitForSelector('#current[data-status="pending"]');
    await expect(page.textContent('#progress-text')).resolves.toContain(`we sent a confirmation link to ${owner.email}`);
    await page.waitForSelector('#request-card[data-blocked="active"]');
    await expect(page.textContent('#rules')).resolves.toContain('Your export is waiting for your confirmation');
    const exportId = (await page.getAttribute('#current', 'data-export-id'))!;

    await page.click('#current-actions a[href="/demo/outbox"]');
    const confirmation = page.locator(`article.mail[data-kind="confirmation"][data-export-id="${exportId}"]`);
    await expect(confirmation.locator('.subject').textContent()).resolves.toBe('Confirm your Lumen Analytics data export');
    await shot(page, 'sample-outbox.png');
    await confirmation.locator('a[href*="/confirm?token="]').click();
    // The library's confirmation page: a GET shows a button, the POST confirms.
    await page.waitForSelector('form[method="post"] button');
    await page.click('form[method="post"] button');
    await page.waitForSelector('text=Export confirmed');

    await page.goto(`${sample.url}/settings/data-export`);
    await page.waitForSelector('#current[data-status="completed"] #download', { timeout: 20_000 });
    await expect(page.textContent('#rules')).resolves.toContain('Your export is ready to download');
    const mails = (await page.evaluate(async () => (await fetch('/demo/outbox.json')).json())) as OutboxMail[];
    const ready = mails.find((m) => m.kind === 'ready' && m.exportId === exportId)!;
    expect(ready.to).toBe(owner.email);
    const link = /https?:\/\/\S+\/download\?token=\S+/.exec(ready.text)![0];
    const res = await page.request.get(link);
    expect(res.status()).toBe(200);
    const zip = await readZip(await res.body());
    expect(JSON.parse(zip.get('manifest.json')!.toString('utf8'))).toMatchObject({ exportId, accountId: 'lumen-analytics' });

    // The export card (facts, buttons) and the history fit a phone too.
    const phone = await newPage({ width: 390, height: 844 });
    try {
      await signIn(phone.page, sample, owner.email);
      await phone.page.waitForSelector('#current[data-status="completed"] #download');
      expect(await pageWidth(phone.page)).toBe(390);
    } finally {
      await phone.context.close();
    }
  });
});
