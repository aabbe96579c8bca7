/**
 * openapi.yaml as the fuzzer's oracle: every route it lists, and for each the refusals it
 * documents (status => error codes, from the `error.code` enums of the responses it names), and
 * the schemas answers' bodies must conform to. Read at run time, so a route, a refusal or a
 * schema added to the document is held to it without edits.
 */
import path from 'node:path';
import { loadOpenApi, OpenApiOracle, pointer } from '../../../support/openapi';

const ROOT = path.resolve(__dirname, '..', '..', '..', '..');
export const OPENAPI_FILE = path.join(ROOT, 'openapi.yaml');

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

type Obj = Record<string, unknown>;
const isObj = (value: unknown): value is Obj =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** `METHOD /path/{param}` exactly as openapi.yaml spells the path. */
export const routeKey = (method: string, routePath: string): string =>
  `${method.toUpperCase()} ${routePath}`;

export interface DocumentedRoute {
  key: string;
  method: string;
  path: string;
  /** Refusals the route documents: HTTP status => the error codes it may carry. */
  refusals: Map<number, Set<string>>;
}

export interface Contract {
  routes: DocumentedRoute[];
  byKey: Map<string, DocumentedRoute>;
  /** Any method and path not listed: the document's `RouteNotFound` (status and codes). */
  routeNotFound: { status: number; codes: Set<string> };
  /** Every error code with the one status the document gives it. */
  codes: Map<string, number>;
  bodies: Bodies;
}

/** What is wrong with an answer's body by openapi.yaml (empty: it conforms). */
export interface Bodies {
  /** A success of the route (`METHOD /path`) with this status. */
  answer(route: string, status: number, body: unknown): string[];
  /** A refusal: the document's `Error` (which codes a route documents is judged apart). */
  refusal(body: unknown): string[];
}

/** The validators, compiled (Ajv, strict) only when an answer is first checked. */
function bodiesOf(doc: Obj): Bodies {
  let oracle: OpenApiOracle | undefined;
  const validator = (): OpenApiOracle => (oracle ??= new OpenApiOracle(doc));
  return {
    answer(route, status, body) {
      const [method = '', routePath = ''] = route.split(' ');
      const op = validator().operation(method, routePath);
      const documented = validator()
        .responsesOf(op)
        .find((r) => r.status === String(status));
      if (documented === undefined) return [`status ${status} is not documented`];
      const content = isObj(documented.response.content) ? documented.response.content : {};
      if (!isObj(content['application/json'])) return ['no application/json body is documented'];
      const at = `${documented.at}/content/application~1json/schema`;
      return validator().problemsAt(at, body);
    },
    refusal(body) {
      return validator().problemsAt(pointer('components', 'schemas', 'Error'), body);
    },
  };
}

function deref(doc: Obj, value: unknown): unknown {
  let current = value;
  for (let hops = 0; isObj(current) && typeof current.$ref === 'string'; hops++) {
    const ref = current.$ref;
    if (!ref.startsWith('#/') || hops > 20) throw new Error(`openapi.yaml: cannot follow ${ref}`);
    current = ref
      .slice(2)
      .split('/')
      .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
      .reduce<unknown>((node, segment) => (isObj(node) ? node[segment] : undefined), doc);
    if (current === undefined) throw new Error(`openapi.yaml: dangling ${ref}`);
  }
  return current;
}

/**
 * The `error.code` enum values a response schema allows: beside a `$ref` (OpenAPI 3.1 keeps a
 * reference's siblings), through the reference, and through `oneOf`, `anyOf`, `allOf`.
 */
function errorCodes(doc: Obj, schema: unknown, depth = 0): string[] {
  if (!isObj(schema) || depth > 20) return [];
  const out: string[] = [];
  const properties = isObj(schema.properties) ? schema.properties : undefined;
  const error = isObj(properties?.error) ? properties.error : undefined;
  const code =
    error !== undefined && isObj(error.properties) && isObj(error.properties.code)
      ? error.properties.code
      : undefined;
  if (code !== undefined && Array.isArray(code.enum)) {
    for (const value of code.enum) if (typeof value === 'string') out.push(value);
  }
  for (const combinator of ['oneOf', 'anyOf', 'allOf']) {
    const list = schema[combinator];
    if (Array.isArray(list)) for (const item of list) out.push(...errorCodes(doc, item, depth + 1));
  }
  // The referenced schema narrows nothing when the siblings already name the codes.
  if (out.length === 0 && typeof schema.$ref === 'string') {
    out.push(...errorCodes(doc, deref(doc, { $ref: schema.$ref }), depth + 1));
  }
  return out;
}

function responseCodes(doc: Obj, response: unknown): string[] {
  const node = deref(doc, response);
  if (!isObj(node) || !isObj(node.content)) return [];
  const media = node.content['application/json'];
  return isObj(media) ? errorCodes(doc, media.schema) : [];
}

export function loadContract(file = OPENAPI_FILE): Contract {
  const doc = loadOpenApi(file);
  if (!isObj(doc.paths)) throw new Error(`${file}: no paths`);
  const routes: DocumentedRoute[] = [];
  const codes = new Map<string, number>();
  const note = (code: string, status: number): void => {
    const known = codes.get(code);
    if (known !== undefined && known !== status) {
      throw new Error(`${file}: ${code} is documented with ${known} and with ${status}`);
    }
    codes.set(code, status);
  };
  for (const [routePath, item] of Object.entries(doc.paths)) {
    if (!isObj(item)) continue;
    for (const method of METHODS) {
      const operation = item[method];
      if (!isObj(operation) || !isObj(operation.responses)) continue;
      const refusals = new Map<number, Set<string>>();
      for (const [status, response] of Object.entries(operation.responses)) {
        const numeric = Number(status);
        if (!Number.isInteger(numeric) || numeric < 400) continue;
        const found = responseCodes(doc, response);
        for (const code of found) note(code, numeric);
        refusals.set(numeric, new Set(found));
      }
      routes.push({
        key: routeKey(method, routePath),
        method: method.toUpperCase(),
        path: routePath,
        refusals,
      });
    }
  }
  const components = isObj(doc.components) ? doc.components : {};
  const responses = isObj(components.responses) ? components.responses : {};
  const notFound = responseCodes(doc, responses.RouteNotFound);
  if (notFound.length === 0) throw new Error(`${file}: no RouteNotFound response`);
  for (const code of notFound) note(code, 404);
  return {
    routes,
    byKey: new Map(routes.map((r) => [r.key, r])),
    routeNotFound: { status: 404, codes: new Set(notFound) },
    codes,
    bodies: bodiesOf(doc),
  };
}
