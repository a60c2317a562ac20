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
// Stack traces name src/*.ts and their lines (dist/*.js.map); measured: no cost at start-up.
process.setSourceMapsEnabled(true);
const { main } = await import('../dist/cli.js');
const code = await main(process.argv.slice(2));
if (code >= 0) process.exitCode = code;
