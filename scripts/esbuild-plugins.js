'use strict';
/* eslint-disable @typescript-eslint/no-require-imports -- loaded by serverless-esbuild as CommonJS */
// esbuild plugins for the Lambda bundles (serverless.yml custom.esbuild.plugins).
// `web-page:files`: the built web page (web/build.ts, the same build npm start serves), put into
// the bundle of the function that uploads it, so a deploy carries the page it was tested with.
const path = require('node:path');
const tsx = require('tsx/cjs/api');

const webPage = {
  name: 'web-page',
  setup(build) {
    build.onResolve({ filter: /^web-page:files$/ }, (args) => ({
      path: args.path,
      namespace: 'web-page',
    }));
    build.onLoad({ filter: /.*/, namespace: 'web-page' }, async () => {
      // tsx's namespaced require would also rewrite esbuild's path to its own binary: register.
      const unregister = tsx.register();
      const { buildWebPage } = require('../web/build.ts');
      unregister();
      const files = await buildWebPage({ sourcemap: false });
      return {
        contents: JSON.stringify(files),
        loader: 'json',
        resolveDir: path.resolve(__dirname, '..'),
      };
    });
  },
};

module.exports = [webPage];
