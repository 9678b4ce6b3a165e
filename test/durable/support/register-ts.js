// Lets a child Node process run the TypeScript sources directly (restart tests start the real
// host CLI from local/src without a build): compiles .ts with SWC on require and maps
// @attest/core to its sources.
const Module = require('node:module');
const path = require('node:path');
const fs = require('node:fs');
const { transformSync } = require('@swc/core');

const root = path.resolve(__dirname, '../../..');
const coreEntry = path.join(root, 'core/src/index.ts');
const resolveFilename = Module._resolveFilename;
Module._resolveFilename = function (request, parent, ...rest) {
  return resolveFilename.call(
    this,
    request === '@attest/core' ? coreEntry : request,
    parent,
    ...rest,
  );
};
require.extensions['.ts'] = function compileTs(module, filename) {
  const { code } = transformSync(fs.readFileSync(filename, 'utf8'), {
    filename,
    jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
    module: { type: 'commonjs' },
    sourceMaps: 'inline',
  });
  module._compile(code, filename);
};
