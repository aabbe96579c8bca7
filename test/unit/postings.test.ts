import { MOVEMENT_RULES, MOVEMENT_TYPES } from '../../lib/domain/movement-types';
import { postingsOf, systemAmounts } from '../../lib/domain/postings';
import type { EntryStatus, MovementType } from '../../lib/domain/types';

const line = (type: MovementType, amount: number, status?: EntryStatus) => ({
  accountId: 'A',
  type,
  amount,
  ...(status ? { status } : {}),
});
const sum = (postings: { amount: number }[]) => postings.reduce((s, p) => s + p.amount, 0);

describe('postings (double entry)', () => {
  it.each(MOVEMENT_TYPES.filter((type) => MOVEMENT_RULES[type].systemAccount !== null))(
    'a posted %s line is balanced by its system account: its postings sum to zero',
    (type) => {
      const postings = postingsOf(line(type, 250));
      expect(postings).toHaveLength(2);
      expect(sum(postings)).toBe(0);
    },
  );

  it("a transfer's two lines balance each other, with no system account", () => {
    const postings = [
      ...postingsOf(line('TRANSFER_OUT', 40)),
      ...postingsOf(line('TRANSFER_IN', 40)),
    ];
    expect(postings.map((p) => p.account)).toEqual([{ customer: 'A' }, { customer: 'A' }]);
    expect(sum(postings)).toBe(0);
  });

  it('a held or voided payout posts nothing; a posted one sends its amount to clearing', () => {
    expect(postingsOf(line('PAYOUT', 90, 'PENDING'))).toEqual([]);
    expect(postingsOf(line('PAYOUT', 90, 'VOIDED'))).toEqual([]);
    expect(postingsOf(line('PAYOUT', 90, 'POSTED'))).toEqual([
      { account: { customer: 'A' }, amount: -90 },
      { account: { system: 'clearing' }, amount: 90 },
    ]);
  });

  it('sums what each system account receives from a chunk of lines', () => {
    const lines = [line('DEPOSIT', 100), line('WITHDRAWAL', 30), line('TRANSFER_OUT', 5)];
    expect(systemAmounts(lines)).toEqual({ funding: -100, clearing: 30 });
  });
});
