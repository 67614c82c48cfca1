import { readFileSync } from 'node:fs';
import type { BrowserContext, Page } from 'playwright-core';
import type { SampleApp } from '../../sample-app/create-sample-app';
import { Member, Message, Ticket } from '../../sample-app/entities';
import type { OutboxMail } from '../../sample-app/mail/outbox';
import { expectNoCodes, pageWidth, setupSampleBrowser, signIn } from '../utils/sample-browser';
import { parseNdjson, readZip } from '../utils/zip';

/*
 * The sample's personal exports in headless Chromium: an agent downloads the data about
 * themselves from their Profile, and an owner exports a member's data from Team members, which
 * emails the member. Real SQLite, Redis, endpoints, worker and page JavaScript.
 */

const harness = setupSampleBrowser();
jest.setTimeout(60_000);

describe('help-desk sample: Profile → Download my data, Team members → Export this member\'s data', () => {
  let sample: SampleApp;
  let context: BrowserContext;
  let page: Page;

  beforeAll(async () => {
    sample = await harness.boot('personal', { tickets: 600 });
    ({ context, page } = await harness.newPage());
  });
  afterAll(async () => {
    await context?.close();
    await sample?.close();
  });

  it('an agent downloads the data about themselves from the Profile page: only their rows', async () => {
    const agent = sample.users.find((u) => u.role === 'agent' && u.teamId === 'northwind-outfitters')!;
    await signIn(page, sample, agent.email);
    await page.click('nav a[href="/profile"]');
    await page.waitForSelector('body[data-ready="true"]');
    await expect(page.textContent('#my-data')).resolves.toContain('Download my data');
    await page.click('#download-my-data');
    await page.waitForSelector('#my-download:not([hidden])');
    await expectNoCodes(page);
    await harness.shot(page, 'sample-profile-download-my-data.png', '#my-data');
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#my-download')]);
    const zip = await readZip(readFileSync((await download.path())!));

    const manifest = JSON.parse(zip.get('manifest.json')!.toString('utf8'));
    expect(manifest).toMatchObject({ kind: 'personal', subject: { userId: agent.id }, requestedBy: agent.id, accountId: 'northwind-outfitters' });
    expect(manifest.categories.map((c: { name: string }) => c.name)).toEqual(['members', 'tickets', 'messages', 'articles', 'api_keys', 'invitations']);
    expect(manifest.notIncluded.accountOnly).toEqual(expect.arrayContaining(['customers', 'settings', 'billing']));
    expect([...zip.keys()]).not.toContain('customers.ndjson');

    expect(parseNdjson(zip.get('members.ndjson')!).map((m) => m.id)).toEqual([agent.id]);
    const tickets = parseNdjson(zip.get('tickets.ndjson')!);
    const messages = parseNdjson(zip.get('messages.ndjson')!);
    // Exactly the agent's rows: every ticket assigned to them, every message they wrote, no other.
    const db = sample.dataSource;
    const assigned = await db.getRepository(Ticket).countBy({ teamId: 'northwind-outfitters', assigneeId: agent.id });
    expect(assigned).toBeGreaterThan(0);
    expect(tickets).toHaveLength(assigned);
    expect(new Set(tickets.map((t) => t.assigneeId))).toEqual(new Set([agent.id]));
    const written = await db.getRepository(Message).countBy({ authorType: 'agent', authorId: agent.id });
    expect(messages).toHaveLength(written);
    expect(new Set(messages.map((m) => `${m.authorType}:${m.authorId}`))).toEqual(new Set(written > 0 ? [`agent:${agent.id}`] : []));
    const others = await db.getRepository(Member).find();
    const text = [...zip.values()].map((b) => b.toString('utf8')).join('\n');
    for (const other of others.filter((m) => m.id !== agent.id)) expect(text).not.toContain(other.email);
  });

  it('an owner exports a member\'s data from Team members; the member gets the email, the owner sees it was sent', async () => {
    const owner = sample.users.find((u) => u.role === 'owner' && u.teamId === 'northwind-outfitters')!;
    const admin = sample.users.find((u) => u.role === 'admin' && u.teamId === 'northwind-outfitters')!;
    await signIn(page, sample, owner.email);
    await page.click('.settings-nav a[href="/settings/team"]');
    await page.waitForSelector('body[data-ready="true"]');
    const row = page.locator(`tr[data-member-id="${admin.id}"]`);
    await row.locator('button.export-member').click();
    await page.waitForSelector(`tr[data-member-id="${admin.id}"][data-export-status="sent"]`);
    await expect(row.locator('.member-status').textContent()).resolves.toBe(`Sent to ${admin.name} by email`);
    await expectNoCodes(page);
    await harness.shot(page, 'sample-team-members-export.png');

    const mails = (await page.evaluate(async () => (await fetch('/demo/outbox.json')).json())) as OutboxMail[];
    const ready = mails.filter((m) => m.kind === 'ready');
    expect(ready.map((m) => m.to)).toContain(admin.email);
    const mail = ready.find((m) => m.to === admin.email)!;
    expect(mail.subject).toContain('Your personal data from');
    expect(mail.text).toContain(`${owner.name} (owner of`);
    expect(mails.some((m) => m.kind === 'ready' && m.to === owner.email)).toBe(false);

    // Asking again answers in the product's words: an export is already there.
    await row.locator('button.export-member').click();
    await page.waitForSelector(`tr[data-member-id="${admin.id}"][data-export-status="refused"]`);
    await expect(row.locator('.member-status').textContent()).resolves.toContain('already in progress or ready');
    await expectNoCodes(page);
  });

  it('an agent sees the team but no export buttons, and the pages fit a phone', async () => {
    const agent = sample.users.find((u) => u.role === 'agent' && u.teamId === 'northwind-outfitters')!;
    await signIn(page, sample, agent.email);
    await page.goto(`${sample.url}/settings/team`);
    expect(await page.locator('button.export-member').count()).toBe(0);
    await expect(page.textContent('main')).resolves.toContain("Only team owners and admins can export a member's data");
    const phone = await harness.newPage({ width: 390, height: 844 });
    try {
      await signIn(phone.page, sample, agent.email);
      for (const path of ['/profile', '/settings/team']) {
        await phone.page.goto(`${sample.url}${path}`);
        expect([path, await pageWidth(phone.page)]).toEqual([path, 390]);
      }
    } finally {
      await phone.context.close();
    }
  });
});
