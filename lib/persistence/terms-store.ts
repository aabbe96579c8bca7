import { GetCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  TransientStoreError,
  type AccountStore,
  type StoredFees,
  type StoredLimits,
  type TermsStore,
} from '../domain/ports';
import type { ControlChange } from '../domain/types';
import { controlRecordPut } from './control-store';
import { accountKey, feesKey, limitCounterKey, limitsKey } from './keys';
import { guarded, translateError } from './store-errors';
import { batchGetAll, type TableRef } from './table-ref';

type Key = { pk: string; sk: string };

/**
 * An account's terms (lib/domain/terms.ts): the version on the account item, inside every
 * withdrawal's own condition; the fee schedule and the limits override, each with its last
 * change, in items of their own (`CONTROL#<account>` / `FEES`, `LIMITS`), so the account item
 * stays under 1 KB whatever they hold. Every change also joins the account's control records.
 */
export function dynamoTermsStore(
  table: TableRef,
  accounts: Pick<AccountStore, 'getAccount'>,
): TermsStore {
  const get = async (key: Key) =>
    (
      await guarded(() =>
        table.db.send(new GetCommand({ TableName: table.name, Key: key, ConsistentRead: true })),
      )
    ).Item;

  /** The next terms version, on condition that the account is still at the one read. */
  const setTerms = async (
    accountId: string,
    item: { key: Key; fields: Record<string, unknown> },
    change: ControlChange & { id: string },
    action: string,
    detail: Record<string, unknown>,
  ): Promise<number | null> => {
    const account = await accounts.getAccount(accountId);
    if (account === null) return null;
    const current = account.termsVersion ?? 0;
    const { id: _id, ...changed } = change;
    try {
      await table.db.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Update: {
                TableName: table.name,
                Key: accountKey(accountId),
                UpdateExpression: 'SET termsVersion = :next',
                ConditionExpression:
                  current === 0 ? 'attribute_not_exists(termsVersion)' : 'termsVersion = :current',
                ExpressionAttributeValues: {
                  ':next': current + 1,
                  ...(current === 0 ? {} : { ':current': current }),
                },
              },
            },
            {
              Put: {
                TableName: table.name,
                Item: { ...item.key, version: current + 1, ...item.fields, ...changed },
              },
            },
            controlRecordPut(table, accountId, change, action, detail),
          ],
        }),
      );
    } catch (error) {
      // Another change got there first: the domain tries again on the version it made.
      if (error instanceof TransactionCanceledException) {
        throw new TransientStoreError('conflict', { cause: error });
      }
      return translateError(error);
    }
    return current + 1;
  };

  return {
    async getFees(accountId) {
      return feesOf(await get(feesKey(accountId)));
    },

    async setFees(accountId, schedule, change) {
      const item = { key: feesKey(accountId), fields: { schedule } };
      const version = await setTerms(accountId, item, change, 'SET_FEES', { fees: schedule });
      if (version === null) return null;
      const { id: _id, ...changed } = change;
      return { version, schedule, changed };
    },

    async getLimits(accountId) {
      return limitsOf(await get(limitsKey(accountId)));
    },

    async setLimits(accountId, limits, change) {
      // `limits` in the item is the change's (all of them, after it); the override is what was set.
      const item = { key: limitsKey(accountId), fields: { override: limits } };
      const version = await setTerms(accountId, item, change, 'SET_LIMITS', {
        previous: change.previous,
        limits: change.limits,
      });
      if (version === null) return null;
      const { id: _id, ...changed } = change;
      return { version, limits, changed };
    },

    /** Both items in one BatchGetItem; the version in force is the later one's. */
    async getTerms(accountId) {
      const items = await batchGetAll(table, [feesKey(accountId), limitsKey(accountId)]);
      const fees = feesOf(items.find((item) => item.sk === 'FEES'));
      const limits = limitsOf(items.find((item) => item.sk === 'LIMITS'));
      return {
        version: Math.max(fees?.version ?? 0, limits?.version ?? 0),
        fees: fees?.schedule ?? {},
        limits: limits?.limits ?? {},
      };
    },

    async getLimitUsed(accountId, day) {
      return Number((await get(limitCounterKey(accountId, day)))?.used ?? 0);
    },
  };
}

const changeOf = (item: Record<string, unknown>): ControlChange => ({
  by: String(item.by),
  at: String(item.at),
  reason: String(item.reason),
});

function feesOf(item: Record<string, unknown> | undefined): StoredFees | null {
  if (item === undefined) return null;
  return {
    version: Number(item.version),
    schedule: item.schedule as StoredFees['schedule'],
    changed: changeOf(item),
  };
}

function limitsOf(item: Record<string, unknown> | undefined): StoredLimits | null {
  if (item === undefined) return null;
  return {
    version: Number(item.version),
    limits: item.override as StoredLimits['limits'],
    changed: {
      ...changeOf(item),
      previous: item.previous as StoredLimits['changed']['previous'],
      limits: item.limits as StoredLimits['changed']['limits'],
    },
  };
}
