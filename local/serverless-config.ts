/**
 * serverless.yml, read in one place for everything that runs without the framework: the table
 * the local stack creates, the routes the bank run fuzzes, the handlers the bench bundles. Same
 * parser as serverless (js-yaml 4), with CloudFormation's short tags read as their long form
 * (`!Ref X` => `{ Ref: 'X' }`, `!GetAtt A.B` => `{ 'Fn::GetAtt': ['A', 'B'] }`); `${...}`
 * variables stay as written.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import yaml from 'js-yaml';
import { z } from 'zod';

/** serverless.yml of this service; `SERVERLESS_YML` (a path) overrides it. */
export const serverlessYmlPath = (): string =>
  process.env.SERVERLESS_YML ?? path.resolve(__dirname, '..', 'serverless.yml');

const INTRINSICS = [
  'Base64',
  'Cidr',
  'Condition',
  'And',
  'Equals',
  'If',
  'Not',
  'Or',
  'FindInMap',
  'GetAtt',
  'GetAZs',
  'ImportValue',
  'Join',
  'Select',
  'Split',
  'Sub',
  'Transform',
  'Length',
  'ToJsonString',
];

/** `!Name` => the long form CloudFormation (and serverless) reads it as. */
function intrinsic(name: string, data: unknown): Record<string, unknown> {
  const key = name === 'Ref' || name === 'Condition' ? name : `Fn::${name}`;
  // `!GetAtt Res.Attr.Sub` => ['Res', 'Attr.Sub'], as serverless reads it.
  if (name === 'GetAtt' && typeof data === 'string') {
    const [resource = '', ...attribute] = data.split('.');
    return { [key]: [resource, attribute.join('.')] };
  }
  return { [key]: data };
}

const cloudFormationSchema = yaml.DEFAULT_SCHEMA.extend(
  ['Ref', ...INTRINSICS].flatMap((name) =>
    (['scalar', 'sequence', 'mapping'] as const).map(
      (kind) => new yaml.Type(`!${name}`, { kind, construct: (data) => intrinsic(name, data) }),
    ),
  ),
);

const functionSchema = z
  .object({ handler: z.string().optional(), events: z.array(z.unknown()).optional() })
  .loose();
const resourceSchema = z.object({ Type: z.string(), Properties: z.unknown() }).loose();

/** The parts of serverless.yml read here; everything else is kept, unchecked. */
const configSchema = z
  .object({
    functions: z.record(z.string(), functionSchema).default({}),
    custom: z.record(z.string(), z.unknown()).default({}),
    resources: z
      .object({ Resources: z.record(z.string(), resourceSchema).default({}) })
      .loose()
      .default({ Resources: {} }),
  })
  .loose();

export type ServerlessConfig = z.infer<typeof configSchema>;

export function readServerlessConfig(file = serverlessYmlPath()): ServerlessConfig {
  let doc: unknown;
  try {
    doc = yaml.load(readFileSync(file, 'utf8'), { schema: cloudFormationSchema, filename: file });
  } catch (err) {
    // Same parser as serverless: if this fails, `serverless package` fails too.
    throw new Error(
      `Cannot parse ${file} (serverless would fail the same way): ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  const parsed = configSchema.safeParse(doc);
  if (!parsed.success) throw new Error(`${file}: ${parsed.error.message}`);
  return parsed.data;
}

/** resources.Resources[logicalId], which must be of `type`. */
export function serverlessResource(
  logicalId: string,
  type: string,
  file = serverlessYmlPath(),
): z.infer<typeof resourceSchema> {
  const resource = readServerlessConfig(file).resources.Resources[logicalId];
  if (resource === undefined || resource.Type !== type) {
    throw new Error(`${file}: resources.Resources.${logicalId} is not an ${type}`);
  }
  return resource;
}

export interface HttpRoute {
  functionName: string;
  /** Upper case, as API Gateway's route keys spell it. */
  method: string;
  path: string;
}

/** An httpApi event: the catch-all, `METHOD /path`, or `{ method, path }`. */
const httpApiSpec = z.union([
  z.literal('*'),
  z.string().regex(/^\S+\s+\S+$/, 'an httpApi shorthand is "METHOD /path"'),
  z.object({ method: z.string(), path: z.string() }).loose(),
]);
const isHttpApiEvent = (event: unknown): event is { httpApi: unknown } =>
  typeof event === 'object' && event !== null && 'httpApi' in event;

/** The httpApi events of serverless.yml: its routes, and the functions behind the catch-all `*`. */
export function httpApiRoutes(file = serverlessYmlPath()): {
  routes: HttpRoute[];
  catchAll: string[];
} {
  const routes: HttpRoute[] = [];
  const catchAll: string[] = [];
  for (const [functionName, fn] of Object.entries(readServerlessConfig(file).functions)) {
    for (const event of fn.events ?? []) {
      if (!isHttpApiEvent(event)) continue; // a stream, a schedule...
      const parsed = httpApiSpec.safeParse(event.httpApi);
      if (!parsed.success) throw new Error(`${file}: ${functionName}: ${parsed.error.message}`);
      const spec = parsed.data;
      if (spec === '*') {
        catchAll.push(functionName);
        continue;
      }
      const [method = '', routePath = ''] =
        typeof spec === 'string' ? spec.split(/\s+/) : [spec.method, spec.path];
      if (method === '*') throw new Error(`${file}: ${functionName} answers any method`);
      routes.push({ functionName, method: method.toUpperCase(), path: routePath });
    }
  }
  return { routes, catchAll };
}
