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
import { chromium, type Browser } from 'playwright-core';

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
