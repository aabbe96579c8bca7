/**
 * `npm run audit`: checks every account of a running local stack straight from the table —
 * balance = statement lines + pending entries, the balanceAfter chain, sequence continuity,
 * no key or transaction moving money twice, markers agreeing with the ledger — prints the
 * drifting accounts and exits 1 if there is any (3 if some accounts kept moving and could not be
 * judged, 2 on a usage or connection error).
 *
 *   npm run audit                                  # DATA_DIR/stack.json (default .local/)
 *   npm run audit -- --data-dir /tmp/mm-stack-x    # another stack
 *   npm run audit -- --endpoint http://127.0.0.1:8000 --table money-movement-local
 *   npm run audit -- --json                        # the result as JSON on stdout
 *   npm run audit -- --region eu-west-1 --table money-movement-prod   # a deployed table (AWS credentials)
 *
 * It also writes test-artifacts/reliability/audit-<time>.{json,txt}.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { localDynamoDbClient } from '../local/dynamodb-local';
import { auditLedger, formatAudit } from '../lib/audit/ledger-audit';
import { writeReport } from '../lib/audit/report';

const DEFAULT_TABLE = 'money-movement-local';

function usage(message: string): never {
  console.error(`${message}
usage: npm run audit -- [--endpoint URL | --region REGION] [--table NAME] [--data-dir DIR] [--json]`);
  process.exit(2);
}

function parse(argv: string[]): {
  endpoint?: string;
  region?: string;
  table: string;
  dataDir: string;
  json: boolean;
} {
  const out = {
    endpoint: undefined as string | undefined,
    region: undefined as string | undefined,
    table: DEFAULT_TABLE,
    dataDir: process.env.DATA_DIR || '.local',
    json: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = (): string => {
      const next = argv[i + 1];
      if (next === undefined) usage(`${String(arg)} needs a value`);
      i += 1;
      return next;
    };
    if (arg === '--endpoint') out.endpoint = value();
    else if (arg === '--region') out.region = value();
    else if (arg === '--table') out.table = value();
    else if (arg === '--data-dir') out.dataDir = value();
    else if (arg === '--json') out.json = true;
    else usage(`unknown argument ${String(arg)}`);
  }
  return out;
}

/**
 * A deployed table is read with the default AWS credential chain (profile, SSO, role); a local
 * stack with DynamoDB Local's placeholder credentials, which AWS would refuse.
 */
function clientFor(args: ReturnType<typeof parse>): { client: DynamoDBClient; target: string } {
  if (args.region !== undefined) {
    if (args.endpoint !== undefined) usage('--region and --endpoint exclude each other');
    return { client: new DynamoDBClient({ region: args.region }), target: `aws:${args.region}` };
  }
  const endpoint = args.endpoint ?? localEndpoint(args.dataDir);
  return { client: localDynamoDbClient(endpoint), target: endpoint };
}

/** The DynamoDB Local endpoint `npm start` wrote to DATA_DIR/stack.json. */
function localEndpoint(dataDir: string): string {
  const stackFile = path.resolve(__dirname, '..', dataDir, 'stack.json');
  try {
    const stack = JSON.parse(readFileSync(stackFile, 'utf8')) as { dynamodb?: unknown };
    if (typeof stack.dynamodb !== 'string') throw new Error('no "dynamodb" in it');
    return stack.dynamodb;
  } catch (error) {
    usage(
      `Cannot read the stack's DynamoDB endpoint from ${stackFile} (${error instanceof Error ? error.message : String(error)}): is \`npm start\` running? Or pass --endpoint or --region.`,
    );
  }
}

async function main(): Promise<void> {
  const args = parse(process.argv.slice(2));
  const { client, target } = clientFor(args);
  try {
    const result = await auditLedger(client, args.table);
    const text = formatAudit(result);
    const files = writeReport('audit', { endpoint: target, ...result }, `${text}\n`);
    if (args.json) console.log(JSON.stringify(result, null, 2));
    else console.log(`${text}\nReport: ${files.text}`);
    process.exit(!result.ok ? 1 : result.busy.length > 0 ? 3 : 0);
  } catch (error) {
    console.error(
      `audit failed: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`,
    );
    process.exit(2);
  } finally {
    client.destroy();
  }
}

void main();
