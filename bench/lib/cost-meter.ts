import {
  GetItemCommand,
  QueryCommand,
  type AttributeValue,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { itemSizeBytes } from '../../lib/persistence/item-size';

/**
 * Counts what a client asks of DynamoDB, and what DynamoDB would bill for it.
 *
 * - Commands are counted once each (build step); HTTP attempts once per try, SDK retries
 *   included (deserialize step).
 * - Units are computed from item sizes (lib/persistence/item-size.ts), since DynamoDB Local's
 *   ConsumedCapacity is not DynamoDB's. Every item a write touches is read (strongly
 *   consistent, through a separate client that is not counted) just before and just after the
 *   command, so the size billed is exact: the larger of the item before and after.
 *
 * Billing rules applied (DynamoDB on-demand / provisioned units):
 * - plain write (PutItem, UpdateItem, DeleteItem, each BatchWriteItem request): 1 WCU per
 *   started KB of the larger of the item before and after; a write whose condition fails
 *   changes nothing and still costs 1 WCU per started KB of the existing item (minimum 1);
 * - transactional write: 2 WCU per started KB per item (minimum 2 per item); a cancelled
 *   TransactWriteItems is charged the same for every item it names, at the item's existing
 *   size (DynamoDB prepares every item and checks every condition before it can cancel: we
 *   count the whole prepare as billed — an upper bound, applied alike to both designs);
 * - a global secondary index: a write that puts an item carrying the index's key into it, takes it
 *   out, or changes it in place costs 1 WCU more per started KB of the item (the projection is at
 *   most the item: an upper bound); 2 when it moves the item from one index key to another. Not
 *   doubled in a transaction;
 * - strongly consistent read: 1 RCU per started 4 KB (GetItem per item, also when the item
 *   is absent; Query per started 4 KB of all items read, minimum 1); eventually consistent: half.
 */
export interface MeteredItem {
  table: string;
  key: string;
  action: string;
  /** Bytes before and after (reads: the item's size in both). 0: no item. */
  before: number;
  after: number;
  /** All of it, the indexes' writes included. */
  wcu: number;
  /** Of `wcu`, what the table's global secondary indexes cost. */
  indexWcu: number;
  rcu: number;
}

export interface MeteredCall {
  command: string;
  attempts: number;
  outcome: string;
  wcu: number;
  rcu: number;
  items: MeteredItem[];
}

type Item = Record<string, AttributeValue>;
type Input = Record<string, unknown>;
interface Target {
  table: string;
  key: Item;
  action: string;
  transactional: boolean;
}

const KB = 1024;
const startedKb = (bytes: number): number => Math.max(1, Math.ceil(bytes / KB));
const started4Kb = (bytes: number): number => Math.max(1, Math.ceil(bytes / (4 * KB)));
const NAME = 'benchCostMeter';
const ATTEMPTS = 'benchCostMeterAttempts';

export class CostMeter {
  private calls: MeteredCall[] = [];
  private readonly live = new WeakMap<object, MeteredCall>();

  constructor(
    /** Uncounted client used for the before/after lookups. */
    private readonly shadow: DynamoDBClient,
    private readonly keySchemas: Record<string, string[]>,
    /** Per table, the partition key attribute of each global secondary index. */
    private readonly indexKeys: Record<string, string[]> = {},
  ) {}

  /** Adds the meter to a client's middleware stack (shared with DocumentClients made from it). */
  attach(client: Pick<DynamoDBClient, 'middlewareStack'>): () => void {
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const call: MeteredCall = {
          command: (context.commandName ?? 'unknown').replace(/Command$/, ''),
          attempts: 0,
          outcome: 'ok',
          wcu: 0,
          rcu: 0,
          items: [],
        };
        this.live.set(context, call);
        const input = args.input as Input;
        const targets = this.writeTargets(call.command, input);
        const before = await Promise.all(targets.map((t) => this.itemOf(t.table, t.key)));
        try {
          return await next(args);
        } catch (error) {
          call.outcome = error instanceof Error ? error.name : 'error';
          throw error;
        } finally {
          const after = await Promise.all(targets.map((t) => this.itemOf(t.table, t.key)));
          targets.forEach((target, i) => {
            const b = sizeOfItem(before[i]);
            const a = sizeOfItem(after[i]);
            const units = startedKb(Math.max(a, b));
            const indexWcu = this.indexWrites(target.table, before[i], after[i]) * units;
            call.items.push({
              table: target.table,
              key: this.describeKey(target.key),
              action: target.action,
              before: b,
              after: a,
              wcu: (target.transactional ? 2 * units : units) + indexWcu,
              indexWcu,
              rcu: 0,
            });
          });
          call.items.push(...(await this.reads(call.command, input)));
          call.wcu = call.items.reduce((sum, item) => sum + item.wcu, 0);
          call.rcu = call.items.reduce((sum, item) => sum + item.rcu, 0);
          this.calls.push(call);
        }
      },
      { step: 'build', name: NAME, override: true },
    );
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const call = this.live.get(context);
        if (call) call.attempts += 1;
        return next(args);
      },
      { step: 'deserialize', name: ATTEMPTS, override: true },
    );
    return () => {
      client.middlewareStack.remove(NAME);
      client.middlewareStack.remove(ATTEMPTS);
    };
  }

  /** The calls recorded since the last take(), in completion order. */
  take(): MeteredCall[] {
    const calls = this.calls;
    this.calls = [];
    return calls;
  }

  private keyOf(table: string, item: Item): Item {
    const names = this.keySchemas[table];
    if (!names) throw new Error(`cost meter: no key schema for table ${table}`);
    return Object.fromEntries(
      names.map((name) => {
        const value = item[name];
        if (value === undefined) throw new Error(`cost meter: item without key ${name}`);
        return [name, value];
      }),
    );
  }

  private describeKey(key: Item): string {
    return Object.values(key)
      .map((v) => v.S ?? v.N ?? '?')
      .join(' | ');
  }

  private writeTargets(command: string, input: Input): Target[] {
    const table = input.TableName as string | undefined;
    switch (command) {
      case 'PutItem':
        return [
          {
            table: table ?? '',
            key: this.keyOf(table ?? '', input.Item as Item),
            action: 'Put',
            transactional: false,
          },
        ];
      case 'UpdateItem':
      case 'DeleteItem':
        return [
          {
            table: table ?? '',
            key: input.Key as Item,
            action: command.replace('Item', ''),
            transactional: false,
          },
        ];
      case 'TransactWriteItems':
        return (input.TransactItems as Array<Record<string, Input | undefined>>).map((entry) => {
          const [action, body] = Object.entries(entry).find(([, v]) => v !== undefined) ?? [];
          if (action === undefined || body === undefined) throw new Error('empty TransactItem');
          const itemTable = body.TableName as string;
          const key =
            action === 'Put' ? this.keyOf(itemTable, body.Item as Item) : (body.Key as Item);
          return { table: itemTable, key, action, transactional: true };
        });
      case 'BatchWriteItem':
        return Object.entries(
          input.RequestItems as Record<
            string,
            Array<{ PutRequest?: { Item: Item }; DeleteRequest?: { Key: Item } }>
          >,
        ).flatMap(([itemTable, requests]) =>
          requests.map((request) =>
            request.PutRequest
              ? {
                  table: itemTable,
                  key: this.keyOf(itemTable, request.PutRequest.Item),
                  action: 'BatchPut',
                  transactional: false,
                }
              : {
                  table: itemTable,
                  key: request.DeleteRequest?.Key ?? {},
                  action: 'BatchDelete',
                  transactional: false,
                },
          ),
        );
      default:
        return [];
    }
  }

  private async reads(command: string, input: Input): Promise<MeteredItem[]> {
    const factor = (consistent: unknown): number => (consistent === true ? 1 : 0.5);
    if (command === 'GetItem') {
      const table = input.TableName as string;
      const size = await this.sizeOf(table, input.Key as Item);
      return [
        {
          table,
          key: this.describeKey(input.Key as Item),
          action: 'Get',
          before: size,
          after: size,
          wcu: 0,
          indexWcu: 0,
          rcu: started4Kb(size) * factor(input.ConsistentRead),
        },
      ];
    }
    if (command === 'Query') {
      const result = await this.shadow.send(new QueryCommand(structuredClone(input) as never));
      const bytes = (result.Items ?? []).reduce((sum, item) => sum + itemSizeBytes(item), 0);
      return [
        {
          table: input.TableName as string,
          key: `${result.Items?.length ?? 0} items`,
          action: 'Query',
          before: bytes,
          after: bytes,
          wcu: 0,
          indexWcu: 0,
          rcu: started4Kb(bytes) * factor(input.ConsistentRead),
        },
      ];
    }
    if (command === 'BatchGetItem') {
      const requests = input.RequestItems as Record<
        string,
        { Keys: Item[]; ConsistentRead?: boolean }
      >;
      const items: MeteredItem[] = [];
      for (const [table, request] of Object.entries(requests)) {
        for (const key of request.Keys) {
          const size = await this.sizeOf(table, key);
          items.push({
            table,
            key: this.describeKey(key),
            action: 'BatchGet',
            before: size,
            after: size,
            wcu: 0,
            indexWcu: 0,
            rcu: started4Kb(size) * factor(request.ConsistentRead),
          });
        }
      }
      return items;
    }
    return [];
  }

  private async sizeOf(table: string, key: Item): Promise<number> {
    return sizeOfItem(await this.itemOf(table, key));
  }

  private async itemOf(table: string, key: Item): Promise<Item | undefined> {
    const result = await this.shadow.send(
      new GetItemCommand({ TableName: table, Key: key, ConsistentRead: true }),
    );
    return result.Item;
  }

  /** Index writes of one item write, before and after it (see the billing rules above). */
  private indexWrites(table: string, before: Item | undefined, after: Item | undefined): number {
    // A write that changed nothing (its condition failed) leaves the indexes alone.
    if (before !== undefined && after !== undefined && sameItem(before, after)) return 0;
    let writes = 0;
    for (const attribute of this.indexKeys[table] ?? []) {
      const was = before?.[attribute]?.S;
      const is = after?.[attribute]?.S;
      if (was !== undefined && is !== undefined) writes += was === is ? 1 : 2;
      else if (was !== undefined || is !== undefined) writes += 1;
    }
    return writes;
  }
}

const sizeOfItem = (item: Item | undefined): number => (item ? itemSizeBytes(item) : 0);

const sameItem = (a: Item, b: Item): boolean => {
  const sorted = (item: Item) =>
    JSON.stringify(Object.entries(item).sort(([x], [y]) => x.localeCompare(y)));
  return sorted(a) === sorted(b);
};

/** Sums of a set of calls. */
export interface CostTotals {
  commands: number;
  attempts: number;
  wcu: number;
  rcu: number;
  byCommand: Record<string, number>;
}

export function totals(calls: MeteredCall[]): CostTotals {
  const byCommand: Record<string, number> = {};
  for (const call of calls) byCommand[call.command] = (byCommand[call.command] ?? 0) + 1;
  return {
    commands: calls.length,
    attempts: calls.reduce((sum, call) => sum + call.attempts, 0),
    wcu: calls.reduce((sum, call) => sum + call.wcu, 0),
    rcu: calls.reduce((sum, call) => sum + call.rcu, 0),
    byCommand,
  };
}
