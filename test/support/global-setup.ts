import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { build, isFresh } from '../../bin/build.js';
import { connectPGlite } from '../../src/db/connect.ts';
import { migrate } from '../../src/db/migrator.ts';
import { prepareTemplate } from '../../src/entry/embedded.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    pgliteDump: string;
  }
}

/**
 * Tests that spawn `herald` run the compiled dist/ (bin/herald.js builds it when stale): it is
 * built here once, so no test's timing includes a build and parallel spawns find it ready.
 *
 * PGlite takes seconds to initialise from nothing and half a second to load a data directory,
 * so the suite migrates one embedded database once and every test file loads a copy of it.
 * The tests that start `herald serve` on a fresh data dir copy the template `herald prepare`
 * makes (npm install runs it): made here if it is missing or out of date, so that they do not each
 * make it on their first start.
 */
export default async function setup(project: TestProject) {
  if (!isFresh()) await build();
  await prepareTemplate({ templateDir: undefined });
  const dir = await mkdtemp(join(tmpdir(), 'herald-test-'));
  const file = join(dir, 'migrated.tar.gz');
  const handle = await connectPGlite();
  await migrate(handle.db);
  const dump = await handle.pglite!.dumpDataDir('gzip');
  await writeFile(file, Buffer.from(await dump.arrayBuffer()));
  await handle.close();
  project.provide('pgliteDump', file);
  return async () => {
    await rm(dir, { recursive: true, force: true });
  };
}
