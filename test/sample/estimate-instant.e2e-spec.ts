import { readFileSync } from 'node:fs';
import { DataExport, ExportService } from 'nestjs-data-export';
import type { SampleApp } from '../../sample-app/create-sample-app';
import { Team } from '../../sample-app/entities';
import { expectNoCodes, pageWidth, setupSampleBrowser, signIn } from '../utils/sample-browser';
import { readZip } from '../utils/zip';

/*
 * The sample's estimate before the click (Settings → Data Export) and the Billing page's
 * "Export My Data" of a locked team through the instant download, in headless Chromium against
 * the real sample (SQLite, Redis, the library's endpoints).
 */

const harness = setupSampleBrowser();
jest.setTimeout(60_000);

describe('help-desk sample: the estimate and the instant download in headless Chromium', () => {
  let sample: SampleApp;

  beforeAll(async () => {
    sample = await harness.boot('estimate', { tickets: 400 });
  });
  afterAll(() => sample?.close());

  it('shows the rows and size of the export before "Request export", following the checkboxes', async () => {
    const owner = sample.users.find((u) => u.role === 'owner' && u.teamId === 'northwind-outfitters')!;
    const { context, page } = await harness.newPage();
    try {
      await signIn(page, sample, owner.email);
      const service = sample.app.get(ExportService);
      const principal = { userId: owner.id, accountId: owner.teamId, role: 'owner' };
      const everything = await service.estimate(principal, {});
      await page.waitForSelector(`#estimate[data-rows="${everything.rows}"]`);
      const text = (await page.textContent('#estimate'))!;
      expect(text).toMatch(new RegExp(`^(About )?${everything.rows.toLocaleString('en-US')} records · about [\\d.]+ (KB|MB) to download$`));
      expect(everything.rows).toBeGreaterThan(400 * 0.6);

      // Unticking messages: the estimate follows, as the service answers for those categories.
      await page.uncheck('#cat-messages');
      const categories = (await page.$$eval('input.category:checked', (boxes) => boxes.map((b) => b.getAttribute('value')!)));
      const fewer = await service.estimate(principal, { categories });
      expect(fewer.rows).toBeLessThan(everything.rows);
      await page.waitForSelector(`#estimate[data-rows="${fewer.rows}"]`);
      await expectNoCodes(page);
      expect(await pageWidth(page)).toBeLessThanOrEqual(1280);
      await harness.shot(page, 'sample-estimate.png', '#request-card');
    } finally {
      await context.close();
    }
  });

  it('lets a locked team export its data from the Billing page, at once, as a valid ZIP', async () => {
    const admin = sample.users.find((u) => u.role === 'admin' && u.teamId !== 'northwind-outfitters')!;
    await sample.dataSource.getRepository(Team).update({ id: admin.teamId }, { billingStatus: 'locked' });
    const { context, page } = await harness.newPage();
    try {
      await signIn(page, sample, admin.email);
      await page.click('nav a[href="/settings/billing"]');
      await page.waitForSelector('body[data-ready="true"]');
      await expect(page.textContent('#billing .notice')).resolves.toContain('Your account is locked');
      const downloading = page.waitForEvent('download', { timeout: 15_000 });
      await page.click('#instant-export');
      await page.waitForSelector('#instant-status:not([data-state="working"])');
      await expect(page.getAttribute('#instant-status', 'data-state')).resolves.toBe('done');
      const download = await downloading;
      expect(download.suggestedFilename()).toMatch(new RegExp(`^data-export-${admin.teamId}-\\d{4}-\\d{2}-\\d{2}\\.zip$`));
      const files = await readZip(readFileSync((await download.path())!));
      const manifest = JSON.parse(files.get('manifest.json')!.toString());
      const estimate = await sample.app.get(ExportService).estimate({ userId: admin.id, accountId: admin.teamId, role: 'admin' }, {});
      expect(manifest.summary.rows).toBe(estimate.rows);
      expect(manifest.accountId ?? manifest.export?.accountId ?? admin.teamId).toBe(admin.teamId);
      // Nothing of the other team, and the team row says locked: billing did not block the export.
      for (const bytes of files.values()) expect(bytes.includes('northwind-outfitters')).toBe(false);
      expect(files.get('team.ndjson')!.toString()).toContain('"billingStatus":"locked"');

      // A second click within the cooldown is told to wait, in words.
      await page.click('#instant-export');
      await page.waitForSelector('#instant-status[data-state="refused"]');
      await expect(page.getAttribute('#instant-status', 'data-code')).resolves.toBe('EXPORT_INSTANT_RATE_LIMITED');
      await expect(page.textContent('#instant-status')).resolves.toMatch(/Please try again in \d+ seconds/);
      await expectNoCodes(page);
      await harness.shot(page, 'sample-billing-instant.png');
    } finally {
      await context.close();
    }
  });

  it('requests a queued export from the Billing page where an instant download is off (exports confirmed by email)', async () => {
    const confirming = await harness.boot('billing-confirm', { tickets: 60, confirm: true });
    const { context, page } = await harness.newPage();
    try {
      const owner = confirming.users.find((u) => u.role === 'owner')!;
      await signIn(page, confirming, owner.email);
      await page.goto(`${confirming.url}/settings/billing`);
      await page.click('#toggle-lock');
      await page.waitForSelector('#billing[data-status="locked"]');
      await page.click('#instant-export');
      await page.waitForSelector('#instant-status[data-state="queued"]');
      await expect(page.textContent('#instant-status')).resolves.toContain('Check your email to confirm the export');
      const exports = await confirming.dataSource.getRepository(DataExport).find({ where: { accountId: owner.teamId } });
      expect(exports.map((e) => e.status)).toEqual(['pending']);
      await expectNoCodes(page);
    } finally {
      await context.close();
      await confirming.close();
    }
  });
});
