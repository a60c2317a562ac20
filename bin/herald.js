#!/usr/bin/env node
// Runs the compiled CLI (dist/cli.js), building it first when it is missing or older than the
// sources in src/ and templates/ (bin/build.js): `npm install && npm start` needs no separate
// step, and no TypeScript compiler runs here. Every command goes through this check, `herald
// serve` and `herald gate` included.
import { BuildFailed, NotWritable, build, isFresh } from './build.js';

if (!isFresh()) {
  try {
    await build();
  } catch (error) {
    process.stderr.write(`herald: ${error instanceof NotWritable || error instanceof BuildFailed ? error.message : error.stack}\n`);
    process.exit(1);
  }
}
// Source maps (dist/*.js.map) are not turned on here: reading them at every module load cost
// 30-80 ms of each start and ~1.6 MB of heap, and Herald's logs carry no stack traces. For stack
// traces that name src/*.ts lines: NODE_OPTIONS=--enable-source-maps.
const { main } = await import('../dist/cli.js');
const code = await main(process.argv.slice(2));
if (code >= 0) process.exitCode = code;
