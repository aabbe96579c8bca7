import { readServerlessConfig, serverlessYmlPath } from '../../local/serverless-config';

/** The HTTP API stage's throttles, as serverless.yml declares them (default parameters). */
export interface StageThrottles {
  /** Requests per second of each route without a throttle of its own. */
  defaultRate: number;
  /** Route key (`POST /transfers`) → requests per second, for routes with a throttle of their own. */
  routes: Record<string, number>;
}

type Tree = Record<string, unknown>;
const isTree = (value: unknown): value is Tree => typeof value === 'object' && value !== null;

/** `${self:a.b}` and `${param:x}` (the default stage's), the only variables the throttles use. */
function resolve(config: Tree, value: unknown): unknown {
  if (typeof value !== 'string') return value;
  const self = /^\$\{self:([\w.]+)\}$/.exec(value)?.[1];
  if (self !== undefined) {
    const found = self
      .split('.')
      .reduce<unknown>((at, name) => (isTree(at) ? at[name] : undefined), config);
    return resolve(config, found);
  }
  const param = /^\$\{param:(\w+)\}$/.exec(value)?.[1];
  if (param !== undefined) {
    const params =
      isTree(config.params) && isTree(config.params.default) ? config.params.default : {};
    return resolve(config, params[param]);
  }
  return value;
}

export function stageThrottles(file = serverlessYmlPath()): StageThrottles {
  const config = readServerlessConfig(file) as Tree;
  const extensions = isTree(config.resources) ? config.resources.extensions : undefined;
  const stage =
    isTree(extensions) && isTree(extensions.HttpApiStage) ? extensions.HttpApiStage : {};
  const properties = isTree(stage.Properties) ? stage.Properties : {};
  const rateOf = (setting: unknown): number => {
    const resolved = resolve(config, setting);
    const rate = Number(
      resolve(config, isTree(resolved) ? resolved.ThrottlingRateLimit : undefined),
    );
    if (!Number.isFinite(rate) || rate <= 0) {
      throw new Error(`${file}: a stage throttle without a ThrottlingRateLimit`);
    }
    return rate;
  };
  const routes = isTree(properties.RouteSettings) ? properties.RouteSettings : {};
  return {
    defaultRate: rateOf(properties.DefaultRouteSettings),
    routes: Object.fromEntries(Object.entries(routes).map(([key, s]) => [key, rateOf(s)])),
  };
}
