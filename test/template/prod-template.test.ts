import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import http from 'node:http';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { build, type Plugin } from 'esbuild';
import { buildWebPage } from '../../web/build';
import {
  REFERENCE_INDEX_ATTRIBUTE,
  HISTORY_INDEX,
  REFERENCES_INDEX,
} from '../../lib/persistence/keys';

// What `serverless package --stage prod` produces, checked offline: the deployable artefact
// must be as carefully built as the code.
type Resource = { Type: string; Properties: Record<string, unknown>; DeletionPolicy?: string };
let resources: Record<string, Resource>;
let templateText: string;
let outDir: string;
/** Everything the framework printed while packaging (stdout and stderr). */
let packageLog: string;

const ROOT = path.resolve(__dirname, '..', '..');

beforeAll(() => {
  outDir = mkdtempSync(path.join(os.tmpdir(), 'mm-template-'));
  const packaged = spawnSync(
    process.execPath,
    [
      require.resolve('osls/bin/serverless.js'),
      'package',
      '--stage',
      'prod',
      '--package',
      outDir,
      '--param=payoutGatewayUrl=https://payouts.example.com',
    ],
    {
      cwd: ROOT,
      encoding: 'utf8',
      env: {
        ...process.env,
        // A developer's local settings in the shell must not reach the prod template.
        JWT_ISSUER: 'http://127.0.0.1:9229/local_pool',
        DYNAMODB_ENDPOINT: 'http://127.0.0.1:8000',
        JWT_CLIENT_IDS: 'local-client',
        PAYOUT_GATEWAY_URL: 'http://127.0.0.1:4010',
        WEBHOOK_ALLOW_HTTP_LOCALHOST: 'true',
        CORS_ORIGINS: 'https://app.example.com',
        AWS_ACCESS_KEY_ID: 'offline',
        AWS_SECRET_ACCESS_KEY: 'offline',
        SLS_TELEMETRY_DISABLED: '1',
        SLS_NOTIFICATIONS_MODE: 'off',
        ESBUILD_WORK_FOLDER: path.relative(ROOT, path.join(outDir, 'esbuild')),
      },
    },
  );
  packageLog = `${packaged.stdout}${packaged.stderr}`;
  if (packaged.status !== 0) throw new Error(`serverless package failed:\n${packageLog}`);
  templateText = readFileSync(
    path.join(outDir, 'cloudformation-template-update-stack.json'),
    'utf8',
  );
  resources = (JSON.parse(templateText) as { Resources: Record<string, Resource> }).Resources;
}, 300_000);

afterAll(() => rmSync(outDir, { recursive: true, force: true }));

const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);

interface Statement {
  Effect: string;
  Action: string[];
  Resource: unknown;
}
function statementsOf(role: Resource): Statement[] {
  const policies = (role.Properties.Policies ?? []) as Array<{
    PolicyDocument: { Statement: Statement[] };
  }>;
  return policies.flatMap((policy) => policy.PolicyDocument.Statement);
}

describe('the ledger table', () => {
  it('is on-demand, point-in-time recoverable, encrypted, protected from deletion, streamed and retained', () => {
    const [, table] = ofType('AWS::DynamoDB::Table')[0] ?? [];
    expect(table?.DeletionPolicy).toBe('Retain');
    expect(table?.Properties).toMatchObject({
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: { SSEEnabled: true },
      DeletionProtectionEnabled: true,
      StreamSpecification: { StreamViewType: 'NEW_AND_OLD_IMAGES' },
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
    });
  });

  it('indexes statement lines by reference, sparsely, and lets only the history query that index', () => {
    const [, table] = ofType('AWS::DynamoDB::Table')[0] ?? [];
    const indexes = table?.Properties.GlobalSecondaryIndexes as Array<{ IndexName: string }>;
    expect(indexes.find((index) => index.IndexName === REFERENCES_INDEX)).toEqual({
      IndexName: REFERENCES_INDEX,
      KeySchema: [
        { AttributeName: REFERENCE_INDEX_ATTRIBUTE, KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      Projection: { ProjectionType: 'ALL' },
    });
    const onIndex = Object.entries(resources)
      .filter(([id]) => id.endsWith('IamRoleLambdaExecution'))
      .filter(([, role]) => JSON.stringify(statementsOf(role)).includes(REFERENCES_INDEX))
      .map(([id]) => id);
    expect(onIndex).toEqual(['ListTransactionsIamRoleLambdaExecution']);
  });

  it('indexes every statement line by (account, type, status) and postedAt, and lets only the statement readers query it', () => {
    const [, table] = ofType('AWS::DynamoDB::Table')[0] ?? [];
    const indexes = table?.Properties.GlobalSecondaryIndexes as Array<{ IndexName: string }>;
    expect(indexes.find((index) => index.IndexName === HISTORY_INDEX)).toEqual({
      IndexName: HISTORY_INDEX,
      KeySchema: [
        { AttributeName: 'historyKey', KeyType: 'HASH' },
        { AttributeName: 'historyAt', KeyType: 'RANGE' },
      ],
      Projection: { ProjectionType: 'ALL' },
    });
    const onIndex = Object.entries(resources)
      .filter(([id]) => id.endsWith('IamRoleLambdaExecution'))
      .filter(([, role]) => JSON.stringify(statementsOf(role)).includes(`index","${HISTORY_INDEX}`))
      .map(([id]) => id)
      .sort();
    expect(onIndex).toEqual([
      'GetBalanceIamRoleLambdaExecution',
      'GetStatementIamRoleLambdaExecution',
      'ListTransactionsIamRoleLambdaExecution',
    ]);
  });
});

describe('IAM: one role per function, each with only the DynamoDB actions it uses', () => {
  const expected: Record<string, string[]> = {
    Health: ['dynamodb:GetItem'],
    ListAccounts: ['dynamodb:BatchGetItem', 'dynamodb:Query'],
    OpenAccount: ['dynamodb:PutItem'],
    GetAccount: ['dynamodb:GetItem'],
    // Query: with ?at=, the lines after the one the history index found, and the pending entries.
    GetBalance: ['dynamodb:GetItem', 'dynamodb:Query'],
    // The account, its limits (timezone), the month's lines, their details and reversals.
    GetStatement: ['dynamodb:BatchGetItem', 'dynamodb:GetItem', 'dynamodb:Query'],
    // Query: a replay reads its movement's statement line among the newest. BatchGetItem: the
    // account's terms (fees and limits), read once after a cancelled stale guess.
    Withdraw: [
      'dynamodb:BatchGetItem',
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:Query',
      'dynamodb:UpdateItem',
    ],
    Deposit: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem'],
    // BatchGetItem: the reversals of the page's movements, from their records,
    // and the details items (description, metadata) of its entries.
    ListTransactions: ['dynamodb:BatchGetItem', 'dynamodb:GetItem', 'dynamodb:Query'],
    GetFees: ['dynamodb:GetItem'],
    SetFees: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
    GetLimits: ['dynamodb:GetItem'],
    SetLimits: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
    ReverseTransaction: [
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:Query',
      'dynamodb:UpdateItem',
    ],
    // A reversal per returned payout, as ReverseTransaction's, and the feed's cursor item.
    ConsumePayoutReturns: [
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:Query',
      'dynamodb:UpdateItem',
    ],
    FreezeAccount: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
    UnfreezeAccount: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
    GetWithdrawalSwitch: ['dynamodb:GetItem'],
    SetWithdrawalSwitch: ['dynamodb:PutItem'],
    LedgerSummary: ['dynamodb:Query'],
    // The account named (ownership), then the endpoint and its two links in one transaction.
    RegisterWebhookEndpoint: ['dynamodb:GetItem', 'dynamodb:PutItem'],
    ListWebhookEndpoints: ['dynamodb:BatchGetItem', 'dynamodb:Query'],
    GetWebhookEndpoint: ['dynamodb:GetItem'],
    DeleteWebhookEndpoint: ['dynamodb:DeleteItem', 'dynamodb:GetItem'],
    // The event and the endpoint (GetItem), the attempt (PutItem), disabling (UpdateItem).
    DeliverWebhooks: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
    RedeliverWebhook: ['dynamodb:GetItem'],
    ListDeliveryAttempts: ['dynamodb:GetItem', 'dynamodb:Query'],
    // GetItem and UpdateItem: the system accounts' shards and the account's posting watermark;
    // Query: the line before each chunk, for its running figures.
    Sequencer: [
      'dynamodb:DeleteItem',
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:Query',
      'dynamodb:UpdateItem',
    ],
  };

  it.each(Object.entries(expected))(
    '%s has a role of its own allowing exactly %j on the table',
    (fn, actions) => {
      const lambda = resources[`${fn}LambdaFunction`];
      expect(lambda?.Properties.Role).toEqual({
        'Fn::GetAtt': [`${fn}IamRoleLambdaExecution`, 'Arn'],
      });
      const statements = statementsOf(resources[`${fn}IamRoleLambdaExecution`] as Resource);
      const onTable = statements.filter(
        (s) =>
          JSON.stringify(s.Resource) === JSON.stringify({ 'Fn::GetAtt': ['LedgerTable', 'Arn'] }),
      );
      expect(onTable.flatMap((s) => s.Action).sort()).toEqual(actions);
    },
  );

  it('gives no function dynamodb:* or any DynamoDB action on Resource "*"; a balance reader cannot write', () => {
    for (const [, role] of ofType('AWS::IAM::Role')) {
      for (const statement of statementsOf(role)) {
        const actions = statement.Action;
        expect(actions).not.toContain('dynamodb:*');
        if (actions.some((a) => a.startsWith('dynamodb:')))
          expect(statement.Resource).not.toBe('*');
      }
    }
    const balanceReader = statementsOf(
      resources.GetBalanceIamRoleLambdaExecution as Resource,
    ).flatMap((s) => s.Action);
    expect(
      balanceReader.filter((a) => /Put|Update|Delete|Write/.test(a) && a.startsWith('dynamodb:')),
    ).toEqual([]);
  });

  it('lets only the sequencer and the payout dispatcher read the stream, and gives the not-found route no data access at all', () => {
    const rolesInUse = ofType('AWS::Lambda::Function').map(
      ([, fn]) => (fn.Properties.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0],
    );
    expect(new Set(rolesInUse).size).toBe(rolesInUse.length);
    const readers = rolesInUse.filter((name) =>
      statementsOf(resources[name] as Resource).some((s) =>
        s.Action.includes('dynamodb:GetRecords'),
      ),
    );
    expect(readers.sort()).toEqual([
      'DispatchPayoutsIamRoleLambdaExecution',
      'SequencerIamRoleLambdaExecution',
    ]);
    const notFound = statementsOf(resources.NotFoundIamRoleLambdaExecution as Resource).flatMap(
      (s) => s.Action,
    );
    expect(notFound.filter((a) => a.startsWith('dynamodb:'))).toEqual([]);
  });
});

describe('payouts', () => {
  const fn = (logicalId: string) => resources[logicalId] as Resource;

  it('feed the outbox reader (dispatcher and event publisher) only the records they act on, and give it the gateway from the stage parameter', () => {
    const [, mapping] =
      ofType('AWS::Lambda::EventSourceMapping').find(([id]) => id.startsWith('DispatchPayouts')) ??
      [];
    const keys = (pk: unknown, sk?: unknown) => ({
      Keys: {
        ...(pk === undefined ? {} : { pk: { S: [pk] } }),
        ...(sk === undefined ? {} : { sk: { S: [sk] } }),
      },
    });
    expect(mapping?.Properties.FilterCriteria).toEqual({
      Filters: [
        // New payouts (dispatched; payout.held) and their outcomes (payout.posted/voided).
        { eventName: ['INSERT', 'MODIFY'], dynamodb: keys({ prefix: 'PAYOUT#' }) },
        // New statement lines (movement.committed).
        { eventName: ['INSERT'], dynamodb: keys({ prefix: 'LEDGER#' }, { prefix: 'L#' }) },
        // New accounts, and changes of an account that carries `frozen`.
        { eventName: ['INSERT'], dynamodb: keys(undefined, 'ACCOUNT') },
        {
          eventName: ['MODIFY'],
          dynamodb: {
            ...keys(undefined, 'ACCOUNT'),
            NewImage: { frozen: { BOOL: [true, false] } },
          },
        },
        // The withdrawals switch.
        { eventName: ['INSERT', 'MODIFY'], dynamodb: keys('CONTROL', 'WITHDRAWALS') },
      ].map((pattern) => ({ Pattern: JSON.stringify(pattern) })),
    });
    expect(mapping?.Properties.FunctionResponseTypes).toEqual(['ReportBatchItemFailures']);
    for (const id of [
      'DispatchPayoutsLambdaFunction',
      'SweepPayoutsLambdaFunction',
      'ConsumePayoutReturnsLambdaFunction',
    ]) {
      expect(
        (fn(id).Properties.Environment as { Variables: Record<string, unknown> }).Variables
          .PAYOUT_GATEWAY_URL,
      ).toBe('https://payouts.example.com');
    }
  });

  it('sweep every minute in AWS, querying only the open-payouts index', () => {
    const rules = ofType('AWS::Events::Rule').filter(([id]) => id.startsWith('SweepPayouts'));
    expect(rules).toHaveLength(1);
    expect(rules[0]?.[1].Properties).toMatchObject({
      ScheduleExpression: 'rate(1 minute)',
      State: 'ENABLED',
    });
    const queries = statementsOf(fn('SweepPayoutsIamRoleLambdaExecution')).filter((s) =>
      s.Action.includes('dynamodb:Query'),
    );
    expect(JSON.stringify(queries.map((s) => s.Resource))).toContain('open-payouts');
    expect(JSON.stringify(queries.map((s) => s.Resource))).toContain('index');
  });

  it('read the returns feed every minute in AWS, finding returned payouts by the transactions index', () => {
    const rules = ofType('AWS::Events::Rule').filter(([id]) =>
      id.startsWith('ConsumePayoutReturns'),
    );
    expect(rules).toHaveLength(1);
    expect(rules[0]?.[1].Properties).toMatchObject({
      ScheduleExpression: 'rate(1 minute)',
      State: 'ENABLED',
    });
    const onIndexes = statementsOf(fn('ConsumePayoutReturnsIamRoleLambdaExecution')).filter((s) =>
      JSON.stringify(s.Resource).includes('index'),
    );
    expect(onIndexes.map((s) => s.Action)).toEqual([['dynamodb:Query']]);
    expect(JSON.stringify(onIndexes[0]?.Resource)).toContain('transactions');
  });
});

describe('webhook endpoints', () => {
  it('are https:// only in a deployed stage, whatever the shell that packaged it says', () => {
    const register = resources.RegisterWebhookEndpointLambdaFunction as Resource;
    const env = (register.Properties.Environment as { Variables: Record<string, unknown> })
      .Variables;
    expect(env.WEBHOOK_ALLOW_HTTP_LOCALHOST).toBe('false');
  });
});

describe('webhook deliveries', () => {
  const props = (id: string) => (resources[id] as Resource).Properties;
  const sqsActionsOf = (role: string) =>
    statementsOf(resources[role] as Resource)
      .filter((s) => JSON.stringify(s.Resource).includes('DeliveryQueue'))
      .flatMap((s) => s.Action)
      .filter((a) => a.startsWith('sqs:'))
      .sort();

  it('queue on SQS for 4 days, past the 3-day give-up, with a dead-letter queue after 30 receives', () => {
    expect(props('DeliveryQueue')).toMatchObject({
      VisibilityTimeout: 60,
      MessageRetentionPeriod: 345600,
      RedrivePolicy: {
        deadLetterTargetArn: { 'Fn::GetAtt': ['DeliveryDeadLetterQueue', 'Arn'] },
        maxReceiveCount: 30,
      },
    });
    expect(resources.DeliveryDeadLetterQueue?.Type).toBe('AWS::SQS::Queue');
  });

  it('feed the worker 10 messages at a time with per-message failures, and let it postpone but not send', () => {
    const [, mapping] =
      ofType('AWS::Lambda::EventSourceMapping').find(([id]) => id.startsWith('DeliverWebhooks')) ??
      [];
    expect(mapping?.Properties).toMatchObject({
      BatchSize: 10,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      EventSourceArn: { 'Fn::GetAtt': ['DeliveryQueue', 'Arn'] },
    });
    expect(sqsActionsOf('DeliverWebhooksIamRoleLambdaExecution')).toEqual(
      expect.arrayContaining([
        'sqs:ChangeMessageVisibility',
        'sqs:DeleteMessage',
        'sqs:GetQueueAttributes',
        'sqs:ReceiveMessage',
      ]),
    );
    expect(sqsActionsOf('DeliverWebhooksIamRoleLambdaExecution')).not.toContain('sqs:SendMessage');
    // The timeout stays under the queue's visibility: a batch in flight is not received twice.
    expect(props('DeliverWebhooksLambdaFunction').Timeout).toBeLessThan(60);
  });

  it('let only the publisher (the stream dispatcher) and the redelivery route queue messages, naming the queue', () => {
    const senders = ofType('AWS::IAM::Role')
      .filter(([id]) => sqsActionsOf(id).includes('sqs:SendMessage'))
      .map(([id]) => id)
      .sort();
    expect(senders).toEqual([
      'DispatchPayoutsIamRoleLambdaExecution',
      'RedeliverWebhookIamRoleLambdaExecution',
    ]);
    // The worker postpones retries on the queue: it needs its URL too (not to send).
    for (const fn of [
      'DispatchPayoutsLambdaFunction',
      'RedeliverWebhookLambdaFunction',
      'DeliverWebhooksLambdaFunction',
    ]) {
      expect(
        (props(fn).Environment as { Variables: Record<string, unknown> }).Variables
          .DELIVERY_QUEUE_URL,
      ).toEqual({ Ref: 'DeliveryQueue' });
    }
  });

  it('alarm on a disabled endpoint and on any dead letter', () => {
    expect(props('WebhookEndpointsDisabledAlarm')).toMatchObject({
      Namespace: 'MoneyMovement',
      MetricName: 'WebhookEndpointsDisabled',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      AlarmActions: [{ Ref: 'AlarmTopic' }],
    });
    expect(props('DeliveryDeadLettersAlarm')).toMatchObject({
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [
        { Name: 'QueueName', Value: { 'Fn::GetAtt': ['DeliveryDeadLetterQueue', 'QueueName'] } },
      ],
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
  });
});

describe('the HTTP API', () => {
  it('puts the JWT authorizer on every route except GET /health and the not-found catch-all', () => {
    const routes = ofType('AWS::ApiGatewayV2::Route').map(([, r]) => [
      r.Properties.RouteKey,
      r.Properties.AuthorizationType,
    ]);
    expect(routes.length).toBeGreaterThanOrEqual(13);
    for (const [key, auth] of routes) {
      if (key === 'GET /health' || key === '$default') expect(auth).toBeUndefined();
      else expect(auth).toBe('JWT');
    }
    const [, authorizer] = ofType('AWS::ApiGatewayV2::Authorizer')[0] ?? [];
    expect(authorizer?.Properties).toMatchObject({
      AuthorizerType: 'JWT',
      JwtConfiguration: { Audience: [{ Ref: 'UserPoolClient' }] },
    });
  });

  it('allows CORS from its own web page (the CloudFront distribution) and CORS_ORIGINS, never *', () => {
    const [, api] = ofType('AWS::ApiGatewayV2::Api')[0] ?? [];
    expect(api?.Properties.CorsConfiguration).toMatchObject({
      AllowOrigins: [
        { 'Fn::Join': ['', ['https://', { 'Fn::GetAtt': ['WebDistribution', 'DomainName'] }]] },
        'https://app.example.com',
      ],
      AllowHeaders: ['Authorization', 'Content-Type', 'Idempotency-Key'],
      ExposeHeaders: ['Idempotent-Replayed', 'Retry-After', 'Link', 'Content-Disposition'],
    });
    expect(JSON.stringify(api?.Properties.CorsConfiguration)).not.toContain('"*"');
  });

  it('throttles every route by default and the money routes more strictly, after the routes exist', () => {
    const [, stage] = ofType('AWS::ApiGatewayV2::Stage')[0] ?? [];
    const defaults = stage?.Properties.DefaultRouteSettings as {
      ThrottlingRateLimit: number;
      ThrottlingBurstLimit: number;
    };
    expect(defaults.ThrottlingRateLimit).toBeGreaterThan(0);
    expect(defaults.ThrottlingBurstLimit).toBeGreaterThanOrEqual(defaults.ThrottlingRateLimit);
    const routes = stage?.Properties.RouteSettings as Record<string, Record<string, number>>;
    const money = [
      'POST /accounts/{accountId}/withdrawals',
      'POST /accounts/{accountId}/deposits',
      'POST /transfers',
      'POST /accounts/{accountId}/payouts',
      'POST /transactions/{transactionId}/reversals',
    ];
    expect(Object.keys(routes).sort()).toEqual([...money].sort());
    const routeKeys = ofType('AWS::ApiGatewayV2::Route').map(([, r]) => r.Properties.RouteKey);
    for (const key of money) {
      expect(routeKeys).toContain(key);
      expect(routes[key]?.ThrottlingRateLimit).toBeGreaterThan(0);
      expect(routes[key]?.ThrottlingRateLimit).toBeLessThan(defaults.ThrottlingRateLimit);
      expect(routes[key]?.ThrottlingBurstLimit).toBeLessThan(defaults.ThrottlingBurstLimit);
    }
    // API Gateway refuses route settings for a route it has not created yet.
    const routeIds = ofType('AWS::ApiGatewayV2::Route')
      .filter(([, r]) => money.includes(r.Properties.RouteKey as string))
      .map(([id]) => id);
    expect(((stage as { DependsOn?: string[] }).DependsOn ?? []).sort()).toEqual(routeIds.sort());
  });
});

describe('the runtime and the framework', () => {
  const table = JSON.parse(
    readFileSync(path.join(ROOT, 'docs', 'lambda-runtimes.json'), 'utf8'),
  ) as { runtimes: Record<string, { blockCreate: string; blockUpdate: string }> };

  it('puts every function on a runtime AWS still lets you create and update today', () => {
    const today = new Date().toISOString().slice(0, 10);
    const runtimes = new Set(
      ofType('AWS::Lambda::Function').map(([, fn]) => fn.Properties.Runtime as string),
    );
    expect([...runtimes]).toEqual([
      (
        JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
          config: { lambdaRuntime: string };
        }
      ).config.lambdaRuntime,
    ]);
    for (const runtime of runtimes) {
      const dates = table.runtimes[runtime];
      expect([runtime, dates !== undefined]).toEqual([runtime, true]);
      expect([runtime, today < (dates?.blockCreate ?? '')]).toEqual([runtime, true]);
      expect([runtime, today < (dates?.blockUpdate ?? '')]).toEqual([runtime, true]);
    }
  });

  it('packages with no warning from the framework or its plugins', () => {
    expect(packageLog).toContain('Service packaged');
    expect(packageLog).not.toMatch(/warn|deprecat|invalid configuration/i);
  });

  it('runs these tests on the Node major of the Lambda runtime', () => {
    const runtime = ofType('AWS::Lambda::Function')[0]?.[1].Properties.Runtime as string;
    expect(`nodejs${process.versions.node.split('.')[0]}.x`).toBe(runtime);
  });
});

describe('the web page', () => {
  const props = (id: string) => (resources[id] as Resource).Properties;

  it('lives in a bucket no one can reach but its CloudFront distribution, over TLS only', () => {
    expect(props('WebBucket')).toMatchObject({
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
    });
    expect(props('WebBucket').WebsiteConfiguration).toBeUndefined();
    const statements = (
      props('WebBucketPolicy').PolicyDocument as {
        Statement: Array<{
          Effect: string;
          Principal: unknown;
          Action: unknown;
          Condition?: unknown;
        }>;
      }
    ).Statement;
    const allows = statements.filter((st) => st.Effect === 'Allow');
    expect(allows).toHaveLength(1);
    expect(allows[0]).toMatchObject({
      Principal: { Service: 'cloudfront.amazonaws.com' },
      Action: 's3:GetObject',
    });
    expect(JSON.stringify(allows[0]?.Condition)).toContain('WebDistribution');
    expect(statements).toContainEqual(
      expect.objectContaining({
        Effect: 'Deny',
        Condition: { Bool: { 'aws:SecureTransport': false } },
      }),
    );
  });

  it('is served by CloudFront through origin access control, HTTPS only, with security headers', () => {
    const config = props('WebDistribution').DistributionConfig as {
      Origins: Array<Record<string, unknown>>;
      DefaultCacheBehavior: Record<string, unknown>;
    };
    expect(config.Origins).toEqual([
      expect.objectContaining({
        DomainName: { 'Fn::GetAtt': ['WebBucket', 'RegionalDomainName'] },
        OriginAccessControlId: { 'Fn::GetAtt': ['WebOriginAccessControl', 'Id'] },
        S3OriginConfig: { OriginAccessIdentity: '' },
      }),
    ]);
    expect(props('WebOriginAccessControl').OriginAccessControlConfig).toMatchObject({
      OriginAccessControlOriginType: 's3',
      SigningBehavior: 'always',
      SigningProtocol: 'sigv4',
    });
    expect(config.DefaultCacheBehavior).toMatchObject({
      ViewerProtocolPolicy: 'redirect-to-https',
      AllowedMethods: ['GET', 'HEAD'],
      ResponseHeadersPolicyId: { Ref: 'WebSecurityHeaders' },
    });
    const headers = (
      props('WebSecurityHeaders').ResponseHeadersPolicyConfig as {
        SecurityHeadersConfig: Record<string, Record<string, unknown>>;
      }
    ).SecurityHeadersConfig;
    expect(headers.StrictTransportSecurity).toMatchObject({
      Override: true,
      IncludeSubdomains: true,
    });
    expect(headers.StrictTransportSecurity?.AccessControlMaxAgeSec).toBeGreaterThanOrEqual(
      31536000,
    );
    expect(headers.ContentTypeOptions).toEqual({ Override: true });
    expect(headers.FrameOptions).toEqual({ Override: true, FrameOption: 'DENY' });
    const csp = JSON.stringify(headers.ContentSecurityPolicy);
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("default-src 'self'");
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval/);
  });

  it("is uploaded by the deploy with a config.json naming this stage's API, issuer and app client", () => {
    const page = resources.WebPage as Resource;
    expect(page.Type).toBe('Custom::WebPage');
    expect(page.Properties).toMatchObject({
      ServiceToken: { 'Fn::GetAtt': ['PublishWebPageLambdaFunction', 'Arn'] },
      BucketName: { Ref: 'WebBucket' },
      Config: {
        apiUrl: { 'Fn::GetAtt': ['HttpApi', 'ApiEndpoint'] },
        clientId: { Ref: 'UserPoolClient' },
      },
    });
    expect(page.Properties.PageVersion).toMatch(/^[0-9a-f]{16}$/);
    const writes = statementsOf(resources.PublishWebPageIamRoleLambdaExecution as Resource).filter(
      (st) => st.Action.some((a) => a.startsWith('s3:')),
    );
    expect(writes.flatMap((st) => st.Action).sort()).toEqual(['s3:DeleteObject', 's3:PutObject']);
    expect(JSON.stringify(writes.map((st) => st.Resource))).toContain('WebBucket');
  });

  it('publishes, from the bundled function, the same built page that npm start serves, and answers CloudFormation', async () => {
    // Bundled with the plugins serverless.yml gives serverless-esbuild (custom.esbuild.plugins),
    // the runtime's SDK left out as in the package, then run on a Create event.
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- a CommonJS plugin file
    const plugins = require('../../scripts/esbuild-plugins.js') as Plugin[];
    const bundleFile = path.join(ROOT, '.esbuild', `web-page-test-${process.pid}.js`);
    await build({
      entryPoints: [path.join(ROOT, 'handlers', 'web-page.ts')],
      outfile: bundleFile,
      bundle: true,
      platform: 'node',
      format: 'cjs',
      external: ['@aws-sdk/*'],
      plugins,
      logLevel: 'silent',
    });
    const s3 = mockClient(S3Client);
    const answers: unknown[] = [];
    const cloudFormation = http.createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        answers.push({ method: request.method, ...(JSON.parse(body) as object) });
        response.end();
      });
    });
    await new Promise<void>((resolve) => cloudFormation.listen(0, '127.0.0.1', resolve));
    const { port } = cloudFormation.address() as { port: number };
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- the bundle just built
      const { publish } = require(bundleFile) as {
        publish: (event: CloudFormationCustomResourceEvent) => Promise<void>;
      };
      const config = {
        apiUrl: 'https://abc123.execute-api.us-east-1.amazonaws.com',
        cognitoEndpoint: 'https://cognito-idp.us-east-1.amazonaws.com',
        clientId: 'client-1',
      };
      await publish({
        RequestType: 'Create',
        ServiceToken: 'arn:aws:lambda:us-east-1:1:function:publish',
        ResponseURL: `http://127.0.0.1:${port}/answer`,
        StackId: 'stack-1',
        RequestId: 'request-1',
        LogicalResourceId: 'WebPage',
        ResourceType: 'Custom::WebPage',
        ResourceProperties: { ServiceToken: 'x', BucketName: 'page-bucket', Config: config },
      });
      const uploaded = s3
        .commandCalls(PutObjectCommand)
        .map(({ args }) => [args[0].input.Key, args[0].input.ContentType, args[0].input.Body]);
      const built = await buildWebPage({ sourcemap: false });
      expect(uploaded).toEqual([
        ...built.map((f) => [f.path.slice(1), f.contentType, f.body]),
        ['config.json', 'application/json', JSON.stringify(config)],
      ]);
      expect(answers).toEqual([expect.objectContaining({ method: 'PUT', Status: 'SUCCESS' })]);
    } finally {
      s3.restore();
      cloudFormation.close();
      rmSync(bundleFile, { force: true });
    }
  });
});

describe('operations', () => {
  it('keeps every function log group for a year in prod', () => {
    const groups = ofType('AWS::Logs::LogGroup');
    expect(groups.length).toBe(ofType('AWS::Lambda::Function').length);
    for (const [, group] of groups) expect(group.Properties.RetentionInDays).toBe(365);
  });

  it('alarms on the 5xx rate, Lambda errors and throttles, DynamoDB throttling, transaction conflicts and sequencer lag', () => {
    const alarms = ofType('AWS::CloudWatch::Alarm').map(([, a]) => a.Properties);
    const metricNames = alarms.flatMap((a) =>
      a.MetricName
        ? [a.MetricName]
        : ((a.Metrics ?? []) as Array<{ MetricStat?: { Metric: { MetricName: string } } }>).flatMap(
            (m) => (m.MetricStat ? [m.MetricStat.Metric.MetricName] : []),
          ),
    );
    expect(metricNames).toEqual(
      expect.arrayContaining([
        '5xx',
        'Errors',
        'Throttles',
        'WriteThrottleEvents',
        'TransactionConflict',
        'IteratorAge',
      ]),
    );
    for (const alarm of alarms) expect(alarm.AlarmActions).toEqual([{ Ref: 'AlarmTopic' }]);
  });

  it('traces every function with X-Ray, with the permission on each role', () => {
    for (const [name, fn] of ofType('AWS::Lambda::Function')) {
      expect(fn.Properties.TracingConfig).toEqual({ Mode: 'Active' });
      const roleName = (fn.Properties.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
      const actions = statementsOf(resources[roleName] as Resource).flatMap((s) => s.Action);
      expect([name, actions]).toEqual([name, expect.arrayContaining(['xray:PutTraceSegments'])]);
    }
  });
});

describe('no local-only settings in the prod template', () => {
  it('carries no DynamoDB Local endpoint, no local issuer, no demo user or password', () => {
    expect(templateText).not.toMatch(
      /127\.0\.0\.1|localhost|local_pool|local-client|cognito-local/,
    );
    expect(templateText).not.toMatch(/alice|bob-local|ops-local|local-pass/);
    for (const [, fn] of ofType('AWS::Lambda::Function')) {
      const env = (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
      expect(env.DYNAMODB_ENDPOINT).toBe('');
      expect(env.JWT_ISSUER).toEqual({
        'Fn::Join': [
          '',
          ['https://cognito-idp.', { Ref: 'AWS::Region' }, '.amazonaws.com/', { Ref: 'UserPool' }],
        ],
      });
      expect(env.POWERTOOLS_METRICS_DISABLED).toBe('false');
    }
  });
});
