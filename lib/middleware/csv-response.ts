import { once } from 'node:events';
import { constants, createGzip, type Gzip } from 'node:zlib';
import Negotiator from 'negotiator';
import type { HttpResult } from './http';

type Headers = Record<string, string | undefined>;

/**
 * AWS Lambda answers a synchronous call of at most 6 MiB: the whole JSON of the result, where the
 * body is a JSON string (a text's quotes and line ends escaped; base64 as it is). The rest is
 * room for the status and the headers (under 1 KiB).
 */
export const LAMBDA_BODY_ROOM_BYTES = 6 * 1024 * 1024 - 64 * 1024;

/**
 * The plain CSV's own cap per answer, a round figure a client can plan for (openapi.yaml); a
 * gzip answer has only Lambda's (its base64 needs no escaping).
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

/** One page of an export: its CSV rows, and the cursor that resumes after it. */
export interface CsvPage {
  rows: string;
  resume: string;
}

export interface CsvPartOptions {
  headers: Headers;
  filename: string;
  header: string;
  /** The link that asks for the lines after `cursor` (a reference relative to this request). */
  nextLink: (cursor: string) => string;
}

/**
 * One answer of a CSV export: the header row, then whole pages while they fit in one Lambda
 * answer (gzip-compressed when the request accepts it). When the next page would not fit, the
 * answer ends before it and names the rest with `Link: <…>; rel="next"` (RFC 8288): an export of
 * any length is a few answers of a few MB, and memory holds one page and one answer.
 */
export async function csvPart(
  pages: AsyncIterable<CsvPage>,
  options: CsvPartOptions,
): Promise<HttpResult> {
  const body = acceptsGzip(options.headers) ? new GzipBody() : new PlainBody();
  body.add(options.header);
  let resumeBefore: string | null = null;
  let next: string | null = null;
  for await (const page of pages) {
    if (!(await body.fits(page.rows))) {
      // A page is 500 lines of at most a few KB each (about 3 MB at the fields' bounds, every
      // character a quote): it always fits an answer of its own. Not cut short silently.
      if (resumeBefore === null) throw new Error('one page of the export does not fit an answer');
      next = resumeBefore;
      break;
    }
    body.add(page.rows);
    resumeBefore = page.resume;
  }
  return {
    statusCode: 200,
    headers: {
      'content-type': CSV_TYPE,
      'content-disposition': `attachment; filename="${safeFilename(options.filename)}"`,
      'cache-control': 'no-store',
      vary: 'accept, accept-encoding',
      ...(next === null ? {} : { link: `<${options.nextLink(next)}>; rel="next"` }),
      ...body.headers,
    },
    ...(await body.finish()),
  };
}

interface Body {
  readonly headers: Record<string, string>;
  fits(text: string): Promise<boolean>;
  add(text: string): void;
  finish(): Promise<{ body: string; isBase64Encoded?: boolean }>;
}

/** The text as it is: within 5 MiB, and within Lambda's room once JSON-escaped. */
class PlainBody implements Body {
  readonly headers = {};
  private readonly parts: string[] = [];
  private bytes = 0;
  private escapedBytes = 0;

  async fits(text: string): Promise<boolean> {
    return (
      this.bytes + Buffer.byteLength(text) <= MAX_PLAIN_CSV_BYTES &&
      this.escapedBytes + escapedLength(text) <= LAMBDA_BODY_ROOM_BYTES
    );
  }

  add(text: string): void {
    this.parts.push(text);
    this.bytes += Buffer.byteLength(text);
    this.escapedBytes += escapedLength(text);
  }

  async finish() {
    return { body: this.parts.join('') };
  }
}

const escapedLength = (text: string): number => Buffer.byteLength(JSON.stringify(text)) - 2;
const base64Length = (bytes: number): number => 4 * Math.ceil(bytes / 3);

/**
 * One gzip stream, flushed after each page so what is compressed so far is known exactly. A page
 * is added only if it fits even uncompressed (compression never grows text by more than a few
 * bytes per block), so the answer never passes Lambda's room.
 */
class GzipBody implements Body {
  readonly headers = { 'content-encoding': 'gzip' };
  private readonly gzip: Gzip = createGzip();
  private readonly parts: Buffer[] = [];
  private bytes = 0;

  constructor() {
    this.gzip.on('data', (part: Buffer) => {
      this.parts.push(part);
      this.bytes += part.length;
    });
  }

  async fits(text: string): Promise<boolean> {
    await new Promise<void>((flushed) => this.gzip.flush(constants.Z_SYNC_FLUSH, () => flushed()));
    // The flushed bytes reach the 'data' listener on the next turn.
    await new Promise((turn) => setImmediate(turn));
    const worstCase = this.bytes + Buffer.byteLength(text) + 1024;
    return base64Length(worstCase) <= LAMBDA_BODY_ROOM_BYTES;
  }

  add(text: string): void {
    this.gzip.write(text);
  }

  async finish() {
    const ended = once(this.gzip, 'end');
    this.gzip.end();
    await ended;
    return {
      body: Buffer.concat(this.parts, this.bytes).toString('base64'),
      isBase64Encoded: true,
    };
  }
}
