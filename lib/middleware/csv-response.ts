import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import Negotiator from 'negotiator';
import { ExportTooLargeError } from '../domain/errors';
import type { HttpResult } from './http';

type Headers = Record<string, string | undefined>;

/**
 * AWS Lambda answers a synchronous call of at most 6 MiB: the whole JSON of the result, where the
 * body is a JSON string (a text's quotes and line ends escaped; base64 as it is). The rest is
 * room for the status and the headers (under 1 KiB).
 */
export const LAMBDA_BODY_ROOM_BYTES = 6 * 1024 * 1024 - 64 * 1024;

/**
 * The plain CSV's own cap, a round figure a client can plan for (openapi.yaml, EXPORT_TOO_LARGE);
 * a gzip answer has only Lambda's (its base64 needs no escaping).
 */
export const MAX_PLAIN_CSV_BYTES = 5 * 1024 * 1024;

// Offered with its parameters, so `text/csv;charset=latin1` is not taken for it.
const CSV_TYPE = 'text/csv; charset=utf-8; header=present';

/**
 * The client prefers CSV to JSON (RFC 9110's q-values and specificity, by negotiator). JSON stays
 * the default: no Accept, any type, or a tie where JSON is listed first.
 */
export function wantsCsv(headers: Headers): boolean {
  return new Negotiator({ headers }).mediaType(['application/json', CSV_TYPE]) === CSV_TYPE;
}

const acceptsGzip = (headers: Headers): boolean =>
  new Negotiator({ headers }).encoding(['gzip', 'identity']) === 'gzip';

/** Only characters a Content-Disposition filename needs no escaping for. */
const safeFilename = (filename: string): string => filename.replace(/[^A-Za-z0-9._-]/g, '_');

/**
 * A 200 with the CSV `chunks` as an attachment, gzip-compressed when the request accepts it.
 * Refuses with ExportTooLargeError as soon as the body would pass its cap, reading no further.
 */
export async function csvResponse(
  chunks: AsyncIterable<string>,
  options: { headers: Headers; filename: string },
): Promise<HttpResult> {
  const headers: Record<string, string> = {
    'content-type': CSV_TYPE,
    'content-disposition': `attachment; filename="${safeFilename(options.filename)}"`,
    'cache-control': 'no-store',
    vary: 'accept, accept-encoding',
  };
  if (!acceptsGzip(options.headers)) {
    return { statusCode: 200, headers, body: await plainBody(chunks) };
  }
  return {
    statusCode: 200,
    headers: { ...headers, 'content-encoding': 'gzip' },
    body: await gzipBase64Body(chunks),
    isBase64Encoded: true,
  };
}

/** The text, within 5 MiB and within what Lambda carries once JSON-escaped. */
async function plainBody(chunks: AsyncIterable<string>): Promise<string> {
  const parts: string[] = [];
  let bytes = 0;
  let escapedBytes = 0;
  for await (const chunk of chunks) {
    bytes += Buffer.byteLength(chunk);
    escapedBytes += Buffer.byteLength(JSON.stringify(chunk)) - 2;
    // Leaving the loop ends the source (its return()): no further page is read.
    if (bytes > MAX_PLAIN_CSV_BYTES || escapedBytes > LAMBDA_BODY_ROOM_BYTES) {
      throw new ExportTooLargeError();
    }
    parts.push(chunk);
  }
  return parts.join('');
}

const base64Length = (bytes: number): number => 4 * Math.ceil(bytes / 3);

/**
 * The text through one gzip stream as it comes; only the compressed bytes are kept. A throw in
 * the sink makes the pipeline destroy the gzip stream and end the source.
 */
async function gzipBase64Body(chunks: AsyncIterable<string>): Promise<string> {
  const parts: Buffer[] = [];
  let bytes = 0;
  await pipeline(chunks, createGzip(), async (compressed: AsyncIterable<Buffer>) => {
    for await (const part of compressed) {
      bytes += part.length;
      if (base64Length(bytes) > LAMBDA_BODY_ROOM_BYTES) {
        throw new ExportTooLargeError(
          'This CSV is larger than one answer may be, even compressed: ask for a shorter range.',
        );
      }
      parts.push(part);
    }
  });
  return Buffer.concat(parts, bytes).toString('base64');
}
