// Debian's chromium driven by playwright-core (no browser download works here): launched as the machine's notes
// advise for a closed network, with every browser error collected so a test can fail on any.
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';

export const ROOT = path.resolve(__dirname, '../../../..');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
// no background connections, no first-run work: a closed network refuses them, many at a time
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface TestBrowser {
  browser: Browser;
  /** A new page (1280×800 unless told), whose console errors and page errors land in `errors`. */
  page(viewport?: { width: number; height: number }): Promise<Page>;
  errors: string[];
  close(): Promise<void>;
}

export async function launchBrowser(): Promise<TestBrowser> {
  if (!existsSync(CHROMIUM))
    throw new Error(
      `no browser at ${CHROMIUM}: install Debian's chromium (apt-get install chromium) or set CHROMIUM_PATH`,
    );
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  const errors: string[] = [];
  return {
    browser,
    errors,
    page: async (viewport = { width: 1280, height: 800 }) => {
      const page = await browser.newPage({ viewport });
      page.on('console', (m) => void (m.type() === 'error' && errors.push(m.text())));
      page.on('pageerror', (e) => errors.push(e.message));
      return page;
    },
    close: () => browser.close(),
  };
}

/** Saves a screenshot under tmp/screenshots/ (the README's pictures are copied from there into docs/images/). */
export async function screenshot(page: Page, name: string): Promise<void> {
  const dir = path.join(ROOT, 'tmp/screenshots');
  mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: path.join(dir, `${name}.png`) });
}
