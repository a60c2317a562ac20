import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The client commands read the API's answers with the API's own types (IncidentView, RoleMode,
 * MaintenanceInfo, publicToken's), imported as types only: `herald incident:update` in the
 * middle of an outage must not load the server, kysely or pg to run.
 */

const CLI = new URL('../../src/cli/', import.meta.url).pathname;
const SERVER_SIDE = /^(?:\.\.\/)+(?:services|routes|db|cache|app)\b|^(?:kysely|pg|@electric-sql\/pglite|hono)(?:\/|$)/;

async function sources(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const nested = await Promise.all(entries.map((e) => (e.isDirectory() ? sources(join(dir, e.name)) : Promise.resolve(e.name.endsWith('.ts') ? [join(dir, e.name)] : []))));
  return nested.flat();
}

describe('herald CLI modules', () => {
  it('when a CLI module imports server code, it imports types only', async () => {
    const offending: string[] = [];
    for (const file of await sources(CLI)) {
      const text = await readFile(file, 'utf8');
      for (const m of text.matchAll(/^(import|export)\s+(type\s+)?[^;]*?from\s+'([^']+)'/gm)) {
        if (SERVER_SIDE.test(m[3]!) && !m[2]) offending.push(`${relative(CLI, file)}: ${m[0]}`);
      }
      for (const m of text.matchAll(/import\(\s*'([^']+)'\s*\)/g)) if (SERVER_SIDE.test(m[1]!)) offending.push(`${relative(CLI, file)}: ${m[0]}`);
    }
    expect(offending).toEqual([]);
  });
});
