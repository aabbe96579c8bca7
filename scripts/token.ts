/**
 * Prints an access token for a demo user of the running local stack, and nothing else:
 *
 *   curl -H "Authorization: Bearer $(npm run --silent token -- alice)" http://127.0.0.1:3000/accounts
 *
 * Reads the stack's identity from `${DATA_DIR:-.local}/identity.json` (relative to the repo root).
 */
import path from 'node:path';
import { DEMO_USERS, readIdentityFile, signIn, type LocalIdentity } from '../local/cognito';

// The SDK's Node-version notice would land on stderr of every call; it says nothing useful here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const REPO_ROOT = path.resolve(__dirname, '..');
const START_HINT = 'Start the local stack with `npm start` (in another terminal) and try again.';

class UserFacingError extends Error {}

async function main(argv: string[]): Promise<string> {
  const names = DEMO_USERS.map((u) => u.username).join(', ');
  const [username, ...extra] = argv;
  if (!username || extra.length > 0) {
    throw new UserFacingError(`Usage: npm run --silent token -- <user>   (one of: ${names})`);
  }
  const user = DEMO_USERS.find((u) => u.username === username);
  if (!user) throw new UserFacingError(`Unknown user "${username}". Demo users: ${names}.`);

  const dataDir = path.resolve(REPO_ROOT, process.env.DATA_DIR || '.local');
  const file = path.join(dataDir, 'identity.json');
  let identity: LocalIdentity;
  try {
    identity = await readIdentityFile(file);
  } catch (err) {
    const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
    throw new UserFacingError(
      missing
        ? `No local stack found: ${file} does not exist. ${START_HINT}`
        : `Cannot read ${file}: ${(err as Error).message}. ${START_HINT}`,
    );
  }

  try {
    return (await signIn(identity, user.username, user.password)).accessToken;
  } catch (err) {
    // Service errors carry an HTTP status; anything else means nobody answered.
    const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    if (status === undefined) {
      throw new UserFacingError(
        `The local identity provider at ${identity.endpoint} is not answering (${(err as Error).message || (err as Error).name}). ${START_HINT}`,
      );
    }
    throw new UserFacingError(
      `Sign-in of "${username}" failed: ${(err as Error).name}: ${(err as Error).message}. ` +
        `If the local data was reset, restart \`npm start\` so it seeds the demo users again.`,
    );
  }
}

main(process.argv.slice(2)).then(
  (token) => {
    process.stdout.write(`${token}\n`);
  },
  (err: unknown) => {
    process.stderr.write(
      `${err instanceof UserFacingError ? err.message : `token: ${String(err)}`}\n`,
    );
    process.exitCode = 1;
  },
);
