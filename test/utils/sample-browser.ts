import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Browser, BrowserContext, chromium, Page } from 'playwright-core';
import { createSampleApp, CreateSampleAppOptions, SampleApp } from '../../sample-app/create-sample-app';
import { deleteRedisKeys, testRedisPrefix } from './global-setup';

/*
 * The harness of the sample's browser tests: headless Chromium from Debian, the sample booted
 * in-process on a free port (SQLite in memory, real Redis under a Bull prefix of its own, removed
 * afterwards), and the helpers that read its pages. Screenshots land in a temporary folder; with
 * UPDATE_SCREENSHOTS=1 they replace the committed ones in docs/images/.
 */

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const SAMPLE_REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const UPDATE_SCREENSHOTS = process.env.UPDATE_SCREENSHOTS === '1';

export interface SampleBootOptions {
  tickets: number;
  confirm?: boolean;
  batchSize?: number;
  /** Library options over the test defaults. */
  exportOptions?: CreateSampleAppOptions['exportOptions'];
}

/** One browser and the samples a spec file boots; `setupSampleBrowser()` in a describe or at top level. */
export interface SampleBrowser {
  readonly browser: Browser;
  readonly tmp: string;
  /** Boots the sample with its own database, storage, outbox and queue prefix. */
  boot(name: string, options: SampleBootOptions): Promise<SampleApp>;
  newPage(viewport?: { width: number; height: number }): Promise<{ context: BrowserContext; page: Page }>;
  /** Saves a screenshot of the top of the page down to the bottom of `until` (at most 900 px). */
  shot(page: Page, file: string, until?: string): Promise<void>;
}

/** Registers beforeAll/afterAll that launch Chromium and clean up; returns the harness. */
export function setupSampleBrowser(): SampleBrowser {
  let browser: Browser | undefined;
  let tmp = '';
  let shots = '';
  const prefixes: string[] = [];

  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'helpdesk-sample-'));
    shots = UPDATE_SCREENSHOTS ? join(__dirname, '..', '..', 'docs', 'images') : join(tmp, 'screenshots');
    mkdirSync(shots, { recursive: true });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
    });
  });

  afterAll(async () => {
    await browser?.close();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
    // The queues' keys go with the test (our own prefixes only, never a flush).
    await deleteRedisKeys(prefixes, SAMPLE_REDIS_URL);
  });

  return {
    get browser() {
      if (!browser) throw new Error('the browser starts in beforeAll');
      return browser;
    },
    get tmp() {
      return tmp;
    },
    boot(name, options) {
      const bullPrefix = testRedisPrefix('sample-test');
      prefixes.push(bullPrefix);
      return createSampleApp({
        port: 0,
        publicHost: '127.0.0.1',
        database: ':memory:',
        redisUrl: SAMPLE_REDIS_URL,
        bullPrefix,
        exportsDir: join(tmp, name, 'exports'),
        outboxDir: join(tmp, name, 'outbox'),
        tickets: options.tickets,
        confirm: options.confirm ?? false,
        logger: false,
        exportOptions: { batchSize: options.batchSize ?? 500, progressInterval: 50, attempts: 1, ...options.exportOptions },
      });
    },
    async newPage(viewport = { width: 1280, height: 900 }) {
      const context = await this.browser.newContext({ acceptDownloads: true, viewport, locale: 'en-US', timezoneId: 'UTC' });
      const page = await context.newPage();
      // Delete / cancel ask for confirmation.
      page.on('dialog', (dialog) => void dialog.accept());
      return { context, page };
    },
    async shot(page, file, until = 'main') {
      // Runs in the page (the test's tsconfig has no DOM types, hence `globalThis as any`).
      const height: number = await page.evaluate((selector) => {
        const w = globalThis as any;
        w.scrollTo(0, 0);
        return Math.ceil(w.document.querySelector(selector).getBoundingClientRect().bottom + 20);
      }, until);
      await page.screenshot({ path: join(shots, file), clip: { x: 0, y: 0, width: 1280, height: Math.min(900, height) } });
    },
  };
}

/** Signs in on the demo page by clicking the user's card, and waits for the export page. */
export async function signIn(page: Page, sample: SampleApp, email: string): Promise<void> {
  await page.goto(`${sample.url}/demo/sign-in`);
  await page.click(`button[data-user-email="${email}"]`);
  await page.waitForURL('**/settings/data-export');
  await page.waitForSelector('body[data-ready="true"]');
}

/** The page as a person reads it holds no error code and no HTTP status. */
export async function expectNoCodes(page: Page): Promise<void> {
  const text = await page.innerText('main');
  expect(text).not.toMatch(/EXPORT_[A-Z_]+|HTTP_\d+/);
}

/** Widest point of the page, in CSS pixels (the viewport's width when nothing overflows). */
export const pageWidth = (page: Page) => page.evaluate(() => (globalThis as any).document.documentElement.scrollWidth as number);
