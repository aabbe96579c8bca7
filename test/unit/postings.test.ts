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
  it.each(
    MOVEMENT_TYPES.filter(
      (type) => !['reversed', null].includes(MOVEMENT_RULES[type].systemAccount),
    ),
  )('a posted %s line is balanced by its system account: its postings sum to zero', (type) => {
    const postings = postingsOf(line(type, 250));
    expect(postings).toHaveLength(2);
    expect(sum(postings)).toBe(0);
  });

  it('a fee is a third leg: the customer pays amount + fee, clearing gets the amount, revenue the fee', () => {
    for (const type of ['WITHDRAWAL', 'PAYOUT'] as const) {
      expect(postingsOf({ ...line(type, 1000, 'POSTED'), fee: 25 })).toEqual([
        { account: { customer: 'A' }, amount: -1025 },
        { account: { system: 'clearing' }, amount: 1000 },
        { account: { system: 'revenue' }, amount: 25 },
      ]);
    }
    expect(postingsOf({ ...line('PAYOUT', 1000, 'VOIDED'), fee: 25 })).toEqual([]);
  });

  it("a reversal flips the original's legs against the original's system account", () => {
    const reversal = (type: MovementType, reversedType: MovementType) => ({
      ...line(type, 60),
      reversedType,
    });
    expect(postingsOf(reversal('REVERSAL_OUT', 'DEPOSIT'))).toEqual([
      { account: { customer: 'A' }, amount: -60 },
      { account: { system: 'funding' }, amount: 60 },
    ]);
    expect(postingsOf(reversal('REVERSAL_IN', 'WITHDRAWAL'))).toEqual([
      { account: { customer: 'A' }, amount: 60 },
      { account: { system: 'clearing' }, amount: -60 },
    ]);
    expect(postingsOf(reversal('REVERSAL_IN', 'PAYOUT'))).toEqual([
      { account: { customer: 'A' }, amount: 60 },
      { account: { system: 'clearing' }, amount: -60 },
    ]);
    // A transfer's reversal, like the transfer, balances customer against customer.
    const transfer = [
      ...postingsOf(reversal('REVERSAL_IN', 'TRANSFER_OUT')),
      ...postingsOf(reversal('REVERSAL_OUT', 'TRANSFER_IN')),
    ];
    expect(transfer.every((p) => 'customer' in p.account)).toBe(true);
    expect(sum(transfer)).toBe(0);
  });

  it('a reversal line that names nothing reversed posts no system leg, so Σ ≠ 0 shows it', () => {
    expect(postingsOf(line('REVERSAL_IN', 60))).toEqual([
      { account: { customer: 'A' }, amount: 60 },
    ]);
  });

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
