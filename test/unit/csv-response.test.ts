/**
 * The CSV answer (lib/middleware/csv-response.ts): chosen by Accept, JSON staying the default;
 * gzip-compressed when the request allows it; refused with EXPORT_TOO_LARGE before it passes
 * what AWS Lambda can answer, without reading the rest of the source.
 */
import { createGzip, gunzipSync } from 'node:zlib';
import { pipeline } from 'node:stream/promises';
import { randomBytes } from 'node:crypto';
import { encodeTime } from 'ulid';
import { ExportTooLargeError } from '../../lib/domain/errors';
import { statementCsv, type StatementCsvLine } from '../../lib/domain/statement-csv';
import {
  csvResponse,
  LAMBDA_BODY_ROOM_BYTES,
  MAX_PLAIN_CSV_BYTES,
  wantsCsv,
} from '../../lib/middleware/csv-response';

const MiB = 1024 * 1024;

async function* textOf(...chunks: string[]): AsyncGenerator<string> {
  yield* chunks;
}

/** An endless source of `make()` chunks that records how many were read and whether it was ended. */
function recordingSource(make: () => string) {
  const state = { pulled: 0, closed: false };
  async function* chunks(): AsyncGenerator<string> {
    try {
      for (;;) {
        state.pulled += 1;
        yield make();
      }
    } finally {
      state.closed = true;
    }
  }
  return { state, chunks: chunks() };
}

type Answer = Awaited<ReturnType<typeof csvResponse>>;

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

describe('csvResponse', () => {
  const text = 'a,b\r\n"x, y",é☕\r\n';

  it('answers the text as an attachment that no one caches', async () => {
    const result = await csvResponse(textOf('a,b\r\n', '"x, y",é☕\r\n'), {
      headers: {},
      filename: 'statement-2025-03.csv',
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
    const result = await csvResponse(textOf(text), {
      headers: {},
      filename: 'a "b"\r\nc;d/é.csv',
    });
    expect(result.headers?.['content-disposition']).toBe('attachment; filename="a__b___c_d__.csv"');
  });

  it.each(['gzip', 'gzip, deflate, br, zstd', 'br;q=1, gzip;q=0.5', '*'])(
    'compresses with gzip for Accept-Encoding %j, and the body unzips to the text',
    async (acceptEncoding) => {
      const result = await csvResponse(textOf('a,b\r\n', '"x, y",é☕\r\n'), {
        headers: { 'accept-encoding': acceptEncoding },
        filename: 'x.csv',
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
      const result = await csvResponse(textOf(text), {
        headers: { 'accept-encoding': acceptEncoding },
        filename: 'x.csv',
      });
      expect(result.isBase64Encoded).toBeUndefined();
      expect(result.headers?.['content-encoding']).toBeUndefined();
      expect(result.body).toBe(text);
    },
  );

  it('answers a plain CSV of 5 MiB', async () => {
    const line = `${'x'.repeat(1022)}\r\n`;
    const chunk = line.repeat(1024);
    const result = await csvResponse(textOf(...Array.from({ length: 5 }, () => chunk)), {
      headers: {},
      filename: 'x.csv',
    });
    expect(Buffer.byteLength(result.body ?? '')).toBe(MAX_PLAIN_CSV_BYTES);
  });

  it('refuses a plain CSV above 5 MiB and stops reading its source', async () => {
    const { state, chunks } = recordingSource(() => 'y'.repeat(MiB));
    await expect(csvResponse(chunks, { headers: {}, filename: 'x.csv' })).rejects.toThrow(
      ExportTooLargeError,
    );
    expect(state.pulled).toBe(6);
    expect(state.closed).toBe(true);
  });

  it('refuses a plain CSV under 5 MiB whose escaped JSON Lambda could not send', async () => {
    // Quotes double in a CSV field, and each becomes \" in the JSON of Lambda's answer.
    const { state, chunks } = recordingSource(() => '"'.repeat(MiB / 2));
    await expect(csvResponse(chunks, { headers: {}, filename: 'x.csv' })).rejects.toThrow(
      ExportTooLargeError,
    );
    expect(state.pulled * (MiB / 2)).toBeLessThan(MAX_PLAIN_CSV_BYTES);
    expect(state.closed).toBe(true);
  });

  it('refuses a gzip answer whose base64 Lambda could not send, and stops reading its source', async () => {
    // Random hex: gzip can only halve it, so about 12 MiB of text passes the cap.
    const { state, chunks } = recordingSource(() => randomBytes(MiB / 4).toString('hex'));
    const answer = csvResponse(chunks, {
      headers: { 'accept-encoding': 'gzip' },
      filename: 'x.csv',
    });
    await expect(answer).rejects.toThrow(ExportTooLargeError);
    await expect(answer).rejects.toThrow(/even compressed/);
    expect(state.closed).toBe(true);
    // 24 chunks reach the cap; a few more is what gzip holds before its output shows it.
    expect(state.pulled).toBeLessThan(30);
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
      async function* pages(): AsyncGenerator<StatementCsvLine[]> {
        for (let first = 1; first <= lines; first += perPage) {
          counts.read += 1;
          // With node --expose-gc the peak is what is kept, not what is yet to be collected.
          (globalThis as { gc?: () => void }).gc?.();
          counts.peakMemory = Math.max(counts.peakMemory, memoryInUse());
          yield Array.from({ length: Math.min(perPage, lines - first + 1) }, (_, index) =>
            statementLine(first + index),
          );
        }
      }
      return { counts, pages: pages() };
    }

    const mib = (bytes: number) => `${(bytes / MiB).toFixed(2)} MiB`;

    it('gets 60,000 lines in one gzip answer, read page by page', async () => {
      (globalThis as { gc?: () => void }).gc?.();
      const baseline = memoryInUse();
      const { counts, pages } = statement(60_000);
      const result = await csvResponse(statementCsv(pages), {
        headers: { 'accept-encoding': 'gzip' },
        filename: 'statement.csv',
      });
      const base64Bytes = (result.body ?? '').length;
      const text = bodyText(result);
      expect(text.split('\r\n').length - 1).toBe(60_001);
      expect(base64Bytes).toBeLessThanOrEqual(LAMBDA_BODY_ROOM_BYTES);
      // Figures to read, not bounds.
      console.info(
        `60,000 lines: ${mib(Buffer.byteLength(text))} of CSV, ${mib(base64Bytes)} of gzip ` +
          `in base64 (room ${mib(LAMBDA_BODY_ROOM_BYTES)}); memory growth while streaming ` +
          `${mib(counts.peakMemory - baseline)}`,
      );
    });

    it('is refused 100,000 lines, which no Lambda answer carries even gzipped', async () => {
      // What the whole would come to: the same lines through gzip, outside the answer.
      let zipped = 0;
      await pipeline(statementCsv(statement(100_000).pages), createGzip(), async (parts) => {
        for await (const part of parts as AsyncIterable<Buffer>) zipped += part.length;
      });
      const base64Bytes = 4 * Math.ceil(zipped / 3);
      console.info(
        `100,000 lines: ${mib(zipped)} of gzip, ${mib(base64Bytes)} in base64 ` +
          `(room ${mib(LAMBDA_BODY_ROOM_BYTES)})`,
      );
      expect(base64Bytes).toBeGreaterThan(LAMBDA_BODY_ROOM_BYTES);

      const { counts, pages } = statement(100_000);
      await expect(
        csvResponse(statementCsv(pages), {
          headers: { 'accept-encoding': 'gzip' },
          filename: 'statement.csv',
        }),
      ).rejects.toThrow(ExportTooLargeError);
      expect(counts.read).toBeLessThan(100);
    });
  });
});
