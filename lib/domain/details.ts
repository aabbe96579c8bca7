import * as z from 'zod/mini';
import type { MovementDetails } from './types';

/**
 * A movement's details: what a client may say about it, and how much (docs/double-entry.md).
 *
 * - `reference`: the client's own id, 1-36 printable ASCII characters (0x20-0x7E), spaces
 *   inside but not at either end. It rides on every item of the movement (the account's last
 *   movement, the entries, the line) and keys the lookup by reference.
 * - `description`: 1-140 characters, counted as Unicode code points; no control characters
 *   (C0, DEL, C1) and no lone surrogate. Up to 560 bytes of UTF-8.
 * - `metadata`: up to 5 entries; keys 1-20 characters of `A-Z a-z 0-9 _ . -`, values 0-40
 *   printable ASCII characters (so a value's bytes are its characters). An empty object is no
 *   metadata.
 *
 * The description and the metadata live in the movement's own details item, not on the account
 * item: with the longest Idempotency-Key, owner and destination, and the largest fee, the account
 * item has under 100 bytes to spare, and these take about 890; the reference's bound is what fits
 * (`test/unit/key-layout.test.ts` computes both).
 */
export const DETAILS_BOUNDS = {
  referenceLength: 36,
  descriptionLength: 140,
  metadataEntries: 5,
  metadataKeyLength: 20,
  metadataValueLength: 40,
} as const;

const B = DETAILS_BOUNDS;
const REFERENCE = new RegExp(
  `^[\\x21-\\x7E](?:[\\x20-\\x7E]{0,${B.referenceLength - 2}}[\\x21-\\x7E])?$`,
);
const METADATA_KEY = new RegExp(`^[A-Za-z0-9_.-]{1,${B.metadataKeyLength}}$`);
const METADATA_VALUE = new RegExp(`^[\\x20-\\x7E]{0,${B.metadataValueLength}}$`);
/** Control characters, and halves of a surrogate pair (which UTF-8 cannot store). */
const UNSTORABLE = /[\p{Cc}\p{Cs}]/u;

const codePoints = (text: string): number => [...text].length;

export const referenceSchema = z.string({ error: 'reference must be a string' }).check(
  z.regex(REFERENCE, {
    error: `reference must be 1-${B.referenceLength} printable ASCII characters, without a space at either end`,
  }),
);

const descriptionSchema = z.string({ error: 'description must be a string' }).check(
  z.refine((text) => codePoints(text) >= 1 && codePoints(text) <= B.descriptionLength, {
    error: `description must be 1-${B.descriptionLength} characters`,
  }),
  z.refine((text) => !UNSTORABLE.test(text), {
    error: 'description must not contain control characters',
  }),
);

const METADATA_KEYS_ERROR = `metadata keys must be 1-${B.metadataKeyLength} characters of A-Z, a-z, 0-9, _, . and -`;

const metadataRecord = z
  .record(
    z.string().check(z.regex(METADATA_KEY)),
    z.string({ error: 'metadata values must be strings' }).check(
      z.regex(METADATA_VALUE, {
        error: `metadata values must be at most ${B.metadataValueLength} printable ASCII characters`,
      }),
    ),
    {
      error: (issue) =>
        issue.code === 'invalid_key'
          ? METADATA_KEYS_ERROR
          : 'metadata must be an object of strings',
    },
  )
  .check(
    z.refine((map) => Object.keys(map).length <= B.metadataEntries, {
      error: `metadata must have at most ${B.metadataEntries} keys`,
    }),
  );

/** A key `__proto__` would be dropped by the parse (it names the prototype): refused instead. */
const metadataSchema = z.pipe(
  z
    .unknown()
    .check(
      z.refine(
        (raw) => !(typeof raw === 'object' && raw !== null && Object.hasOwn(raw, '__proto__')),
        { error: METADATA_KEYS_ERROR },
      ),
    ),
  metadataRecord,
);

/** The three optional fields of every money request's body. */
export const detailsFields = {
  reference: z.optional(referenceSchema),
  description: z.optional(descriptionSchema),
  metadata: z.optional(metadataSchema),
};

/** Only the details given: an absent field, or empty metadata, is no detail at all. */
export function detailsOf(given: MovementDetails): MovementDetails {
  const { reference, description, metadata } = given;
  return {
    ...(reference !== undefined ? { reference } : {}),
    ...(description !== undefined ? { description } : {}),
    ...(metadata !== undefined && Object.keys(metadata).length > 0 ? { metadata } : {}),
  };
}

/**
 * The details as a fingerprint sees them, or nothing when there are none (so a request without
 * details keeps the fingerprint it always had). Metadata in key order: the same map sent in
 * another order is the same request.
 */
export function detailsFingerprint(given: MovementDetails): unknown[] {
  const { reference, description, metadata } = detailsOf(given);
  if (reference === undefined && description === undefined && metadata === undefined) return [];
  const entries = metadata && Object.entries(metadata).sort(([a], [b]) => (a < b ? -1 : 1));
  return [
    { reference: reference ?? null, description: description ?? null, metadata: entries ?? null },
  ];
}
