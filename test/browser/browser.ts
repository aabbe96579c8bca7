/**
 * Launches headless Chromium for the browser tests with playwright-core, which downloads no
 * browser of its own. Which Chromium, in order:
 *   1. CHROME_PATH, if set (a local Chrome or Chromium on macOS, Windows, ...);
 *   2. /usr/bin/chromium, if present (Debian's `apt-get install chromium`);
 *   3. the build inside the @sparticuz/chromium package (a devDependency, nothing to install).
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

const ROOT = path.resolve(__dirname, '..', '..');

const COMMON_FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/**
 * @sparticuz/chromium's defaults are tuned for scraping inside Lambda: they switch off the
 * same-origin policy and allow mixed content, and run everything in one process. The tests must
 * see the page as a user's browser does, CORS and CSP included, so those flags are dropped; and
 * in one process, closing a test's browser context takes the whole browser down with it.
 */
const DROPPED_FLAGS = new Set([
  '--disable-web-security',
  '--allow-running-insecure-content',
  '--disable-site-isolation-trials',
  '--single-process',
]);

export interface BrowserChoice {
  executablePath: string;
  args: string[];
  source: 'CHROME_PATH' | '/usr/bin/chromium' | '@sparticuz/chromium';
}

export async function chooseBrowser(): Promise<BrowserChoice> {
  const fromEnv = process.env.CHROME_PATH;
  if (fromEnv) return { executablePath: fromEnv, args: COMMON_FLAGS, source: 'CHROME_PATH' };
  if (existsSync('/usr/bin/chromium')) {
    return { executablePath: '/usr/bin/chromium', args: COMMON_FLAGS, source: '/usr/bin/chromium' };
  }
  const sparticuz = await sparticuzChromium();
  const args = [...sparticuz.args.filter((flag) => !DROPPED_FLAGS.has(flag))];
  for (const flag of COMMON_FLAGS) if (!args.includes(flag)) args.push(flag);
  return { executablePath: sparticuz.executablePath, args, source: '@sparticuz/chromium' };
}

export async function launchBrowser(): Promise<Browser> {
  const choice = await chooseBrowser();
  return chromium.launch({
    executablePath: choice.executablePath,
    args: choice.args,
    headless: true,
    timeout: 60_000,
  });
}

/**
 * One browser for the test file, and per test a fresh context (its own sessionStorage, so no
 * test inherits another's sign-in) and page. Problems the page reports about itself (script
 * errors, CSP violations) fail the test. Returns the current test's page.
 */
export function pagePerTest(): () => Page {
  let browser: Browser | undefined;
  let context: BrowserContext | undefined;
  let page: Page | undefined;
  let problems: string[] = [];
  beforeAll(async () => {
    browser = await launchBrowser();
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
  });
  beforeEach(async () => {
    if (!browser) throw new Error('no browser');
    context = await browser.newContext({ viewport: { width: 1000, height: 900 }, locale: 'en-US' });
    page = await context.newPage();
    problems = [];
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    page.on('console', (message) => {
      if (/Content.Security.Policy|Refused to/i.test(message.text())) problems.push(message.text());
    });
  });
  afterEach(async () => {
    await context?.close();
    expect(problems).toEqual([]);
  });
  return () => {
    if (!page) throw new Error('no page outside a test');
    return page;
  };
}

/**
 * @sparticuz/chromium is an ES module, which jest's CommonJS runtime cannot load; a short-lived
 * node process asks it where it unpacked Chromium (it unpacks once, to /tmp/chromium) and with
 * which flags to start it.
 */
async function sparticuzChromium(): Promise<{ executablePath: string; args: string[] }> {
  const script = `import('@sparticuz/chromium').then(async ({ default: c }) => {
    process.stdout.write(JSON.stringify({ executablePath: await c.executablePath(), args: c.args }));
  });`;
  const { stdout } = await promisify(execFile)(process.execPath, ['-e', script], {
    cwd: ROOT,
    timeout: 120_000,
  });
  return JSON.parse(stdout) as { executablePath: string; args: string[] };
}
