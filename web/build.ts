import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { build } from 'esbuild';

import type { PageFile } from '../lib/web-page/publish';

/**
 * Builds the web page: web/index.html, web/src bundled by esbuild into app.js, web/styles.css.
 * `npm start` serves exactly these files and the deploy uploads exactly these files, each with
 * a config.json of its own beside them.
 */
export async function buildWebPage(options: { sourcemap: boolean }): Promise<PageFile[]> {
  const webDir = __dirname;
  const bundle = await build({
    entryPoints: [path.join(webDir, 'src', 'main.ts')],
    bundle: true,
    write: false,
    format: 'iife',
    target: 'es2020',
    minify: true,
    sourcemap: options.sourcemap ? 'inline' : false,
    logLevel: 'silent',
  });
  const file = async (name: string) => readFile(path.join(webDir, name), 'utf8');
  return [
    {
      path: '/index.html',
      contentType: 'text/html; charset=utf-8',
      body: await file('index.html'),
    },
    {
      path: '/app.js',
      contentType: 'text/javascript; charset=utf-8',
      body: bundle.outputFiles[0]?.text ?? '',
    },
    { path: '/styles.css', contentType: 'text/css; charset=utf-8', body: await file('styles.css') },
  ];
}
