// Types of webhook-receiver.mjs, for the TypeScript tests that import it.
import type { Server } from 'node:http';

export function verifyWebhookSignature(
  header: string | undefined,
  rawBody: string | Buffer,
  secret: string,
  options?: { toleranceSeconds?: number; now?: number },
): true | 'missing' | 'malformed' | 'stale' | 'mismatch';

export function createReceiver(
  secret: string,
  onEvent?: (event: { id: string; type: string }) => void,
): Server;
