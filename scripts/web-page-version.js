'use strict';
/* eslint-disable @typescript-eslint/no-require-imports -- a serverless.yml variable resolver */
// A hash of the web page's sources (serverless.yml, WebPage.PageVersion): CloudFormation calls
// the custom resource again only when one of its properties changes, so a changed page must
// change this value.
const { createHash } = require('node:crypto');
const { readdirSync, readFileSync } = require('node:fs');
const path = require('node:path');

const WEB = path.resolve(__dirname, '..', 'web');

function filesUnder(dir) {
  return readdirSync(dir, { withFileTypes: true })
    .sort((a, b) => a.name.localeCompare(b.name))
    .flatMap((entry) => {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) return entry.name === 'dist' ? [] : filesUnder(full);
      return [full];
    });
}

module.exports.version = () => {
  const hash = createHash('sha256');
  for (const file of filesUnder(WEB)) {
    hash.update(path.relative(WEB, file)).update('\0').update(readFileSync(file)).update('\0');
  }
  return hash.digest('hex').slice(0, 16);
};
