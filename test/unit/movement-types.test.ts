import {
  MOVEMENT_RULES,
  MOVEMENT_TYPES,
  requestEffect,
  ruleOf,
  signOf,
} from '../../lib/domain/movement-types';
import { balanceEffect, type MovementType } from '../../lib/domain/types';
import { loadOpenApi, valueAt } from '../support/openapi';

/**
 * The movement types' table (lib/domain/movement-types.ts) is where a type is added: these
 * cases fail when the contract names a type without a row, or a row contradicts another.
 */
const rows = Object.entries(MOVEMENT_RULES) as [
  MovementType,
  (typeof MOVEMENT_RULES)[MovementType],
][];

describe('the movement types table', () => {
  it("has one row for each type of openapi.yaml's LedgerEntry, and no other", () => {
    const documented = valueAt(
      loadOpenApi(),
      '/components/schemas/LedgerEntry/properties/type/enum',
    );

    expect(Array.isArray(documented)).toBe(true);
    expect([...(documented as string[])].sort()).toEqual([...MOVEMENT_TYPES].sort());
  });

  it.each(rows.filter(([, rule]) => rule.counterparty !== null))(
    "names as %s's counterparty a type with a row, started by nobody or by the same initiator, moving money the other way",
    (_type, rule) => {
      const other = MOVEMENT_RULES[rule.counterparty as MovementType];

      expect(other).toBeDefined();
      // A reversal's other side (a transfer's destination) is also a reversal of its own.
      expect(['counterparty', rule.initiator]).toContain(other.initiator);
      expect(other.direction).not.toBe(rule.direction);
      expect(other.counterparty).toBeNull();
    },
  );

  it.each(rows.filter(([, rule]) => rule.initiator === 'counterparty'))(
    'reaches %s, started by nobody, as the counterparty of another type',
    (type) => {
      expect(rows.filter(([, rule]) => rule.counterparty === type)).toHaveLength(1);
    },
  );

  it('credits deposits, incoming transfers and refunding reversals; debits the others', () => {
    const credited = MOVEMENT_TYPES.filter((type) => balanceEffect({ type, amount: 1 }) > 0);
    const debited = MOVEMENT_TYPES.filter((type) => balanceEffect({ type, amount: 1 }) < 0);

    expect(credited.sort()).toEqual(['DEPOSIT', 'REVERSAL_IN', 'TRANSFER_IN']);
    expect(debited.sort()).toEqual(['PAYOUT', 'REVERSAL_OUT', 'TRANSFER_OUT', 'WITHDRAWAL']);
  });

  it('lets a fee schedule charge withdrawals and payouts only, with the amount', () => {
    expect(MOVEMENT_TYPES.filter((type) => ruleOf(type).feeable).sort()).toEqual([
      'PAYOUT',
      'WITHDRAWAL',
    ]);
    expect(balanceEffect({ type: 'WITHDRAWAL', amount: 100, fee: 7 })).toBe(-107);
  });

  it.each(rows)('signs %s by its direction, posted; a hold or a void moves nothing', (type) => {
    const sign = ruleOf(type).direction === 'in' ? 1 : -1;

    expect(signOf(type)).toBe(sign);
    expect(balanceEffect({ type, amount: 7 })).toBe(7 * sign);
    expect(balanceEffect({ type, amount: 7, status: 'POSTED' })).toBe(7 * sign);
    expect(balanceEffect({ type, amount: 7, status: 'PENDING' })).toBe(0);
    expect(balanceEffect({ type, amount: 7, status: 'VOIDED' })).toBe(0);
  });

  it.each(rows)("asks %s's account for the effect its row says", (type, rule) => {
    const expected = rule.holdsFirst ? 'hold' : rule.direction === 'in' ? 'credit' : 'debit';

    expect(requestEffect(type)).toBe(expected);
  });
});
