/**
 * openapi.yaml as a test oracle: loads it, checks it structurally (an Ajv schema for the parts of
 * OpenAPI 3.1 a document may use, plus the rules a schema cannot say: every $ref resolves, path
 * templates match their parameters, ...), compiles every schema in it with Ajv 2020 (strict), and
 * validates real responses (status, media type, headers, body) and requests against it.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import Ajv2020, { type ErrorObject, type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import yaml from 'js-yaml';
import { httpApiRoutes, readServerlessConfig } from '../../local/serverless-config';

const ROOT = path.resolve(__dirname, '..', '..');
export const OPENAPI_FILE = path.join(ROOT, 'openapi.yaml');
export const SERVERLESS_FILE = path.join(ROOT, 'serverless.yml');

/** The id the document is registered under in Ajv, so `#/components/...` refs resolve inside it. */
const DOC_ID = 'https://money-movement.local/openapi.yaml';

export const HTTP_METHODS = [
  'get',
  'put',
  'post',
  'delete',
  'options',
  'head',
  'patch',
  'trace',
] as const;
export type HttpMethod = (typeof HTTP_METHODS)[number];

export type Obj = Record<string, unknown>;
export const isObj = (value: unknown): value is Obj =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

export function loadOpenApi(file = OPENAPI_FILE): Obj {
  const doc = yaml.load(readFileSync(file, 'utf8'), { schema: yaml.CORE_SCHEMA, filename: file });
  if (!isObj(doc)) throw new Error(`${file} is not a YAML mapping`);
  return doc;
}

// ---------------------------------------------------------------------------------------------
// serverless.yml

export interface ServerlessRoute {
  functionName: string;
  method: HttpMethod;
  path: string;
}

/**
 * The httpApi events of serverless.yml (read by its one reader, local/serverless-config.ts):
 * routes with OpenAPI's lower-case methods, the functions behind the catch-all `*`, and each
 * routed function's handler (`handlers/accounts.list`: module, then export).
 */
export function serverlessHttpApi(file = SERVERLESS_FILE): {
  routes: ServerlessRoute[];
  catchAll: string[];
  handlers: Record<string, string>;
} {
  const { routes, catchAll } = httpApiRoutes(file);
  const functions = readServerlessConfig(file).functions;
  const handlers: Record<string, string> = {};
  for (const name of [...routes.map((route) => route.functionName), ...catchAll]) {
    const handler = functions[name]?.handler;
    if (handler !== undefined) handlers[name] = handler;
  }
  return {
    routes: routes.map((route) => {
      const method = route.method.toLowerCase() as HttpMethod;
      if (!HTTP_METHODS.includes(method))
        throw new Error(`${file}: ${route.functionName}: ${method}`);
      return { ...route, method };
    }),
    catchAll,
    handlers,
  };
}

// ---------------------------------------------------------------------------------------------
// JSON pointers and references

const escapeSegment = (segment: string): string => segment.replace(/~/g, '~0').replace(/\//g, '~1');
const unescapeSegment = (segment: string): string =>
  segment.replace(/~1/g, '/').replace(/~0/g, '~');

/** A JSON pointer (`/a/b~1c`) from its segments. */
export const pointer = (...segments: string[]): string =>
  segments.map((s) => `/${escapeSegment(s)}`).join('');

export function valueAt(doc: Obj, jsonPointer: string): unknown {
  let node: unknown = doc;
  for (const raw of jsonPointer.split('/').slice(1)) {
    const segment = unescapeSegment(raw);
    if (Array.isArray(node)) node = node[Number(segment)];
    else if (isObj(node)) node = node[segment];
    else return undefined;
  }
  return node;
}

/** Follows `$ref` chains; returns the object and the pointer of where it really lives. */
export function deref(doc: Obj, value: unknown, at: string): { value: unknown; at: string } {
  const seen = new Set<string>();
  let current = { value, at };
  while (isObj(current.value) && typeof current.value.$ref === 'string') {
    const ref = current.value.$ref;
    if (!ref.startsWith('#/') || seen.has(ref))
      throw new Error(`unresolvable $ref ${ref} at ${at}`);
    seen.add(ref);
    const target = decodeURIComponent(ref.slice(1));
    current = { value: valueAt(doc, target), at: target };
    if (current.value === undefined) throw new Error(`dangling $ref ${ref} at ${at}`);
  }
  return current;
}

/** Every `$ref` in the document, with where it is. */
function allRefs(node: unknown, at = ''): Array<{ ref: string; at: string }> {
  if (Array.isArray(node)) return node.flatMap((item, i) => allRefs(item, `${at}/${i}`));
  if (!isObj(node)) return [];
  const own = typeof node.$ref === 'string' ? [{ ref: node.$ref, at }] : [];
  return [
    ...own,
    ...Object.entries(node).flatMap(([key, value]) =>
      allRefs(value, `${at}/${escapeSegment(key)}`),
    ),
  ];
}

export interface Operation {
  method: HttpMethod;
  path: string;
  operationId: string;
  operation: Obj;
  /** Parameters of the path item and the operation, resolved. */
  parameters: Array<{ param: Obj; at: string }>;
  at: string;
}

export function operationsOf(doc: Obj): Operation[] {
  const paths = isObj(doc.paths) ? doc.paths : {};
  const out: Operation[] = [];
  for (const [routePath, item] of Object.entries(paths)) {
    if (!isObj(item)) continue;
    for (const method of HTTP_METHODS) {
      const operation = item[method];
      if (!isObj(operation)) continue;
      const at = pointer('paths', routePath, method);
      const shared = Array.isArray(item.parameters) ? item.parameters : [];
      const own = Array.isArray(operation.parameters) ? operation.parameters : [];
      const parameters = [
        ...shared.map((p, i) => deref(doc, p, `${pointer('paths', routePath, 'parameters')}/${i}`)),
        ...own.map((p, i) => deref(doc, p, `${at}/parameters/${i}`)),
      ].map(({ value, at: where }) => ({ param: value as Obj, at: where }));
      out.push({
        method,
        path: routePath,
        operationId: String(operation.operationId),
        operation,
        parameters,
        at,
      });
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Structure

const EXT = { '^x-': true };
const str = { type: 'string' };
const bool = { type: 'boolean' };
const mapOf = (schema: unknown) => ({
  type: 'object',
  additionalProperties: schema,
});
const orRef = (def: string) => ({
  if: { type: 'object', required: ['$ref'] },
  then: { $ref: '#/$defs/reference' },
  else: { $ref: `#/$defs/${def}` },
});
const componentMap = (schema: unknown) => ({
  type: 'object',
  propertyNames: { pattern: '^[a-zA-Z0-9._-]+$' },
  additionalProperties: schema,
});
const strict = (
  properties: Obj,
  extra: Obj = {},
): Obj & { properties: Obj; additionalProperties: false } => ({
  type: 'object',
  properties,
  patternProperties: EXT,
  additionalProperties: false,
  ...extra,
});

/** The OpenAPI 3.1 object model, as far as a document of this service may use it. */
const OPENAPI_31_STRUCTURE = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  ...strict(
    {
      openapi: { type: 'string', pattern: '^3\\.1\\.\\d+(-.+)?$' },
      info: { $ref: '#/$defs/info' },
      jsonSchemaDialect: { type: 'string', format: 'uri' },
      servers: { type: 'array', items: { $ref: '#/$defs/server' } },
      paths: {
        type: 'object',
        propertyNames: { pattern: '^(/|x-)' },
        additionalProperties: { $ref: '#/$defs/pathItem' },
      },
      webhooks: mapOf({ $ref: '#/$defs/pathItem' }),
      components: { $ref: '#/$defs/components' },
      security: { type: 'array', items: { $ref: '#/$defs/securityRequirement' } },
      tags: { type: 'array', items: { $ref: '#/$defs/tag' } },
      externalDocs: { $ref: '#/$defs/externalDocs' },
    },
    {
      required: ['openapi', 'info'],
      anyOf: [{ required: ['paths'] }, { required: ['components'] }, { required: ['webhooks'] }],
    },
  ),
  $defs: {
    info: strict(
      {
        title: str,
        summary: str,
        description: str,
        termsOfService: { type: 'string', format: 'uri' },
        contact: strict({ name: str, url: str, email: str }),
        license: strict(
          { name: str, identifier: str, url: { type: 'string', format: 'uri' } },
          { required: ['name'], not: { required: ['identifier', 'url'] } },
        ),
        version: str,
      },
      { required: ['title', 'version'] },
    ),
    server: strict(
      {
        url: str,
        description: str,
        variables: mapOf(
          strict(
            { enum: { type: 'array', items: str, minItems: 1 }, default: str, description: str },
            { required: ['default'] },
          ),
        ),
      },
      { required: ['url'] },
    ),
    externalDocs: strict({ description: str, url: str }, { required: ['url'] }),
    tag: strict(
      { name: str, description: str, externalDocs: { $ref: '#/$defs/externalDocs' } },
      { required: ['name'] },
    ),
    reference: {
      type: 'object',
      properties: {
        $ref: { type: 'string', format: 'uri-reference' },
        summary: str,
        description: str,
      },
      required: ['$ref'],
      additionalProperties: false,
    },
    schema: { type: ['object', 'boolean'] },
    pathItem: strict({
      $ref: str,
      summary: str,
      description: str,
      ...Object.fromEntries(HTTP_METHODS.map((m) => [m, { $ref: '#/$defs/operation' }])),
      servers: { type: 'array', items: { $ref: '#/$defs/server' } },
      parameters: { type: 'array', items: orRef('parameter') },
    }),
    operation: strict(
      {
        tags: { type: 'array', items: str },
        summary: str,
        description: str,
        externalDocs: { $ref: '#/$defs/externalDocs' },
        operationId: str,
        parameters: { type: 'array', items: orRef('parameter') },
        requestBody: orRef('requestBody'),
        responses: { $ref: '#/$defs/responses' },
        callbacks: mapOf(true),
        deprecated: bool,
        security: { type: 'array', items: { $ref: '#/$defs/securityRequirement' } },
        servers: { type: 'array', items: { $ref: '#/$defs/server' } },
      },
      { required: ['responses'] },
    ),
    parameter: strict(
      {
        name: str,
        in: { enum: ['query', 'header', 'path', 'cookie'] },
        description: str,
        required: bool,
        deprecated: bool,
        allowEmptyValue: bool,
        style: str,
        explode: bool,
        allowReserved: bool,
        schema: { $ref: '#/$defs/schema' },
        content: mapOf({ $ref: '#/$defs/mediaType' }),
        example: true,
        examples: mapOf(true),
      },
      {
        required: ['name', 'in'],
        oneOf: [{ required: ['schema'] }, { required: ['content'] }],
        if: { properties: { in: { const: 'path' } } },
        then: { required: ['required'], properties: { required: { const: true } } },
      },
    ),
    requestBody: strict(
      { description: str, content: mapOf({ $ref: '#/$defs/mediaType' }), required: bool },
      { required: ['content'] },
    ),
    mediaType: strict({
      schema: { $ref: '#/$defs/schema' },
      example: true,
      examples: mapOf(true),
      encoding: mapOf(true),
    }),
    responses: {
      type: 'object',
      minProperties: 1,
      propertyNames: { pattern: '^([1-5](\\d\\d|XX)|default|x-.*)$' },
      additionalProperties: orRef('response'),
    },
    response: strict(
      {
        description: str,
        headers: mapOf(orRef('header')),
        content: mapOf({ $ref: '#/$defs/mediaType' }),
        links: mapOf(true),
      },
      { required: ['description'] },
    ),
    header: strict(
      {
        description: str,
        required: bool,
        deprecated: bool,
        style: { const: 'simple' },
        explode: bool,
        schema: { $ref: '#/$defs/schema' },
        content: mapOf({ $ref: '#/$defs/mediaType' }),
        example: true,
        examples: mapOf(true),
      },
      { oneOf: [{ required: ['schema'] }, { required: ['content'] }] },
    ),
    securityScheme: strict(
      {
        type: { enum: ['apiKey', 'http', 'mutualTLS', 'oauth2', 'openIdConnect'] },
        description: str,
        name: str,
        in: { enum: ['query', 'header', 'cookie'] },
        scheme: str,
        bearerFormat: str,
        flows: { type: 'object' },
        openIdConnectUrl: str,
      },
      {
        required: ['type'],
        if: { properties: { type: { const: 'http' } } },
        then: { required: ['scheme'] },
      },
    ),
    securityRequirement: mapOf({ type: 'array', items: str }),
    components: strict({
      schemas: componentMap({ $ref: '#/$defs/schema' }),
      responses: componentMap(orRef('response')),
      parameters: componentMap(orRef('parameter')),
      examples: componentMap(true),
      requestBodies: componentMap(orRef('requestBody')),
      headers: componentMap(orRef('header')),
      securitySchemes: componentMap(orRef('securityScheme')),
      links: componentMap(true),
      callbacks: componentMap(true),
      pathItems: componentMap({ $ref: '#/$defs/pathItem' }),
    }),
  },
};

const formatErrors = (errors: ErrorObject[] | null | undefined): string[] =>
  (errors ?? []).map(
    (e) => `${e.instancePath || '/'} ${e.message ?? e.keyword} ${JSON.stringify(e.params)}`,
  );

/**
 * Everything wrong with the document as OpenAPI 3.1 (empty when nothing is): its structure, then
 * the rules across objects.
 */
export function structuralProblems(doc: Obj): string[] {
  // `required` inside if/anyOf names properties declared next to them: strictRequired would refuse.
  const meta = new Ajv2020({
    strict: true,
    strictRequired: false,
    allErrors: true,
    allowUnionTypes: true,
  });
  addFormats(meta);
  const validate = meta.compile(OPENAPI_31_STRUCTURE);
  if (!validate(doc)) return formatErrors(validate.errors);

  const problems: string[] = [];
  // Every reference is local, resolves, and names the right kind of component.
  const kindOf = (at: string): string | undefined => {
    if (/\/schema(\/|$)/.test(at) || at.startsWith('/components/schemas/')) return 'schemas';
    const parts = at.split('/');
    const last = parts[parts.length - 1] ?? '';
    const parent = parts[parts.length - 2] ?? '';
    const grandparent = parts[parts.length - 3] ?? '';
    if (parent === 'parameters') return 'parameters';
    if (last === 'requestBody') return 'requestBodies';
    if (parent === 'responses' && grandparent !== 'components') return 'responses';
    if (parent === 'headers' && grandparent !== 'components') return 'headers';
    if (grandparent === 'components' && parent !== 'schemas') return parent;
    return 'schemas';
  };
  for (const { ref, at } of allRefs(doc)) {
    if (!ref.startsWith('#/components/')) {
      problems.push(`${at}: $ref ${ref} is not a local component`);
      continue;
    }
    if (valueAt(doc, decodeURIComponent(ref.slice(1))) === undefined) {
      problems.push(`${at}: $ref ${ref} resolves to nothing`);
      continue;
    }
    const kind = kindOf(at);
    if (!ref.startsWith(`#/components/${kind}/`)) {
      problems.push(`${at}: $ref ${ref} should name a component of components/${kind}`);
    }
  }
  if (problems.length > 0) return problems;

  const components = isObj(doc.components) ? doc.components : {};
  const schemes = isObj(components.securitySchemes) ? components.securitySchemes : {};
  const declaredTags = new Set(
    (Array.isArray(doc.tags) ? doc.tags : []).map((t) => (isObj(t) ? t.name : undefined)),
  );
  const checkSecurity = (security: unknown, at: string): void => {
    for (const requirement of Array.isArray(security) ? security : []) {
      for (const [name, scopes] of Object.entries(requirement as Obj)) {
        if (!(name in schemes)) problems.push(`${at}: unknown security scheme ${name}`);
        else if (Array.isArray(scopes) && scopes.length > 0) {
          problems.push(`${at}: ${name} takes no scopes`);
        }
      }
    }
  };
  checkSecurity(doc.security, '/security');

  const ids = new Map<string, string>();
  for (const op of operationsOf(doc)) {
    const { operation, at } = op;
    if (typeof operation.operationId !== 'string' || operation.operationId === '') {
      problems.push(`${at}: no operationId`);
    } else if (ids.has(operation.operationId)) {
      problems.push(
        `${at}: operationId ${operation.operationId} also at ${ids.get(operation.operationId)}`,
      );
    } else {
      ids.set(operation.operationId, at);
    }
    checkSecurity(operation.security, `${at}/security`);
    for (const tag of Array.isArray(operation.tags) ? operation.tags : []) {
      if (!declaredTags.has(tag)) problems.push(`${at}: tag ${String(tag)} is not declared`);
    }
    // Path templates and path parameters match one to one; no parameter is declared twice.
    const templated = [...op.path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]).sort();
    const inPath = op.parameters
      .filter(({ param }) => param.in === 'path')
      .map(({ param }) => String(param.name))
      .sort();
    if (JSON.stringify(templated) !== JSON.stringify(inPath)) {
      problems.push(`${at}: path parameters ${inPath.join(',')} do not match ${op.path}`);
    }
    const keys = op.parameters.map(
      ({ param }) => `${String(param.in)}:${String(param.name).toLowerCase()}`,
    );
    if (new Set(keys).size !== keys.length) problems.push(`${at}: a parameter is declared twice`);
    const responses = operation.responses as Obj;
    if (!Object.keys(responses).some((status) => /^2/.test(status))) {
      problems.push(`${at}: no success response`);
    }
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------
// Validation

export interface LiveResponse {
  status: number;
  headers: Headers;
  body: unknown;
}

/** OpenAPI keywords that may sit next to schemas but are not JSON Schema. */
const OPENAPI_KEYWORDS = [
  'openapi',
  'info',
  'servers',
  'paths',
  'components',
  'security',
  'tags',
  'webhooks',
  'jsonSchemaDialect',
  'externalDocs',
  'discriminator',
  'xml',
  'example',
];

/** Error codes a response schema allows: `error.code`'s enum (through `oneOf` alternatives). */
export function errorCodesOf(doc: Obj, schema: unknown, at: string): string[] {
  if (!isObj(schema)) return [];
  if (Array.isArray(schema.oneOf)) {
    return schema.oneOf.flatMap((s, i) => errorCodesOf(doc, s, `${at}/oneOf/${i}`));
  }
  const error = isObj(schema.properties) ? schema.properties.error : undefined;
  const code = isObj(error) && isObj(error.properties) ? error.properties.code : undefined;
  if (isObj(code) && Array.isArray(code.enum)) return code.enum.map(String);
  // A bare reference (nothing next to it) says what its target says.
  if (typeof schema.$ref === 'string' && Object.keys(schema).length === 1) {
    const target = deref(doc, schema, at);
    return errorCodesOf(doc, target.value, target.at);
  }
  return [];
}

export class OpenApiOracle {
  readonly ajv: Ajv2020;
  private readonly validators = new Map<string, ValidateFunction>();
  /** operationId (or `#/components/responses/<name>`) => statuses validated live. */
  readonly live = new Map<string, Set<number>>();
  readonly codesSeen = new Set<string>();
  private readonly ops: Operation[];
  /** Every response header name the document mentions, lower-cased. */
  private readonly knownHeaders: Set<string>;

  constructor(readonly doc: Obj) {
    this.ajv = new Ajv2020({ strict: true, allErrors: true, allowUnionTypes: true });
    addFormats(this.ajv);
    this.ajv.addVocabulary(OPENAPI_KEYWORDS);
    this.ajv.addSchema(doc, DOC_ID);
    this.ops = operationsOf(doc);
    this.knownHeaders = new Set(
      this.ops.flatMap((op) =>
        this.responsesOf(op).flatMap(({ response }) =>
          Object.keys(isObj(response.headers) ? response.headers : {}).map((h) => h.toLowerCase()),
        ),
      ),
    );
  }

  operations(): Operation[] {
    return this.ops;
  }

  operation(method: string, routePath: string): Operation {
    const op = this.ops.find((o) => o.method === method.toLowerCase() && o.path === routePath);
    if (!op) throw new Error(`openapi.yaml does not document ${method} ${routePath}`);
    return op;
  }

  /** The validator of the schema at a JSON pointer of the document (compiled once). */
  validatorAt(at: string): ValidateFunction {
    let validate = this.validators.get(at);
    if (!validate) {
      const fragment = at
        .split('/')
        .slice(1)
        .map((s) => encodeURIComponent(s))
        .join('/');
      validate = this.ajv.compile({ $ref: `${DOC_ID}#/${fragment}` });
      this.validators.set(at, validate);
    }
    return validate;
  }

  /** Problems of `value` against the schema at `at`; empty when it conforms. */
  problemsAt(at: string, value: unknown): string[] {
    const validate = this.validatorAt(at);
    return validate(value) ? [] : formatErrors(validate.errors);
  }

  responsesOf(op: Operation): Array<{ status: string; response: Obj; at: string }> {
    const responses = op.operation.responses as Obj;
    return Object.entries(responses).map(([status, value]) => {
      const resolved = deref(this.doc, value, `${op.at}/responses/${status}`);
      return { status, response: resolved.value as Obj, at: resolved.at };
    });
  }

  /** Every schema in the document, by pointer: components, bodies, parameters, headers. */
  schemaLocations(): string[] {
    const found = new Set<string>();
    const walk = (node: unknown, at: string): void => {
      if (Array.isArray(node)) node.forEach((item, i) => walk(item, `${at}/${i}`));
      if (!isObj(node)) return;
      for (const [key, value] of Object.entries(node)) {
        const here = `${at}/${escapeSegment(key)}`;
        if (key === 'schema' && isObj(value)) found.add(here);
        else if (at === '/components/schemas') found.add(here);
        else walk(value, here);
      }
    };
    walk(this.doc, '');
    return [...found].sort();
  }

  /**
   * Checks one real response of `method routePath` (or, for `component`, of a response in
   * components/responses): its status is documented, its media type, required and known
   * headers, and its body against the schema. Records what was validated. Empty when it conforms.
   */
  check(method: string, routePath: string, res: LiveResponse, component?: string): string[] {
    const where = component ? `#/components/responses/${component}` : `${method} ${routePath}`;
    let target: { response: Obj; at: string } | undefined;
    let key: string;
    if (component) {
      const at = pointer('components', 'responses', component);
      const response = valueAt(this.doc, at);
      if (!isObj(response)) return [`${where} is not documented`];
      target = { response, at };
      key = `#/components/responses/${component}`;
    } else {
      const op = this.operation(method, routePath);
      // The exact status, else its range (`4XX`), else `default`.
      const responses = this.responsesOf(op);
      target = [String(res.status), `${String(res.status)[0]}XX`, 'default']
        .map((status) => responses.find((r) => r.status === status))
        .find((r) => r !== undefined);
      key = op.operationId;
    }
    const context = `${where} answered ${res.status} ${JSON.stringify(res.body)}`;
    if (!target) return [`${context}: status ${res.status} is not documented`];
    const { response, at } = target;
    const problems: string[] = [];

    const headers = isObj(response.headers) ? response.headers : {};
    const documented = new Set<string>();
    for (const [name, value] of Object.entries(headers)) {
      documented.add(name.toLowerCase());
      const header = deref(this.doc, value, `${at}/headers/${escapeSegment(name)}`);
      const spec = header.value as Obj;
      const sent = res.headers.get(name);
      if (sent === null) {
        if (spec.required === true) problems.push(`header ${name} is missing`);
        continue;
      }
      for (const p of this.problemsAt(`${header.at}/schema`, sent)) {
        problems.push(`header ${name}: ${JSON.stringify(sent)} ${p}`);
      }
    }
    for (const name of this.knownHeaders) {
      if (!documented.has(name) && res.headers.get(name) !== null) {
        problems.push(`header ${name} is sent but not documented for ${res.status}`);
      }
    }

    const content = isObj(response.content) ? response.content : {};
    const mediaType = (res.headers.get('content-type') ?? '').split(';')[0]?.trim().toLowerCase();
    if (Object.keys(content).length > 0) {
      if (!mediaType || !(mediaType in content)) {
        problems.push(`media type ${String(mediaType)} is not documented`);
      } else {
        const schemaAt = `${at}/content/${escapeSegment(mediaType)}/schema`;
        problems.push(...this.problemsAt(schemaAt, res.body).map((p) => `body${p}`));
        const codes = errorCodesOf(this.doc, valueAt(this.doc, schemaAt), schemaAt);
        const body = res.body as { error?: { code?: unknown } };
        if (codes.length > 0 && typeof body?.error?.code === 'string') {
          this.codesSeen.add(body.error.code);
        }
      }
    }
    if (problems.length > 0) return problems.map((p) => `${context}: ${p}`);
    const statuses = this.live.get(key) ?? new Set<number>();
    statuses.add(res.status);
    this.live.set(key, statuses);
    return [];
  }

  /** Whether the documented request body schema of the operation accepts `body`. */
  acceptsBody(method: string, routePath: string, body: unknown): boolean {
    const op = this.operation(method, routePath);
    const requestBody = deref(this.doc, op.operation.requestBody, `${op.at}/requestBody`);
    return this.validatorAt(`${requestBody.at}/content/application~1json/schema`)(body);
  }

  /**
   * Whether the documented parameter accepts a raw (string) value; a query or header value is
   * read as an integer when its schema asks for one and it is written as one.
   */
  acceptsParameter(
    method: string,
    routePath: string,
    where: 'query' | 'header' | 'path',
    name: string,
    raw: string,
  ): boolean {
    const op = this.operation(method, routePath);
    const found = op.parameters.find(
      ({ param }) => param.in === where && String(param.name).toLowerCase() === name.toLowerCase(),
    );
    if (!found) throw new Error(`${method} ${routePath} documents no ${where} parameter ${name}`);
    const schema = found.param.schema as Obj;
    const value = schema.type === 'integer' && /^-?\d+$/.test(raw) ? Number(raw) : raw;
    return this.validatorAt(`${found.at}/schema`)(value);
  }
}
