import { DETAILS_BOUNDS as B } from '../../lib/domain/details';
import type { MovementDetails } from '../../lib/domain/types';

/** Every detail of a movement exactly at its bound (lib/domain/details.ts), in its widest bytes. */
export const DETAILS_AT_BOUNDS: Required<MovementDetails> = {
  reference: `R ${'r'.repeat(B.referenceLength - 3)}~`,
  // 4 bytes of UTF-8 each: the description's 140 characters are code points.
  description: '\u{1F4B8}'.repeat(B.descriptionLength),
  metadata: Object.fromEntries(
    Array.from({ length: B.metadataEntries }, (_, i) => [
      `${i}._-`.padEnd(B.metadataKeyLength, 'K'),
      ' '.repeat(B.metadataValueLength - 1) + '~',
    ]),
  ),
};

/** Each detail one character (or one entry) past its bound, with the field it names. */
export const ONE_PAST_BOUNDS: Array<[what: string, field: string, details: MovementDetails]> = [
  [
    `a reference of ${B.referenceLength + 1} characters`,
    'reference',
    { reference: 'r'.repeat(B.referenceLength + 1) },
  ],
  [
    'a description of 141 characters',
    'description',
    { description: `${DETAILS_AT_BOUNDS.description}d` },
  ],
  ['metadata of 6 keys', 'metadata', { metadata: { ...DETAILS_AT_BOUNDS.metadata, extra: 'x' } }],
  [
    'a metadata key of 21 characters',
    'metadata',
    { metadata: { ['k'.repeat(B.metadataKeyLength + 1)]: 'v' } },
  ],
  [
    'a metadata value of 41 characters',
    'metadata',
    { metadata: { k: 'v'.repeat(B.metadataValueLength + 1) } },
  ],
];
