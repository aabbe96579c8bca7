/**
 * The CSV answer (lib/middleware/csv-response.ts): chosen by Accept, JSON staying the default;
 * gzip-compressed when the request allows it; ended before a page that would pass what AWS
 * Lambda can answer, with a link to the rest, without reading further.
 */
import { gunzipSync } from 'node:zlib';
import { randomBytes } from 'node:crypto';
import { parse } from 'csv-parse/sync';
import { encodeTime } from 'ulid';
import {
  csvHeaderRow,
  csvPagesOf,
  STATEMENT_CSV_COLUMNS,
  type StatementCsvLine,
} from '../../lib/domain/statement-csv';
import {
  csvPart,
  type CsvPage,
  LAMBDA_BODY_ROOM_BYTES,
  MAX_PLAIN_CSV_BYTES,
  wantsCsv,
} from '../../lib/middleware/csv-response';

const MiB = 1024 * 1024;

/** Pages of the given rows; each resumes after its own number. */
async function* pagesOf(...rows: string[]): AsyncGenerator<CsvPage> {
  for (const [n, text] of rows.entries()) yield { rows: text, resume: `after-${n + 1}` };
}

/** An endless source of `make()` pages that records how many were read and whether it was ended. */
function recordingSource(make: () => string) {
  const state = { pulled: 0, closed: false };
  async function* pages(): AsyncGenerator<CsvPage> {
    try {
      for (;;) {
        state.pulled += 1;
        yield { rows: make(), resume: `after-${state.pulled}` };
      }
    } finally {
      state.closed = true;
    }
  }
  return { state, pages: pages() };
}

const part = (pages: AsyncIterable<CsvPage>, headers: Record<string, string> = {}) =>
  csvPart(pages, {
    headers,
    filename: 'x.csv',
    header: 'a,b\r\n',
    nextLink: (cursor) => `x?cursor=${cursor}`,
  });

type Answer = Awaited<ReturnType<typeof csvPart>>;

/** The text a client reads: the body, unzipped when it is gzip. */
const bodyText = (result: Answer): string =>
  result.isBase64Encoded
    ? gunzipSync(Buffer.from(result.body ?? '', 'base64')).toString('utf8')
    : (result.body ?? '');

describe('wantsCsv', () => {
  it.each([
    [undefined, false],
    ['*/*', false],
    ['application/json', false],
    ['application/json, text/csv', false],
    ['text/csv;q=0.5, application/json', false],
    ['text/csv;q=0', false],
    ['text/csv; charset=latin1', false],
    ['image/png', false],
    ['text/csv', true],
    ['TEXT/CSV', true],
    ['text/csv; charset=utf-8', true],
    ['text/csv;header=present;q=0.9, */*;q=0.1', true],
    ['text/csv, application/json', true],
    ['application/json;q=0.5, text/csv', true],
    ['*/*, text/csv', true],
    ['text/*', true],
  ])('Accept %j: CSV %s', (accept, expected) => {
    expect(wantsCsv({ accept })).toBe(expected);
  });
});

describe('csvPart', () => {
  const text = 'a,b\r\n"x, y",é☕\r\n';

  it('answers the header and the pages as an attachment that no one caches', async () => {
    const result = await csvPart(pagesOf('"x, y",é☕\r\n'), {
      headers: {},
      filename: 'statement-2025-03.csv',
      header: 'a,b\r\n',
      nextLink: () => 'never',
    });
    expect(result).toEqual({
      statusCode: 200,
      headers: {
        'content-type': 'text/csv; charset=utf-8; header=present',
        'content-disposition': 'attachment; filename="statement-2025-03.csv"',
        'cache-control': 'no-store',
        vary: 'accept, accept-encoding',
      },
      body: text,
    });
  });

  it('names the file with safe characters only', async () => {
    const result = await csvPart(pagesOf(), {
      headers: {},
      filename: 'a "b"\r\nc;d/é.csv',
      header: 'a\r\n',
      nextLink: () => 'never',
    });
    expect(result.headers?.['content-disposition']).toBe('attachment; filename="a__b___c_d__.csv"');
  });

  it.each(['gzip', 'gzip, deflate, br, zstd', 'br;q=1, gzip;q=0.5', '*'])(
    'compresses with gzip for Accept-Encoding %j, and the body unzips to the text',
    async (acceptEncoding) => {
      const result = await part(pagesOf('"x, y",', 'é☕\r\n'), {
        'accept-encoding': acceptEncoding,
      });
      expect(result.isBase64Encoded).toBe(true);
      expect(result.headers).toMatchObject({
        'content-encoding': 'gzip',
        'content-type': 'text/csv; charset=utf-8; header=present',
        vary: 'accept, accept-encoding',
      });
      expect(bodyText(result)).toBe(text);
    },
  );

  it.each(['', 'br', 'gzip;q=0', 'gzip;q=0, *', 'identity'])(
    'answers plain text for Accept-Encoding %j',
    async (acceptEncoding) => {
      const result = await part(pagesOf('"x, y",é☕\r\n'), { 'accept-encoding': acceptEncoding });
      expect(result.isBase64Encoded).toBeUndefined();
      expect(result.headers?.['content-encoding']).toBeUndefined();
      expect(result.body).toBe(text);
    },
  );

  it('ends a plain answer before the page that would pass 5 MiB, links to the rest and reads no further', async () => {
    const { state, pages } = recordingSource(() => 'y'.repeat(MiB));
    const result = await part(pages);
    // The header and four pages: a fifth would pass 5 MiB.
    expect(Buffer.byteLength(result.body ?? '')).toBe(4 * MiB + 5);
    expect(result.headers?.link).toBe('<x?cursor=after-4>; rel="next"');
    expect(state.pulled).toBe(5);
    expect(state.closed).toBe(true);
  });

  it('ends a plain answer whose escaped JSON Lambda could not send, under 5 MiB of text', async () => {
    // Quotes double in a CSV field, and each becomes \\" in the JSON of Lambda's answer.
    const { state, pages } = recordingSource(() => '"'.repeat(MiB / 2));
    const result = await part(pages);
    const escaped = Buffer.byteLength(JSON.stringify(result.body)) - 2;
    expect(escaped).toBeLessThanOrEqual(LAMBDA_BODY_ROOM_BYTES);
    expect(Buffer.byteLength(result.body ?? '')).toBeLessThan(MAX_PLAIN_CSV_BYTES);
    expect(result.headers?.link).toBe(`<x?cursor=after-${state.pulled - 1}>; rel="next"`);
    expect(state.closed).toBe(true);
  });

  it('ends a gzip answer before its base64 would pass what Lambda can send', async () => {
    // Random hex: gzip can only halve it, so about 8 MiB of text fills the answer.
    const { state, pages } = recordingSource(() => randomBytes(MiB / 8).toString('hex'));
    const result = await part(pages, { 'accept-encoding': 'gzip' });
    expect((result.body ?? '').length).toBeLessThanOrEqual(LAMBDA_BODY_ROOM_BYTES);
    expect(bodyText(result)).toHaveLength(5 + (state.pulled - 1) * (MiB / 4));
    expect(result.headers?.link).toBe(`<x?cursor=after-${state.pulled - 1}>; rel="next"`);
    expect(state.closed).toBe(true);
  });

  it('fails rather than answer a first page that no answer could carry', async () => {
    await expect(part(pagesOf('z'.repeat(6 * MiB)))).rejects.toThrow(/does not fit/);
  });

  describe('a busy account', () => {
    const perPage = 1_000;
    const start = Date.parse('2025-03-01T00:00:00.000Z');
    const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
    const ulidAt = (ms: number): string =>
      encodeTime(ms, 10) + [...randomBytes(16)].map((byte) => CROCKFORD[byte % 32]).join('');
    // A customer's usual counterparties and payout destinations: a few, again and again.
    const counterparties = Array.from({ length: 20 }, () => ulidAt(start));
    const destinations = Array.from({ length: 5 }, (_, n) => `GB${n}9NWBK6016133192681${n}`);
    /** The JS heap and the buffers outside it (the compressed parts are Buffers). */
    const memoryInUse = (): number => {
      const usage = process.memoryUsage();
      return usage.heapUsed + usage.arrayBuffers;
    };
    const TYPES = ['DEPOSIT', 'WITHDRAWAL', 'TRANSFER_OUT', 'TRANSFER_IN', 'PAYOUT'] as const;

    /** `lines` lines of a month like a busy account's, page by page; `counts.read` counts the pages read. */
    function statement(lines: number) {
      let balance = 0;
      const statementLine = (n: number): StatementCsvLine => {
        const type = TYPES[n % TYPES.length] ?? 'DEPOSIT';
        const amount = 100 + ((n * 7919) % 250_000);
        const fee = type === 'WITHDRAWAL' || type === 'PAYOUT' ? 25 + (n % 50) : undefined;
        balance += (type === 'DEPOSIT' || type === 'TRANSFER_IN' ? 1 : -1) * (amount + (fee ?? 0));
        const ms = start + n * 26_000 + (n % 1000);
        const at = new Date(ms).toISOString();
        return {
          transactionId: ulidAt(ms),
          accountId: '01JACCOUNT0000000000000000',
          type,
          amount,
          ...(fee ? { fee } : {}),
          currency: 'USD',
          balanceAfter: balance,
          sequence: n,
          idempotencyKey: `key-${n}`,
          createdAt: at,
          postedAt: at,
          status: 'POSTED',
          ...(type.startsWith('TRANSFER')
            ? { counterpartyAccountId: counterparties[n % counterparties.length] }
            : {}),
          ...(type === 'PAYOUT' ? { destination: destinations[n % destinations.length] } : {}),
          reference: `INV-${2025_000_000 + n}`,
          description: `Invoice ${n % 997} for March, order #${(n * 31) % 100_000}`,
        };
      };
      const counts = { read: 0, peakMemory: memoryInUse() };
      /** The lines after `after`, a page at a time, each resuming after its last line. */
      async function* pages(after: number) {
        for (let first = after + 1; first <= lines; first += perPage) {
          counts.read += 1;
          // With node --expose-gc the peak is what is kept, not what is yet to be collected.
          (globalThis as { gc?: () => void }).gc?.();
          counts.peakMemory = Math.max(counts.peakMemory, memoryInUse());
          const last = Math.min(lines, first + perPage - 1);
          const entries = Array.from({ length: last - first + 1 }, (_, i) =>
            statementLine(first + i),
          );
          yield { entries, resume: String(last) };
        }
      }
      return { counts, pages };
    }

    const mib = (bytes: number) => `${(bytes / MiB).toFixed(2)} MiB`;

    it('exports 100,000 lines in a few gzip answers, each linking to the next, read page by page', async () => {
      (globalThis as { gc?: () => void }).gc?.();
      const baseline = memoryInUse();
      const { counts, pages } = statement(100_000);
      const rows: string[][] = [];
      const sizes: number[] = [];
      for (let after = 0, answers = 0; ; answers += 1) {
        expect(answers).toBeLessThan(10);
        const result = await csvPart(csvPagesOf(pages(after)), {
          headers: { 'accept-encoding': 'gzip' },
          filename: 'statement.csv',
          header: csvHeaderRow(),
          nextLink: (cursor) => `2025-03?cursor=${cursor}`,
        });
        sizes.push((result.body ?? '').length);
        const [header, ...lines] = parse(bodyText(result)) as string[][];
        expect(header).toEqual([...STATEMENT_CSV_COLUMNS]);
        rows.push(...lines);
        const link = /^<2025-03\?cursor=(\d+)>; rel="next"$/.exec(
          String(result.headers?.link ?? ''),
        );
        if (link === null) break;
        after = Number(link[1]);
      }
      expect(rows.map((row) => Number(row[0]))).toEqual(
        Array.from({ length: 100_000 }, (_, i) => i + 1),
      );
      expect(Math.max(...sizes)).toBeLessThanOrEqual(LAMBDA_BODY_ROOM_BYTES);
      // Figures to read, not bounds.
      console.info(
        `100,000 lines: ${sizes.length} gzip answers of ${sizes.map(mib).join(', ')} in base64 ` +
          `(room ${mib(LAMBDA_BODY_ROOM_BYTES)}); ${counts.read} pages read; memory growth ` +
          `while exporting ${mib(counts.peakMemory - baseline)}`,
      );
    });
  });
});
