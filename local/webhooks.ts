/**
 * The local stack's webhooks: a receiver on RECEIVER_PORT that shows what arrived and checks
 * signatures, and an operator's endpoint for every event type pointing at it, registered once
 * (kept in DATA_DIR/receiver-endpoint.json with its secret) so a restart on the same data keeps
 * receiving under the same secret.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { EVENT_TYPES } from '../lib/domain/event-ports';
import { DEMO_USERS, type LocalIdentity } from './cognito';
import { userOf } from './seed';
import { startWebhookReceiver, type WebhookReceiver } from './webhook-receiver';

interface SavedEndpoint {
  id: string;
  secret: string;
  url: string;
}

export async function startLocalReceiver(options: {
  port: number;
  dataDir: string;
  identity: LocalIdentity;
}): Promise<{ receiver: WebhookReceiver; endpointId: string }> {
  const secrets: string[] = [];
  const receiver = await startWebhookReceiver({
    port: options.port,
    secrets: () => secrets,
    log: (line) => console.log(`webhook ${JSON.stringify(line)}`),
  });
  const endpoint = await ensureEndpoint(receiver.url, options);
  secrets.push(endpoint.secret);
  return { receiver, endpointId: endpoint.id };
}

/** The demo endpoint: the saved one while it still exists with this URL, else a new one. */
async function ensureEndpoint(
  url: string,
  options: { dataDir: string; identity: LocalIdentity },
): Promise<SavedEndpoint> {
  const { webhookDeps } = await import('../lib/event-service');
  const { registerEndpoint } = await import('../lib/domain/webhooks');
  const deps = webhookDeps();
  const file = path.join(options.dataDir, 'receiver-endpoint.json');
  if (existsSync(file)) {
    const saved = JSON.parse(readFileSync(file, 'utf8')) as SavedEndpoint;
    const current = await deps.store.getEndpoint(saved.id);
    if (current?.url === url && current.status === 'enabled') return saved;
    // Another port (or disabled after days of failures): replace it rather than leave it failing.
    if (current !== undefined) await deps.store.deleteEndpoint(current);
  }
  const ops = DEMO_USERS.find((user) => user.groups.includes('operators'));
  if (!ops) throw new Error('the demo operator is missing');
  const operator = {
    ...(await userOf(options.identity, ops.username, ops.password)),
    isOperator: true,
  };
  const created = await registerEndpoint(deps, operator, { url, eventTypes: [...EVENT_TYPES] });
  const saved = { id: created.id, secret: created.secret, url };
  writeFileSync(file, JSON.stringify(saved, null, 2), { mode: 0o600 });
  return saved;
}
