import { cp, mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectPGlite } from '../../src/db/connect.ts';
import { pgliteVersion } from '../../src/entry/embedded.ts';
import { parseLogfmt } from '../support/logfmt.ts';
import { runHerald, startHerald } from '../support/process.ts';
import { freePort } from '../support/throwaway-postgres.ts';

/**
 * `herald serve` on an empty data dir copies the template that `herald prepare` made instead of
 * running initdb in its own process (which would leave its peak RSS near 900 MB). Each test starts
 * the real binary; the template is this file's own (HERALD_TEMPLATE_DIR), made once up front.
 */

/** Far below what initdb in the server's own process leaves (about 900 MB), far above a server. */
const NO_INITDB_PEAK_KB = 450 * 1024;
const SLOW = 120_000;

let root: string;
let templates: string;
let template: string;
let migrationCount: number;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'herald-embedded-'));
  templates = join(root, 'templates');
  template = join(templates, `pglite-${pgliteVersion()}`);
  const made = await runHerald(['prepare'], { HERALD_TEMPLATE_DIR: templates });
  expect(made.code, made.stderr).toBe(0);
  expect(made.stderr).toMatch(/^Prepared the embedded database template in .*pglite-\d+\.\d+\.\d+ \(initdb and \d+ migrations, [\d.]+ s\)\.\n$/);
  migrationCount = (JSON.parse(await readFile(join(template, 'template.json'), 'utf8')) as { migrations: unknown[] }).migrations.length;
  expect(migrationCount).toBeGreaterThan(0);
}, SLOW);

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

let n = 0;
/** A data dir path of its own (not created). */
const newDataDir = () => join(root, `run-${++n}`, 'data');

async function serve(dataDir: string, templateDir = templates) {
  return startHerald({ HERALD_DATA_DIR: dataDir, HERALD_TEMPLATE_DIR: templateDir, PORT: String(await freePort()) }, { timeoutMs: SLOW });
}

type Server = Awaited<ReturnType<typeof serve>>;

/** Starts herald serve on `dataDir`, checks it gets ready (/readyz 200), and stops it cleanly. */
async function serveUntilReady(dataDir: string): Promise<Server> {
  const server = await serve(dataDir);
  try {
    expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
  } finally {
    expect(await server.stop()).toBe(0);
  }
  return server;
}

/** VmHWM of the server process, in kB. */
function peakKb(server: Server): number {
  return Number(/^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${server.child.pid}/status`, 'utf8'))![1]);
}

const messages = (server: Server) =>
  server
    .stderr()
    .trim()
    .split('\n')
    .map((l) => parseLogfmt(l).msg);

/** The names of the migrations recorded in a (closed) data dir, and when they were applied. */
async function recorded(dataDir: string): Promise<{ name: string; applied_at: Date }[]> {
  const h = await connectPGlite({ dataDir });
  try {
    return (await h.pglite!.query<{ name: string; applied_at: Date }>('select name, applied_at from herald_migrations order by name')).rows;
  } finally {
    await h.close();
  }
}

describe('herald serve on an empty data dir', () => {
  it('copies the template in (the log says so; the database is whole, migrated at the template\'s making, not here), and the server never ran initdb: its peak RSS stays low', async () => {
    const dataDir = newDataDir();
    const server = await serve(dataDir);
    let peak: number;
    try {
      expect((await fetch(`${server.url}/`)).status).toBe(200);
      expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
      peak = peakKb(server);
    } finally {
      expect(await server.stop()).toBe(0);
    }
    expect(messages(server).slice(0, 2)).toEqual(['created the embedded database from the template', 'listening']);
    const created = parseLogfmt(server.stderr().split('\n')[0]!);
    expect(created).toMatchObject({ dir: dataDir, template, duration: expect.stringMatching(/^\d+ms$/) });
    expect(peak).toBeLessThan(NO_INITDB_PEAK_KB);
    expect(readFileSync(join(dataDir, 'PG_VERSION'), 'utf8')).toBe(readFileSync(join(template, 'data', 'PG_VERSION'), 'utf8'));
    // One database, Herald's: initdb's template0 and template1 were dropped from the template.
    expect(readdirSync(join(dataDir, 'base'))).toHaveLength(1);
    expect(existsSync(join(dataDir, '.herald-init'))).toBe(false);
    expect(existsSync(join(dataDir, 'herald.lock'))).toBe(false);
    const rows = await recorded(dataDir);
    expect(rows).toHaveLength(migrationCount);
    const made = new Date((JSON.parse(await readFile(join(template, 'template.json'), 'utf8')) as { made_at: string }).made_at);
    for (const r of rows) expect(r.applied_at.getTime()).toBeLessThanOrEqual(made.getTime());
  }, SLOW);

  it('with no template, makes one in a child process (herald prepare) and copies it: the server\'s own peak RSS stays low; two first starts at once on two data dirs both get it', async () => {
    const empty = join(root, 'no-template-yet');
    const [a, b] = await Promise.all([serve(newDataDir(), empty), serve(newDataDir(), empty)]);
    try {
      for (const server of [a, b]) {
        expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
        expect(peakKb(server)).toBeLessThan(NO_INITDB_PEAK_KB);
      }
    } finally {
      expect(await a.stop()).toBe(0);
      expect(await b.stop()).toBe(0);
    }
    for (const server of [a, b]) {
      expect(messages(server).slice(0, 3)).toEqual([
        'making the embedded database template first (herald prepare, in a child process)',
        'created the embedded database from the template',
        'listening',
      ]);
    }
    expect(await readdir(empty)).toEqual([`pglite-${pgliteVersion()}`]);
  }, SLOW);

  it('when no template can be made (HERALD_TEMPLATE_DIR is a file), it says so and lets PGlite initialise the database in its own process', async () => {
    const notADir = join(root, 'a-file');
    await writeFile(notADir, '');
    const dataDir = newDataDir();
    const server = await serve(dataDir, notADir);
    try {
      expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
    } finally {
      expect(await server.stop()).toBe(0);
    }
    const lines = server.stderr().trim().split('\n').map(parseLogfmt);
    expect(lines.map((l) => l.msg).slice(0, 4)).toEqual([
      'making the embedded database template first (herald prepare, in a child process)',
      'could not make the embedded database template; initialising the database in this process instead (slower, and the memory stays taken until a restart)',
      'migrated',
      'listening',
    ]);
    expect(lines[1]).toMatchObject({ level: 'warn', exit: '1', error: expect.stringContaining('EEXIST') });
    expect(await recorded(dataDir)).toHaveLength(migrationCount);
  }, SLOW);

  it('a copy cut short (a staging dir with no mark of completion) is thrown away and copied again, never used', async () => {
    const dataDir = newDataDir();
    await mkdir(join(dataDir, '.herald-init', 'base'), { recursive: true });
    await writeFile(join(dataDir, '.herald-init', 'PG_VERSION'), 'not a version\n');
    await writeFile(join(dataDir, '.herald-init', 'base', 'half'), '');
    const server = await serveUntilReady(dataDir);
    expect(messages(server)[0]).toBe('created the embedded database from the template');
    expect(readFileSync(join(dataDir, 'PG_VERSION'), 'utf8')).toBe(readFileSync(join(template, 'data', 'PG_VERSION'), 'utf8'));
    expect(existsSync(join(dataDir, 'base', 'half'))).toBe(false);
    expect(existsSync(join(dataDir, '.herald-init'))).toBe(false);
  }, SLOW);

  it('a whole copy whose renames were cut short (marked complete, some entries moved) is finished', async () => {
    const dataDir = newDataDir();
    const staging = join(dataDir, '.herald-init');
    await cp(join(template, 'data'), staging, { recursive: true });
    await writeFile(join(staging, '.herald-copied'), '');
    const entries = (await readdir(staging)).filter((e) => e !== 'PG_VERSION' && e !== '.herald-copied');
    for (const e of entries.slice(0, Math.ceil(entries.length / 2))) await rename(join(staging, e), join(dataDir, e));
    const server = await serveUntilReady(dataDir);
    expect(messages(server)[0]).toBe('finished creating the embedded database from the template (a start before was cut short)');
    expect(existsSync(staging)).toBe(false);
    expect(await recorded(dataDir)).toHaveLength(migrationCount);
  }, SLOW);

  it('other files in it (a .gitkeep, lost+found) are left as they are', async () => {
    const dataDir = newDataDir();
    await mkdir(join(dataDir, 'lost+found'), { recursive: true });
    await writeFile(join(dataDir, '.gitkeep'), 'keep me\n');
    const server = await serveUntilReady(dataDir);
    expect(messages(server)[0]).toBe('created the embedded database from the template');
    expect(readFileSync(join(dataDir, '.gitkeep'), 'utf8')).toBe('keep me\n');
    expect(existsSync(join(dataDir, 'lost+found'))).toBe(true);
  }, SLOW);
});

describe('herald serve on a data dir that is not empty', () => {
  it('a database already there is opened, never written over: a token made in it still works', async () => {
    const dataDir = newDataDir();
    const made = await runHerald(['token:create', '--local', '--name', 'kept', '--scopes', 'admin'], { HERALD_DATA_DIR: dataDir, HERALD_TEMPLATE_DIR: templates });
    expect(made.code, made.stderr).toBe(0);
    expect(made.stderr).not.toContain('template'); // token:create copies quietly
    const server = await serve(dataDir);
    try {
      const r = await fetch(`${server.url}/api/v1/tokens`, { headers: { authorization: `Bearer ${made.stdout.trim()}` } });
      expect(r.status).toBe(200);
      expect(((await r.json()) as { name: string }[]).map((t) => t.name)).toEqual(['kept']);
    } finally {
      expect(await server.stop()).toBe(0);
    }
    expect(messages(server)).not.toContain('created the embedded database from the template');
  }, SLOW);

  it('part of a database without PG_VERSION is refused with what to do, and left untouched', async () => {
    const dataDir = newDataDir();
    await mkdir(join(dataDir, 'base', '5'), { recursive: true });
    await writeFile(join(dataDir, 'base', '5', '1259'), 'precious');
    await writeFile(join(dataDir, 'postgresql.conf'), '# mine\n');
    const r = await runHerald(['serve'], { HERALD_DATA_DIR: dataDir, HERALD_TEMPLATE_DIR: templates, PORT: String(await freePort()) });
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe(
      `herald: ${dataDir} holds base, postgresql.conf but no PG_VERSION: it is not a whole database, and Herald will not write over it; move those away, or set HERALD_DATA_DIR to another directory`,
    );
    expect((await readdir(dataDir)).sort()).toEqual(['base', 'postgresql.conf']);
    expect(readFileSync(join(dataDir, 'base', '5', '1259'), 'utf8')).toBe('precious');
  }, SLOW);

  it('two first starts at once on one data dir: one serves it, the other is refused by the lock, and the database is whole', async () => {
    const dataDir = newDataDir();
    const starts = await Promise.allSettled([serve(dataDir), serve(dataDir)]);
    const up = starts.filter((s): s is PromiseFulfilledResult<Server> => s.status === 'fulfilled').map((s) => s.value);
    const refused = starts.filter((s): s is PromiseRejectedResult => s.status === 'rejected').map((s) => String(s.reason));
    try {
      expect(up).toHaveLength(1);
      expect(refused).toHaveLength(1);
      expect(refused[0]).toMatch(/herald serve exited with 1:\nherald: the embedded database in .* is in use by another Herald process \(pid \d+\)/);
      expect((await fetch(`${up[0]!.url}/readyz`)).status).toBe(200);
    } finally {
      for (const s of up) expect(await s.stop()).toBe(0);
    }
    expect(messages(up[0]!)[0]).toBe('created the embedded database from the template');
    expect(existsSync(join(dataDir, '.herald-init'))).toBe(false);
    expect(await recorded(dataDir)).toHaveLength(migrationCount);
  }, SLOW);
});

describe('herald prepare', () => {
  it('remakes a template whose manifest has no layout (made before template0 and template1 were dropped) at the next herald prepare', async () => {
    const own = join(root, 'old-layout');
    const dir = join(own, `pglite-${pgliteVersion()}`);
    await cp(template, dir, { recursive: true });
    const manifestFile = join(dir, 'template.json');
    const { layout, ...before } = JSON.parse(await readFile(manifestFile, 'utf8')) as { layout?: number; made_at: string };
    expect(layout).toBe(2);
    await writeFile(manifestFile, JSON.stringify(before));

    const remade = await runHerald(['prepare'], { HERALD_TEMPLATE_DIR: own });
    expect(remade.code, remade.stderr).toBe(0);
    expect(remade.stderr).toMatch(/^Prepared the embedded database template in /);
    const fresh = JSON.parse(await readFile(manifestFile, 'utf8')) as { layout?: number; made_at: string };
    expect(fresh.layout).toBe(2);
    expect(fresh.made_at > before.made_at).toBe(true);
    expect(readdirSync(join(dir, 'data', 'base'))).toHaveLength(1);
  }, SLOW);

  it('leaves a template holding every migration as it is; remakes one whose migration changed since; removes other PGlite versions\' templates and dead runs\' temp dirs', async () => {
    const again = await runHerald(['prepare'], { HERALD_TEMPLATE_DIR: templates });
    expect(again.code).toBe(0);
    expect(again.stderr).toMatch(/^The embedded database template in .* is up to date \(\d+ migrations\)\.\n$/);

    const manifestFile = join(template, 'template.json');
    const manifest = JSON.parse(await readFile(manifestFile, 'utf8')) as { migrations: { name: string; sha256: string }[]; made_at: string };
    manifest.migrations[0]!.sha256 = '0'.repeat(64);
    await writeFile(manifestFile, JSON.stringify(manifest));
    await mkdir(join(templates, 'pglite-0.0.1', 'data'), { recursive: true });
    await mkdir(join(templates, `.pglite-${pgliteVersion()}.tmp-999999999-0badc0de`), { recursive: true });

    const remade = await runHerald(['prepare'], { HERALD_TEMPLATE_DIR: templates });
    expect(remade.code, remade.stderr).toBe(0);
    expect(remade.stderr).toMatch(/^Prepared the embedded database template in /);
    const fresh = JSON.parse(await readFile(manifestFile, 'utf8')) as typeof manifest;
    expect(fresh.migrations[0]!.sha256).not.toBe('0'.repeat(64));
    expect(fresh.made_at > manifest.made_at).toBe(true);
    expect(await readdir(templates)).toEqual([`pglite-${pgliteVersion()}`]);
  }, SLOW);
});
