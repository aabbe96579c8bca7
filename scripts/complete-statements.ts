/**
 * `npm run complete-statements -- --region REGION --table NAME`: gives the running figures and
 * the history index's keys (docs/statements.md) to statement lines written before they existed,
 * on a deployed table (AWS credentials from the environment), for the accounts that may not move
 * again; the sequencer completes an account by itself at its next movement. Safe to run twice or
 * while the service runs: it computes the same figures the sequencer would. `npm start` does the
 * same on its own data at every start.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { completeStatementFigures } from '../local/table';

function option(name: string): string | undefined {
  const at = process.argv.indexOf(`--${name}`);
  return at === -1 ? undefined : process.argv[at + 1];
}

async function main(): Promise<number> {
  const table = option('table');
  const region = option('region');
  const endpoint = option('endpoint');
  if (table === undefined || (region === undefined && endpoint === undefined)) {
    console.error(
      'usage: npm run complete-statements -- --table NAME (--region REGION | --endpoint URL)',
    );
    return 2;
  }
  const client = new DynamoDBClient({
    ...(region === undefined ? {} : { region }),
    ...(endpoint === undefined ? {} : { endpoint }),
  });
  const completed = await completeStatementFigures(client, table);
  console.log(`${completed} account(s) had statement lines completed in ${table}`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
