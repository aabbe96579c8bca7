import { MOVEMENT_TYPES, ruleOf } from './movement-types';
import {
  TransientStoreError,
  type LineFigures,
  type LineKind,
  type MovementTotals,
  type PlacedLine,
  type StatementLine,
  type StatementStore,
  type StoredLine,
} from './ports';

/**
 * The running figures of an account's statement (docs/statements.md). Each line carries, through
 * itself: the instant it counts at (`postedAt`), what each type of movement moved and the fees
 * charged. The sequencer derives a line's figures from the previous line's, as the account item
 * derives `balanceAfter`, so a period's totals are the difference of two lines' figures and a
 * balance at an instant is one line's `balanceAfter`, whatever the history's length.
 *
 * `postedAt` is the instant of the account's change (`committedAt`: a movement's `createdAt`,
 * stamped before its transaction; a payout's post or void, not its request) unless the previous
 * line's is later: two movements stamped close together can commit in the other order, and
 * instants must not go back along the commit order, or a statement's opening balance plus its
 * lines would not make its closing balance.
 */
export function nextFigures(previous: LineFigures | null, line: StatementLine): LineFigures {
  const committedAt = line.committedAt ?? line.createdAt;
  const postedAt =
    previous !== null && previous.postedAt > committedAt ? previous.postedAt : committedAt;
  const totalsAfter: MovementTotals = { ...previous?.totalsAfter };
  let feesAfter = previous?.feesAfter ?? 0;
  if (line.status === 'POSTED') {
    totalsAfter[line.type] = (totalsAfter[line.type] ?? 0) + line.amount;
    feesAfter += line.fee ?? 0;
  }
  return { postedAt, totalsAfter, feesAfter };
}

/** The lines with their figures, in sequence order, from the figures of the line before them. */
export function withFigures(previous: LineFigures | null, lines: StatementLine[]): PlacedLine[] {
  const placed: PlacedLine[] = [];
  let figures = previous;
  for (const { committedAt, ...line } of [...lines].sort((a, b) => a.sequence - b.sequence)) {
    figures = nextFigures(figures, { ...line, ...(committedAt ? { committedAt } : {}) });
    placed.push({ ...line, ...figures });
  }
  return placed;
}

export const hasFigures = (line: StoredLine): line is PlacedLine =>
  line.postedAt !== undefined && line.totalsAfter !== undefined && line.feesAfter !== undefined;

/** What the lines after `opening` through `closing` moved: the difference of their figures. */
export function figuresBetween(
  opening: LineFigures | null,
  closing: LineFigures | null,
): { totals: MovementTotals; fees: number } {
  const totals: MovementTotals = {};
  for (const type of MOVEMENT_TYPES) {
    const moved = (closing?.totalsAfter[type] ?? 0) - (opening?.totalsAfter[type] ?? 0);
    if (moved !== 0) totals[type] = moved;
  }
  return { totals, fees: (closing?.feesAfter ?? 0) - (opening?.feesAfter ?? 0) };
}

/**
 * The kinds of line a statement holds: every type posted, and voided for the types that hold
 * first (a payout's hold writes no line; its post or void does). One history index partition each.
 */
export const LINE_KINDS: LineKind[] = MOVEMENT_TYPES.flatMap((type) =>
  ruleOf(type).holdsFirst
    ? [
        { type, status: 'POSTED' as const },
        { type, status: 'VOIDED' as const },
      ]
    : [{ type, status: 'POSTED' as const }],
);

/** Lines read at once while completing an older statement. */
const COMPLETION_PAGE = 100;

/**
 * The figures of the line before `line`: read (one strongly consistent read), or completed first
 * when that line was written before figures existed. A missing line is a chunk the stream has not
 * delivered yet (after a restart, another shard may deliver it later): tried again after it.
 */
export async function figuresBefore(
  store: Pick<StatementStore, 'readStatement' | 'listStatement' | 'setLineFigures'>,
  line: StatementLine,
): Promise<LineFigures | null> {
  if (line.sequence <= 1) return null;
  const [previous] = await store.readStatement(
    line.accountId,
    line.sequence - 1,
    1,
    line.sequence - 1,
  );
  if (previous === undefined) throw new TransientStoreError('conflict');
  if (hasFigures(previous)) return previous;
  return completeFigures(store, line.accountId, line.sequence - 1);
}

/**
 * Completes an account's statement through its line `through` (its version), once, for lines
 * written before figures existed: the sequencer does it when the account next moves, this for
 * accounts that may not move again (`npm run complete-statements`, and `npm start` on its data).
 * Returns whether there was anything to complete.
 */
export async function completeStatement(
  store: Pick<StatementStore, 'readStatement' | 'listStatement' | 'setLineFigures'>,
  accountId: string,
  through: number,
): Promise<boolean> {
  if (through < 1) return false;
  const [last] = await store.readStatement(accountId, through, 1, through);
  // Not written yet: the sequencer will, with figures.
  if (last === undefined || hasFigures(last)) return false;
  await completeFigures(store, accountId, through);
  return true;
}

/**
 * Gives figures to an account's lines written before they existed, up to `through`: back from
 * there to the last line that has them (or the first line), then forward a page at a time. Once
 * per account; an interrupted run goes on from where it stopped.
 */
async function completeFigures(
  store: Pick<StatementStore, 'readStatement' | 'listStatement' | 'setLineFigures'>,
  accountId: string,
  through: number,
): Promise<LineFigures> {
  let figures = await lastFiguresBelow(store, accountId, through);
  let next = figures === null ? 1 : figures.sequence + 1;
  while (next <= through) {
    const page = await store.readStatement(accountId, next, COMPLETION_PAGE, through);
    if (page[0]?.sequence !== next)
      throw new Error(`statement of ${accountId} has a gap at ${next}`);
    const placed = withFigures(figures, page);
    await store.setLineFigures(placed);
    figures = placed[placed.length - 1] ?? figures;
    next += page.length;
  }
  if (figures === null) throw new Error(`statement of ${accountId} has no line ${through}`);
  return figures;
}

async function lastFiguresBelow(
  store: Pick<StatementStore, 'listStatement'>,
  accountId: string,
  below: number,
): Promise<PlacedLine | null> {
  let before = below;
  while (before > 1) {
    const lines = (await store.listStatement(accountId, COMPLETION_PAGE, before)).slice(
      0,
      COMPLETION_PAGE,
    ) as StoredLine[];
    const found = lines.find(hasFigures);
    if (found !== undefined) return found;
    const oldest = lines[lines.length - 1];
    if (oldest === undefined) return null;
    before = oldest.sequence;
  }
  return null;
}
