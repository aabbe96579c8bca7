import { readFile } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { build } from 'esbuild';

export interface WebConfig {
  apiUrl: string;
  cognitoEndpoint: string;
  clientId: string;
}

const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

/**
 * Serves the web page: web/index.html, the TypeScript in web/src bundled by esbuild at start,
 * web/styles.css, and /config.json telling the page where the API and the issuer are.
 */
export async function startWebServer(options: {
  port: number;
  root: string;
  config: WebConfig;
  host?: string;
}): Promise<{ url: string; stop(): Promise<void> }> {
  const webDir = path.join(options.root, 'web');
  const bundle = await build({
    entryPoints: [path.join(webDir, 'src', 'main.ts')],
    bundle: true,
    write: false,
    format: 'iife',
    target: 'es2020',
    minify: true,
    sourcemap: 'inline',
    logLevel: 'silent',
  });
  const appJs = bundle.outputFiles[0]?.text ?? '';
  const connectSrc = [options.config.apiUrl, options.config.cognitoEndpoint].join(' ');
  const files: Record<string, { type: string; body: () => Promise<string> }> = {
    '/': {
      type: 'text/html; charset=utf-8',
      body: () => readFile(path.join(webDir, 'index.html'), 'utf8'),
    },
    '/app.js': { type: 'text/javascript; charset=utf-8', body: async () => appJs },
    '/styles.css': {
      type: 'text/css; charset=utf-8',
      body: () => readFile(path.join(webDir, 'styles.css'), 'utf8'),
    },
    '/config.json': { type: 'application/json', body: async () => JSON.stringify(options.config) },
  };
  const server = http.createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const file = files[url.pathname === '/index.html' ? '/' : url.pathname];
    if (request.method !== 'GET' || !file) {
      response
        .writeHead(404, { 'content-type': 'text/plain', ...SECURITY_HEADERS })
        .end('Not found');
      return;
    }
    file
      .body()
      .then((body) => {
        response.writeHead(200, {
          'content-type': file.type,
          'content-security-policy': `default-src 'self'; connect-src 'self' ${connectSrc}; img-src 'self' data:; style-src 'self'`,
          ...SECURITY_HEADERS,
        });
        response.end(body);
      })
      .catch(() => response.writeHead(500, SECURITY_HEADERS).end());
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, host, () => resolve());
  });
  return {
    url: `http://localhost:${options.port}`,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
