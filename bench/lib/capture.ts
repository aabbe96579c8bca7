import type { AttributeValue, DynamoDBClient } from '@aws-sdk/client-dynamodb';

/** A command as it leaves the SDK: marshalled input (raw AttributeValues). */
export interface CapturedCommand {
  command: string;
  input: Record<string, unknown>;
}

const NAME = 'benchCapture';

/** Records every command a client sends, until detached. */
export function captureCommands(client: Pick<DynamoDBClient, 'middlewareStack'>): {
  take(): CapturedCommand[];
  detach(): void;
} {
  let captured: CapturedCommand[] = [];
  client.middlewareStack.add(
    (next, context) => async (args) => {
      captured.push({
        command: (context.commandName ?? 'unknown').replace(/Command$/, ''),
        input: structuredClone(args.input) as Record<string, unknown>,
      });
      return next(args);
    },
    { step: 'build', name: NAME, override: true },
  );
  return {
    take: () => {
      const taken = captured;
      captured = [];
      return taken;
    },
    detach: () => {
      client.middlewareStack.remove(NAME);
    },
  };
}

/** The type of every attribute, recursively: `name:S`, `lastMovement.amount:N`, ... */
function types(map: Record<string, AttributeValue> | undefined, prefix = ''): string[] {
  return Object.entries(map ?? {}).flatMap(([name, value]) => {
    const type =
      Object.entries(value as unknown as Record<string, unknown>).find(
        ([, v]) => v !== undefined,
      )?.[0] ?? '?';
    return type === 'M' && value.M
      ? types(value.M, `${prefix}${name}.`)
      : [`${prefix}${name}:${type}`];
  });
}

/** The constant part of a key: `ACCOUNT#<id>` -> `ACCOUNT#`. */
function keyShape(key: Record<string, AttributeValue> | undefined, names: string[]): string {
  return names
    .map((name) => {
      const value = key?.[name]?.S ?? '';
      return `${name}=${value.includes('#') ? `${value.split('#')[0] ?? ''}#…` : /^[0-9A-Z]{26}$/.test(value) ? '<ulid>' : value}`;
    })
    .join(',');
}

/**
 * What a command does, without its values: one line per property (expressions, attribute
 * names and types, key shapes, options). Two withdrawals with different ids and amounts give
 * the same lines; a changed condition or a new attribute does not.
 */
export function shapeOf(captured: CapturedCommand[]): string[] {
  return captured.flatMap((c, index) => {
    const head = `${index + 1} ${c.command}`;
    const input = c.input;
    if (c.command === 'TransactWriteItems') {
      const items = input.TransactItems as Array<
        Record<string, Record<string, unknown> | undefined>
      >;
      return items.flatMap((entry, i) => {
        const [action, body] = Object.entries(entry).find(([, v]) => v !== undefined) ?? ['?', {}];
        const b = body ?? {};
        const at = `${head} item ${i + 1} ${action}`;
        const key = (b.Key ?? b.Item) as Record<string, AttributeValue> | undefined;
        return [
          `${at} table=${String(b.TableName)}`,
          `${at} key ${keyShape(key, ['pk', 'sk'])}`,
          `${at} UpdateExpression=${String(b.UpdateExpression ?? '')}`,
          `${at} ConditionExpression=${String(b.ConditionExpression ?? '')}`,
          `${at} ReturnValuesOnConditionCheckFailure=${String(b.ReturnValuesOnConditionCheckFailure ?? '')}`,
          ...types(b.ExpressionAttributeValues as Record<string, AttributeValue> | undefined).map(
            (t) => `${at} value ${t}`,
          ),
          ...types(b.Item as Record<string, AttributeValue> | undefined).map(
            (t) => `${at} attribute ${t}`,
          ),
        ];
      });
    }
    const key = input.Key as Record<string, AttributeValue> | undefined;
    return [
      `${head} table=${String(input.TableName)}`,
      `${head} key ${keyShape(key, ['pk', 'sk'])}`,
      `${head} ConsistentRead=${String(input.ConsistentRead ?? false)}`,
      ...Object.keys(input)
        .filter((k) => !['TableName', 'Key', 'ConsistentRead'].includes(k))
        .sort()
        .map((k) => `${head} option ${k}`),
    ];
  });
}
