import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

// What `serverless package --stage prod` produces, checked offline: the deployable artefact
// must be as carefully built as the code.
type Resource = { Type: string; Properties: Record<string, unknown>; DeletionPolicy?: string };
let resources: Record<string, Resource>;
let templateText: string;
let outDir: string;

const ROOT = path.resolve(__dirname, '..', '..');

beforeAll(() => {
  outDir = mkdtempSync(path.join(os.tmpdir(), 'mm-template-'));
  execFileSync(
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
      stdio: 'pipe',
      env: {
        ...process.env,
        // A developer's local settings in the shell must not reach the prod template.
        JWT_ISSUER: 'http://127.0.0.1:9229/local_pool',
        DYNAMODB_ENDPOINT: 'http://127.0.0.1:8000',
        JWT_CLIENT_IDS: 'local-client',
        PAYOUT_GATEWAY_URL: 'http://127.0.0.1:4010',
        CORS_ORIGINS: 'https://app.example.com',
        AWS_ACCESS_KEY_ID: 'offline',
        AWS_SECRET_ACCESS_KEY: 'offline',
        SLS_TELEMETRY_DISABLED: '1',
        SLS_NOTIFICATIONS_MODE: 'off',
        ESBUILD_WORK_FOLDER: path.relative(ROOT, path.join(outDir, 'esbuild')),
      },
    },
  );
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
});

describe('IAM: one role per function, each with only the DynamoDB actions it uses', () => {
  const expected: Record<string, string[]> = {
    Health: ['dynamodb:GetItem'],
    ListAccounts: ['dynamodb:BatchGetItem', 'dynamodb:Query'],
    OpenAccount: ['dynamodb:PutItem'],
    GetAccount: ['dynamodb:GetItem'],
    GetBalance: ['dynamodb:GetItem'],
    Withdraw: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
    Deposit: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
    ListTransactions: ['dynamodb:GetItem', 'dynamodb:Query'],
    FreezeAccount: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
    UnfreezeAccount: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
    GetWithdrawalSwitch: ['dynamodb:GetItem'],
    SetWithdrawalSwitch: ['dynamodb:PutItem'],
    Sequencer: ['dynamodb:DeleteItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
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

  it('feed the dispatcher only newly inserted payout records, and give it the gateway from the stage parameter', () => {
    const [, mapping] =
      ofType('AWS::Lambda::EventSourceMapping').find(([id]) => id.startsWith('DispatchPayouts')) ??
      [];
    expect(mapping?.Properties.FilterCriteria).toEqual({
      Filters: [
        {
          Pattern: JSON.stringify({
            eventName: ['INSERT'],
            dynamodb: { Keys: { pk: { S: [{ prefix: 'PAYOUT#' }] } } },
          }),
        },
      ],
    });
    expect(mapping?.Properties.FunctionResponseTypes).toEqual(['ReportBatchItemFailures']);
    for (const id of ['DispatchPayoutsLambdaFunction', 'SweepPayoutsLambdaFunction']) {
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

  it('takes its CORS origins from configuration, never *', () => {
    const [, api] = ofType('AWS::ApiGatewayV2::Api')[0] ?? [];
    expect(api?.Properties.CorsConfiguration).toMatchObject({
      AllowOrigins: ['https://app.example.com'],
    });
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
