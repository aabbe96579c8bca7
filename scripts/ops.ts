/**
 * Operator controls on the local stack, through the API as the demo operator:
 *   npm run ops -- pause "<reason>" | resume "<reason>" | status
 *   npm run ops -- freeze <accountId> "<reason>" | unfreeze <accountId> "<reason>"
 * In AWS, call the same routes with an operator's token (see the README's runbook).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { DEMO_USERS, signIn, type LocalIdentity } from '../local/cognito';
import { stackSettings } from '../local/settings';

const USAGE = `usage: npm run ops -- pause|resume "<reason>" | status | freeze|unfreeze <accountId> "<reason>"`;

async function main(): Promise<number> {
  const [command, ...args] = process.argv.slice(2);
  const settings = stackSettings();
  let stack: { apiUrl: string; identity: LocalIdentity };
  try {
    stack = JSON.parse(
      readFileSync(path.join(settings.dataDir, 'stack.json'), 'utf8'),
    ) as typeof stack;
  } catch {
    console.error(
      `No local stack found in ${settings.dataDir}: start it with npm start (or set DATA_DIR).`,
    );
    return 1;
  }
  const ops = DEMO_USERS.find((user) => user.username === 'ops');
  if (!ops) throw new Error('the demo operator is missing');
  const { accessToken } = await signIn(stack.identity, ops.username, ops.password);
  const call = async (method: string, route: string, body?: unknown) => {
    const response = await fetch(`${stack.apiUrl}${route}`, {
      method,
      headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    console.log(`${response.status} ${await response.text()}`);
    return response.ok ? 0 : 1;
  };
  switch (command) {
    case 'pause':
    case 'resume':
      if (!args[0]) break;
      return call('POST', '/controls/withdrawals', {
        paused: command === 'pause',
        reason: args.join(' '),
      });
    case 'status':
      return call('GET', '/controls/withdrawals');
    case 'freeze':
    case 'unfreeze':
      if (!args[0] || !args[1]) break;
      return call('POST', `/accounts/${encodeURIComponent(args[0])}/${command}`, {
        reason: args.slice(1).join(' '),
      });
  }
  console.error(USAGE);
  return 2;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : String(error));
    process.exit(1);
  },
);
