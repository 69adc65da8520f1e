/** Locates the headless browser the report tests drive (Debian's `chromium`, installed by scripts/setup). */
import { execFileSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import type { Browser, Page } from 'playwright-core';

/** FAITHSWEEP_CHROMIUM, else `chromium` / `chromium-browser` on PATH; throws with what to install. */
export function chromiumPath(): string {
  const configured = process.env['FAITHSWEEP_CHROMIUM'];
  if (configured) return configured;
  for (const name of ['chromium', 'chromium-browser']) {
    try {
      return execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim();
    } catch {
      // try the next name
    }
  }
  throw new Error('chromium not found: run scripts/setup (Debian: apt-get install chromium) or set FAITHSWEEP_CHROMIUM');
}

/** A report opened in headless Chromium, ready (`body[data-ready="true"]`). */
export interface OpenReport {
  readonly browser: Browser;
  readonly page: Page;
  /** Uncaught page errors so far (`pageerror` events), as text; the report tests expect none. */
  readonly errors: string[];
}

/**
 * Opens a generated report file (`faithsweep report --out FILE`) in headless Chromium, offline,
 * and waits until its client script marks the body ready. The caller closes `browser`.
 * Throws when Chromium is missing (chromiumPath) or the page never becomes ready.
 */
export async function openReport(file: string, viewport: { width: number; height: number } = { width: 1280, height: 900 }): Promise<OpenReport> {
  const browser = await chromium.launch({ executablePath: chromiumPath(), headless: true, args: ['--no-sandbox'] });
  const page = await (await browser.newContext({ viewport, offline: true })).newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(pathToFileURL(file).href);
  await page.waitForSelector('body[data-ready="true"]');
  return { browser, page, errors };
}
