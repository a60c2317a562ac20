#!/usr/bin/env node
// Runs the TypeScript sources directly through tsx, so there is no build step between
// `npm install` and `npm start`. The checkout's own tsconfig (hono/jsx for the pages), wherever
// herald is run from: tsx would otherwise look for one in the working directory.
import { fileURLToPath } from 'node:url';
import { register } from 'tsx/esm/api';

register({ tsconfig: fileURLToPath(new URL('../tsconfig.json', import.meta.url)) });
const { main } = await import('../src/entry/cli.ts');
const code = await main(process.argv.slice(2));
if (code >= 0) process.exitCode = code;
