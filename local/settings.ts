import path from 'node:path';

/** The local stack's settings, from the environment, with the contract's defaults. */
export interface StackSettings {
  root: string;
  dataDir: string;
  apiPort: number;
  webPort: number;
  dynamodbPort: number;
  cognitoPort: number;
  lambdaPort: number;
  /** The simulated payout gateway's port. */
  gatewayPort: number;
  /** The local webhook receiver's port. */
  receiverPort: number;
  /** WEBHOOK_RECEIVER=off: no receiver, no demo endpoint (events are still published). */
  webhookReceiver: boolean;
  stage: string;
  tableName: string;
}

function port(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > 65535) {
    throw new Error(`${name} must be a port number (1-65535), got ${JSON.stringify(raw)}`);
  }
  return value;
}

export function stackSettings(): StackSettings {
  const root = path.resolve(__dirname, '..');
  const apiPort = port('API_PORT', 3000);
  const stage = 'local';
  return {
    root,
    dataDir: path.resolve(root, process.env.DATA_DIR || '.local'),
    apiPort,
    webPort: port('WEB_PORT', 5173),
    dynamodbPort: port('DYNAMODB_PORT', 8000),
    cognitoPort: port('COGNITO_PORT', 9229),
    // serverless-offline's own Lambda endpoint; derived so two stacks never share it.
    lambdaPort: port('LAMBDA_PORT', apiPort + 2),
    gatewayPort: port('GATEWAY_PORT', 4010),
    receiverPort: port('RECEIVER_PORT', 4020),
    webhookReceiver: receiverSwitch(),
    stage,
    tableName: `money-movement-${stage}`,
  };
}

function receiverSwitch(): boolean {
  const raw = process.env.WEBHOOK_RECEIVER ?? 'on';
  if (raw !== 'on' && raw !== 'off') {
    throw new Error(`WEBHOOK_RECEIVER must be on or off, got ${JSON.stringify(raw)}`);
  }
  return raw === 'on';
}
