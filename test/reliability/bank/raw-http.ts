/**
 * A minimal HTTP/1.1 client over a raw socket, for the fuzzer: it sends exactly the bytes it
 * is given (header values with any byte a server must accept, odd targets, chunked bodies),
 * which fetch and node:http would normalise or refuse before sending.
 */
import net from 'node:net';
import zlib from 'node:zlib';

export interface RawRequest {
  method: string;
  /** The request-target as sent (path and query, already encoded as intended). */
  target: string;
  /** Header lines; values are sent as latin1 bytes. */
  headers: Array<[string, string]>;
  body: Buffer | null;
  chunked: boolean;
}

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
  text: string;
  json: unknown;
}

export function encodeRequest(host: string, request: RawRequest): Buffer {
  const lines = [`${request.method} ${request.target} HTTP/1.1`, `Host: ${host}`];
  for (const [name, value] of request.headers) lines.push(`${name}: ${value}`);
  lines.push('Connection: close');
  const body = request.body;
  if (body !== null && request.chunked) lines.push('Transfer-Encoding: chunked');
  else if (body !== null) lines.push(`Content-Length: ${body.length}`);
  const head = Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
  if (body === null) return head;
  if (!request.chunked) return Buffer.concat([head, body]);
  const chunks: Buffer[] = [head];
  for (let offset = 0; offset < body.length; offset += 1000) {
    const part = body.subarray(offset, offset + 1000);
    chunks.push(
      Buffer.from(`${part.length.toString(16)}\r\n`, 'latin1'),
      part,
      Buffer.from('\r\n'),
    );
  }
  chunks.push(Buffer.from('0\r\n\r\n', 'latin1'));
  return Buffer.concat(chunks);
}

function dechunk(body: Buffer): Buffer {
  const out: Buffer[] = [];
  let offset = 0;
  while (offset < body.length) {
    const lineEnd = body.indexOf('\r\n', offset, 'latin1');
    if (lineEnd < 0) break;
    const size = parseInt(
      body.subarray(offset, lineEnd).toString('latin1').split(';')[0] ?? '',
      16,
    );
    if (!Number.isFinite(size) || size === 0) break;
    out.push(body.subarray(lineEnd + 2, lineEnd + 2 + size));
    offset = lineEnd + 2 + size + 2;
  }
  return Buffer.concat(out);
}

/**
 * The body as sent before `Content-Encoding` (the local stack's HTTP layer compresses a body of
 * 1 KB or more when the request accepts it, as a client's stack undoes); as received if it
 * cannot be decoded.
 */
function decoded(body: Buffer, encoding: string | undefined): Buffer {
  const decode = {
    gzip: zlib.gunzipSync,
    deflate: zlib.inflateSync,
    br: zlib.brotliDecompressSync,
  }[encoding?.trim().toLowerCase() ?? ''];
  if (decode === undefined || body.length === 0) return body;
  try {
    return decode(body);
  } catch {
    return body;
  }
}

export function parseResponse(raw: Buffer): RawResponse {
  const split = raw.indexOf('\r\n\r\n', 0, 'latin1');
  if (split < 0) throw new Error(`no complete response head (${raw.length} bytes)`);
  const head = raw.subarray(0, split).toString('latin1').split('\r\n');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head[0] ?? '')?.[1]);
  if (!Number.isInteger(status)) throw new Error(`bad status line ${JSON.stringify(head[0])}`);
  const headers: Record<string, string> = {};
  for (const line of head.slice(1)) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
  }
  let body = raw.subarray(split + 4);
  if (/chunked/i.test(headers['transfer-encoding'] ?? '')) body = dechunk(body);
  else if (headers['content-length'] !== undefined) {
    body = body.subarray(0, Number(headers['content-length']));
  }
  body = decoded(body, headers['content-encoding']);
  const text = body.toString('utf8');
  let json: unknown;
  try {
    json = text === '' ? undefined : JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status, headers, body, text, json };
}

/** Sends the request on a fresh connection and reads the answer until the server closes it. */
export function sendRaw(
  host: string,
  port: number,
  request: RawRequest,
  timeoutMs = 30_000,
): Promise<RawResponse> {
  const bytes = encodeRequest(`${host}:${port}`, request);
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    const chunks: Buffer[] = [];
    let settled = false;
    const finish = (error?: Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (error !== undefined && chunks.length === 0) {
        reject(error);
        return;
      }
      try {
        resolve(parseResponse(Buffer.concat(chunks)));
      } catch (parseError) {
        reject(error ?? parseError);
      }
    };
    const timer = setTimeout(
      () => finish(new Error(`no answer within ${timeoutMs} ms`)),
      timeoutMs,
    );
    socket.on('connect', () => socket.write(bytes));
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('end', () => finish());
    socket.on('close', () => finish());
    socket.on('error', (error) => finish(error));
  });
}
