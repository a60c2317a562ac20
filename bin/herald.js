#!/usr/bin/env node
// Runs the TypeScript sources directly through tsx, so there is no build step between
// `npm install` and `npm start`.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/entry/cli.ts');
const code = await main(process.argv.slice(2));
if (code >= 0) process.exitCode = code;
