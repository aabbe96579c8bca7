/**
 * Section 8, cold start: every handler of serverless.yml bundled with esbuild exactly as its
 * custom.esbuild (through serverless-esbuild) bundles it; each bundle's size; and init time, a
 * fresh `node` process require()-ing the bundle (measured with process.hrtime inside the child,
 * around the require), the withdraw bundle against a bundle holding only the DynamoDB client and
 * DocumentClient construction, runs alternated. When a target is missed, the esbuild metafile
 * says where the bytes go, and small bundles of one dependency each say where the time goes.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { build, type BuildOptions, type Metafile } from 'esbuild';
import type { Progress } from './lib/progress';
// eslint-disable-next-line @typescript-eslint/no-require-imports -- plain CommonJS, shared with npm scripts
const { runtimeMajor } = require('../scripts/node-runtime.js') as { runtimeMajor: number };
import { median, round } from './lib/stats';
import { readServerlessConfig } from '../local/serverless-config';

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, '..');

export interface Bundle {
  name: string;
  entry: string;
  functions: string[];
  bytes: number;
  kb: number;
  initMs?: { median: number; samples: number[] };
}

export interface Share {
  name: string;
  kb: number;
  share: number;
}

export interface Component {
  name: string;
  kb: number;
  initMedianMs: number;
}

export interface ColdStartResult {
  esbuildOptions: BuildOptions;
  bundles: Bundle[];
  withdraw: Bundle;
  bare: Bundle;
  initRatio: number;
  analysis: {
    topPackages: Share[];
    topInputs: Share[];
    /** Bytes of the withdraw bundle that the bare-client bundle holds too (the SDK's closure). */
    sdkKb: number;
    /** The rest: the service's code and its other dependencies. */
    restKb: number;
    /** Files of the service that import each of these packages (type-only imports vanish). */
    importers: Record<string, string[]>;
    components: Component[];
  };
}

/** The parts of serverless.yml the bundles depend on. */
function serverlessYml(): {
  custom?: { esbuild?: Record<string, unknown> };
  functions?: Record<string, { handler?: string }>;
} {
  return readServerlessConfig();
}

/** Options that are serverless-esbuild's own, not esbuild's (dropped before esbuild.build). */
const PLUGIN_ONLY = new Set([
  'concurrency',
  'zipConcurrency',
  'exclude',
  'nativeZip',
  'packager',
  'packagePath',
  'watch',
  'keepOutputDirectory',
  'packagerOptions',
  'installExtraArgs',
  'outputFileExtension',
  'outputBuildFolder',
  'outputWorkFolder',
  'nodeExternals',
  'skipBuild',
  'skipRebuild',
  'skipBuildExcludeFns',
  'stripEntryResolveExtensions',
  'disposeContext',
  'config',
]);

/** What serverless-esbuild 1.57 passes to esbuild: its defaults, then custom.esbuild, exclude as external. */
export function esbuildOptionsFromServerless(): BuildOptions {
  const doc = serverlessYml();
  const custom = doc.custom?.esbuild ?? {};
  // serverless.yml takes the runtime from package.json (scripts/node-runtime.js reads it there).
  const defaults: Record<string, unknown> = {
    bundle: true,
    target: `node${runtimeMajor}`,
    external: [],
    exclude: ['aws-sdk'],
    platform: 'node',
  };
  const merged: Record<string, unknown> = { ...defaults, ...custom };
  // serverless-esbuild loads `plugins` from the file it names.
  if (typeof merged.plugins === 'string') {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- a CommonJS plugin file
    merged.plugins = require(path.join(ROOT, merged.plugins)) as unknown;
  }
  const exclude = (merged.exclude as string[] | undefined) ?? [];
  const options = Object.fromEntries(
    Object.entries(merged).filter(([name]) => !PLUGIN_ONLY.has(name)),
  ) as BuildOptions;
  options.external = [
    ...((merged.external as string[] | undefined) ?? []),
    ...(exclude.includes('*') ? [] : exclude),
  ];
  return options;
}

function handlerEntries(): Array<{ entry: string; functions: string[] }> {
  const functions = serverlessYml().functions ?? {};
  const byFile = new Map<string, string[]>();
  for (const [name, fn] of Object.entries(functions)) {
    if (!fn.handler) continue;
    const file = `${fn.handler.slice(0, fn.handler.lastIndexOf('.'))}.ts`;
    byFile.set(file, [...(byFile.get(file) ?? []), name]);
  }
  return [...byFile].map(([entry, names]) => ({ entry, functions: names }));
}

const BARE_CLIENT = `
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
export const documentClient = DynamoDBDocumentClient.from(
  new DynamoDBClient({ region: process.env.AWS_REGION ?? 'us-east-1' }),
  { marshallOptions: { removeUndefinedValues: true } },
);
`;

/** One dependency each, for "where does the init time go". */
const COMPONENTS: Array<{ name: string; source: string }> = [
  {
    name: '@aws-sdk/client-dynamodb + lib-dynamodb (loaded, no client built)',
    source: `export { DynamoDBClient, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
export { DynamoDBDocumentClient, TransactWriteCommand, GetCommand } from '@aws-sdk/lib-dynamodb';`,
  },
  {
    name: "zod 4 classic (import { z } from 'zod'), one small schema",
    source: `import { z } from 'zod';
export const schema = z.strictObject({ amount: z.number().int(), currency: z.string().optional() });`,
  },
  {
    name: 'zod/mini, the same schema',
    source: `import * as z from 'zod/mini';
export const schema = z.strictObject({ amount: z.number().check(z.int()), currency: z.optional(z.string()) });`,
  },
  {
    name: '@aws-lambda-powertools/logger + its middy middleware',
    source: `import { Logger } from '@aws-lambda-powertools/logger';
export { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
export const logger = new Logger({ serviceName: 'x' });`,
  },
  {
    name: 'jose (token verification)',
    source: `export { jwtVerify, createRemoteJWKSet, createLocalJWKSet, errors } from 'jose';`,
  },
  {
    name: '@middy/core + http-header-normalizer',
    source: `import middy from '@middy/core';
import httpHeaderNormalizer from '@middy/http-header-normalizer';
export const handler = middy().use(httpHeaderNormalizer());`,
  },
];

const MEASURE = `
const t0 = process.hrtime.bigint();
require(process.argv[2]);
const t1 = process.hrtime.bigint();
process.stdout.write(String(Number(t1 - t0) / 1e6));
`;

function packageOf(input: string): string {
  const parts = input.split('node_modules/');
  const tail = parts[parts.length - 1] ?? input;
  if (parts.length === 1) return tail.split('/').slice(0, 2).join('/');
  const segments = tail.split('/');
  return segments[0]?.startsWith('@') ? segments.slice(0, 2).join('/') : (segments[0] ?? tail);
}

function inputsOf(metafile: Metafile): Map<string, number> {
  const output = Object.values(metafile.outputs)[0];
  return new Map(
    Object.entries(output?.inputs ?? {}).map(([file, info]) => [file, info.bytesInOutput]),
  );
}

const kb = (bytes: number): number => round(bytes / 1024, 1);

function importersOf(metafile: Metafile, packages: string[]): Record<string, string[]> {
  return Object.fromEntries(
    packages.map((name) => [
      name,
      Object.entries(metafile.inputs)
        .filter(([file]) => !file.includes('node_modules/'))
        .filter(([, input]) => input.imports.some((i) => i.path.includes(`node_modules/${name}/`)))
        .map(([file]) => file)
        .sort(),
    ]),
  );
}

export async function measureColdStart(options: {
  initSamples: number;
  componentSamples: number;
  otherHandlerSamples: number;
  progress: Progress;
}): Promise<ColdStartResult> {
  const { progress } = options;
  const esbuildOptions = esbuildOptionsFromServerless();
  const outDir = mkdtempSync(path.join(os.tmpdir(), 'bench-bundles-'));
  try {
    const measureFile = path.join(outDir, 'measure-init.js');
    writeFileSync(measureFile, MEASURE);
    const env = {
      ...process.env,
      AWS_REGION: 'us-east-1',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      // The bundles leave @aws-sdk out (serverless.yml custom.esbuild.exclude), as Lambda's
      // nodejs24.x runtime provides it on NODE_PATH; here our pinned copy plays that part.
      NODE_PATH: path.join(ROOT, 'node_modules'),
    };
    const initOnce = async (file: string): Promise<number> => {
      const { stdout } = await run(process.execPath, [measureFile, file], { env, cwd: outDir });
      const value = Number(stdout.trim());
      if (!Number.isFinite(value)) throw new Error(`init of ${file}: ${stdout}`);
      return value;
    };

    const bundleOne = async (
      name: string,
      input: { entry: string } | { source: string },
    ): Promise<{ file: string; bytes: number; metafile: Metafile }> => {
      const outfile = path.join(outDir, `${name.replace(/[^A-Za-z0-9_-]+/g, '_')}.js`);
      const result = await build({
        ...esbuildOptions,
        ...('entry' in input
          ? { entryPoints: [path.join(ROOT, input.entry)] }
          : {
              stdin: {
                contents: input.source,
                resolveDir: ROOT,
                loader: 'ts',
                sourcefile: `${name}.ts`,
              },
            }),
        outfile,
        write: true,
        metafile: true,
        logLevel: 'silent',
      });
      const output = Object.values(result.metafile.outputs)[0];
      return { file: outfile, bytes: output?.bytes ?? 0, metafile: result.metafile };
    };

    const entries = handlerEntries();
    const step = progress.step('esbuild: handler bundles', entries.length + 1);
    const built = [];
    for (const { entry, functions } of entries) {
      built.push({
        entry,
        functions,
        ...(await bundleOne(path.basename(entry, '.ts'), { entry })),
      });
      step.tick();
    }
    const bareBuilt = await bundleOne('bare-dynamodb-client', { source: BARE_CLIENT });
    step.tick();
    step.done();
    const withdrawBuilt = built.find((b) => b.entry === 'handlers/withdrawals.ts');
    if (!withdrawBuilt) throw new Error('serverless.yml has no handlers/withdrawals handler');

    // Init: withdraw and bare alternated, so load on the machine falls on both alike.
    const samples = { withdraw: [] as number[], bare: [] as number[] };
    const initStep = progress.step(
      'init: withdraw vs bare client, alternated',
      2 * options.initSamples,
    );
    for (let i = 0; i < options.initSamples; i++) {
      const order = i % 2 === 0 ? (['withdraw', 'bare'] as const) : (['bare', 'withdraw'] as const);
      for (const which of order) {
        samples[which].push(
          await initOnce(which === 'withdraw' ? withdrawBuilt.file : bareBuilt.file),
        );
        initStep.tick();
      }
    }
    initStep.done();

    const bundles: Bundle[] = [];
    const others = built.filter((b) => b !== withdrawBuilt);
    const otherStep = progress.step(
      'init: other handlers',
      others.length * options.otherHandlerSamples,
    );
    for (const b of built) {
      const bundle: Bundle = {
        name: path.basename(b.entry, '.ts'),
        entry: b.entry,
        functions: b.functions,
        bytes: b.bytes,
        kb: kb(b.bytes),
      };
      if (b === withdrawBuilt) {
        bundle.initMs = {
          median: round(median(samples.withdraw), 1),
          samples: samples.withdraw.map((s) => round(s, 1)),
        };
      } else if (options.otherHandlerSamples > 0) {
        const own: number[] = [];
        for (let i = 0; i < options.otherHandlerSamples; i++) {
          own.push(await initOnce(b.file));
          otherStep.tick();
        }
        bundle.initMs = { median: round(median(own), 1), samples: own.map((s) => round(s, 1)) };
      }
      bundles.push(bundle);
    }
    otherStep.done();
    const withdraw = bundles.find((b) => b.entry === withdrawBuilt.entry) as Bundle;
    const bare: Bundle = {
      name: 'bare DynamoDB client',
      entry: '(client-dynamodb + lib-dynamodb, client constructed)',
      functions: [],
      bytes: bareBuilt.bytes,
      kb: kb(bareBuilt.bytes),
      initMs: {
        median: round(median(samples.bare), 1),
        samples: samples.bare.map((s) => round(s, 1)),
      },
    };

    // Where the bytes go.
    const inputs = inputsOf(withdrawBuilt.metafile);
    const bareInputs = inputsOf(bareBuilt.metafile);
    const total = [...inputs.values()].reduce((a, b) => a + b, 0);
    const packages = new Map<string, number>();
    for (const [file, bytes] of inputs)
      packages.set(packageOf(file), (packages.get(packageOf(file)) ?? 0) + bytes);
    const share = ([name, bytes]: [string, number]): Share => ({
      name,
      kb: kb(bytes),
      share: round(bytes / total, 3),
    });
    const sdkBytes = [...inputs]
      .filter(([file]) => bareInputs.has(file))
      .reduce((a, [, b]) => a + b, 0);

    // Where the time goes: one dependency per bundle.
    const components: Component[] = [];
    if (options.componentSamples > 0) {
      const componentStep = progress.step(
        'init: one dependency per bundle',
        COMPONENTS.length * options.componentSamples,
      );
      for (const component of COMPONENTS) {
        const b = await bundleOne(component.name, { source: component.source });
        const own: number[] = [];
        for (let i = 0; i < options.componentSamples; i++) {
          own.push(await initOnce(b.file));
          componentStep.tick();
        }
        components.push({
          name: component.name,
          kb: kb(b.bytes),
          initMedianMs: round(median(own), 1),
        });
      }
      componentStep.done();
    }

    return {
      esbuildOptions,
      bundles,
      withdraw,
      bare,
      initRatio: round((withdraw.initMs?.median ?? 0) / (bare.initMs?.median ?? 1), 3),
      analysis: {
        topPackages: [...packages]
          .sort((a, b) => b[1] - a[1])
          .slice(0, 12)
          .map(share),
        topInputs: [...inputs]
          .sort((a, b) => b[1] - a[1])
          .slice(0, 12)
          .map(([file, bytes]) => share([file.replace(/^.*node_modules\//, ''), bytes])),
        importers: importersOf(withdrawBuilt.metafile, ['zod', 'jose']),
        sdkKb: kb(sdkBytes),
        restKb: kb(total - sdkBytes),
        components,
      },
    };
  } finally {
    rmSync(outDir, { recursive: true, force: true });
  }
}
