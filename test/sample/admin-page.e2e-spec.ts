import type { BrowserContext, Page } from 'playwright-core';
import { DataExport, ExportAdminService, ExportService, ExportStatus } from 'nestjs-data-export';
import type { SampleApp } from '../../sample-app/create-sample-app';
import { SUPPORT_USER } from '../../sample-app/web/demo-auth';
import { expectNoCodes, pageWidth, setupSampleBrowser } from '../utils/sample-browser';
import { waitForExport } from '../utils/test-app';

/*
 * The sample's operator side in headless Chromium: the help desk's support agent opens the admin
 * page, sees the exports of two teams with their audit trail, and force-expires one. Real SQLite,
 * Redis, worker and ExportAdminService; members of a team are turned away.
 */

const harness = setupSampleBrowser();
jest.setTimeout(60_000);

describe('help-desk sample: the support agent\'s admin page', () => {
  let sample: SampleApp;
  let context: BrowserContext;
  let page: Page;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    sample = await harness.boot('admin', { tickets: 300 });
    ({ context, page } = await harness.newPage());
    const service = sample.app.get(ExportService);
    const admin = sample.app.get(ExportAdminService);
    const owners = sample.users.filter((u) => u.role === 'owner');
    expect(new Set(owners.map((o) => o.teamId)).size).toBeGreaterThanOrEqual(2);
    for (const owner of owners.slice(0, 2)) {
      const view = await service.request({ userId: owner.id, accountId: owner.teamId, role: 'owner', email: owner.email });
      expect((await waitForExport(sample.dataSource, view.id)).status).toBe(ExportStatus.Completed);
      // The trail records the completion just after the status changes.
      for (let i = 0; i < 100 && !(await admin.history({ exportId: view.id })).some((h) => h.type === 'completed'); i++) {
        await new Promise((r) => setTimeout(r, 20));
      }
      ids[owner.teamId] = view.id;
    }
  });
  afterAll(async () => {
    await context?.close();
    await sample?.close();
  });

  it('a team member does not see the admin link, and the page turns them away', async () => {
    const owner = sample.users.find((u) => u.role === 'owner')!;
    await page.goto(`${sample.url}/demo/sign-in`);
    await page.click(`button[data-user-email="${owner.email}"]`);
    await page.waitForURL('**/settings/data-export');
    await page.goto(`${sample.url}/demo/outbox`);
    expect(await page.locator('nav a[href="/admin/exports"]').count()).toBe(0);
    const response = await page.goto(`${sample.url}/admin/exports`);
    expect(response?.status()).toBe(403);
    expect(await page.locator('tr[data-export-id]').count()).toBe(0);
  });

  it('support sees the exports of two teams with their history, and force-expires one', async () => {
    await page.goto(`${sample.url}/demo/sign-in`);
    await page.click(`button[data-staff-email="${SUPPORT_USER.email}"]`);
    await page.waitForURL('**/admin/exports');
    expect(await page.locator('nav a[href="/admin/exports"]').count()).toBe(1);
    const teams = Object.keys(ids);
    for (const team of teams) {
      const row = page.locator(`tr[data-export-id="${ids[team]}"]`);
      await expect(row.getAttribute('data-account')).resolves.toBe(team);
      await expect(row.getAttribute('data-status')).resolves.toBe('completed');
      await row.locator('summary').click();
      await expect(row.locator('li[data-type]').evaluateAll((items) => items.map((i) => i.getAttribute('data-type')))).resolves.toEqual(['requested', 'started', 'completed']);
    }
    await expectNoCodes(page);
    expect(await pageWidth(page)).toBeLessThanOrEqual(1280);

    const [first, second] = teams;
    await page.click(`tr[data-export-id="${ids[first]}"] button[data-action="force-expire"]`);
    await page.waitForSelector('p.notice.ok');
    await expect(page.textContent('p.notice.ok')).resolves.toContain('expired');
    const expired = page.locator(`tr[data-export-id="${ids[first]}"]`);
    await expect(expired.getAttribute('data-status')).resolves.toBe('expired');
    expect(await expired.locator('button[data-action="force-expire"]').count()).toBe(0);
    await expired.locator('summary').click();
    await expect(expired.locator('li[data-type="admin.force-expired"]').textContent()).resolves.toContain(SUPPORT_USER.id);
    await expect(page.locator(`tr[data-export-id="${ids[second]}"]`).getAttribute('data-status')).resolves.toBe('completed');
    await expectNoCodes(page);

    const row = await sample.dataSource.getRepository(DataExport).findOneByOrFail({ id: ids[first] });
    expect(row).toMatchObject({ status: ExportStatus.Expired, deletedBy: SUPPORT_USER.id, storageKey: null });
    await harness.shot(page, 'sample-admin-exports.png');
  });

  it('Bull Board loads at /admin/queues for support, and is refused to a team member', async () => {
    const board = await page.goto(`${sample.url}/admin/queues`);
    expect(board?.status()).toBe(200);
    await page.waitForFunction(() => /export/i.test((globalThis as any).document.body.innerText), undefined, { timeout: 20_000 });
    const member = await context.browser()!.newContext();
    const owner = sample.users.find((u) => u.role === 'owner')!;
    const other = await member.newPage();
    await other.goto(`${sample.url}/demo/sign-in`);
    await other.click(`button[data-user-email="${owner.email}"]`);
    await other.waitForURL('**/settings/data-export');
    expect((await other.goto(`${sample.url}/admin/queues`))?.status()).toBe(403);
    await member.close();
  });
});
