import { startDynamo } from './lib/env';
import { Progress } from './lib/progress';
import { measureWebhooks } from './webhooks';
async function main() {
  const own = await startDynamo();
  try {
    const r = await measureWebhooks({ dynamo: own, ownerId: 'o', plan: { slow: { rounds: 1, perRound: Number(process.argv[2] ?? 40) }, delivery: { events: Number(process.argv[3] ?? 100), failRatio: 1 / 3, accounts: 4 } }, progress: new Progress() });
    console.log(JSON.stringify(r, null, 1));
  } finally { await own.process.stop(); }
  process.exit(0);
}
void main();
