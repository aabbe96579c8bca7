import http from 'node:http';
import { pageWithConfig } from '../lib/web-page/publish';
import { buildWebPage } from '../web/build';

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
 * Serves the web page as the deploy uploads it (web/build.ts, built at start) and /config.json
 * telling the page where the API and the issuer are.
 */
export async function startWebServer(options: {
  port: number;
  config: WebConfig;
  host?: string;
}): Promise<{ url: string; stop(): Promise<void> }> {
  const page = await buildWebPage({ sourcemap: true });
  const connectSrc = [options.config.apiUrl, options.config.cognitoEndpoint].join(' ');
  const files = new Map(pageWithConfig(page, options.config).map((file) => [file.path, file]));
  const server = http.createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const file = files.get(url.pathname === '/' ? '/index.html' : url.pathname);
    if (request.method !== 'GET' || !file) {
      response
        .writeHead(404, { 'content-type': 'text/plain', ...SECURITY_HEADERS })
        .end('Not found');
      return;
    }
    response.writeHead(200, {
      'content-type': file.contentType,
      'content-security-policy': `default-src 'self'; connect-src 'self' ${connectSrc}; img-src 'self' data:; style-src 'self'; frame-ancestors 'none'`,
      ...SECURITY_HEADERS,
    });
    response.end(file.body);
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
