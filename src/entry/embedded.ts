/**
 * The embedded database on disk: opening it (one process at a time), and creating it without
 * running initdb in the server.
 *
 * PGlite creates a database by running initdb in a second wasm instance inside the calling
 * process: 3 to 7 s here, and the process's RSS peaks near 900 MB and stays there (wasm memory is
 * never given back). So the database is made ahead of time instead: `herald prepare` (run by
 * `npm install`) initialises and migrates a **template** once, in
 * `node_modules/.cache/herald/pglite-VERSION/` (or HERALD_TEMPLATE_DIR/pglite-VERSION/): keyed by
 * PGlite's version, which fixes the data format. A first start copies it into the empty data dir.
 * If there is no usable template (install scripts skipped, a migration in it edited since), the
 * first start runs `herald prepare` in a child process, whose memory goes when it exits, and then
 * copies. Only if that fails does it fall back to initdb in its own process, with a warning.
 * Migrations newer than the template are applied at start, as on any restart.
 *
 * The copy is all or nothing. The template is copied into a staging dir inside the data dir
 * (`.herald-init/`, same file system, so a mount point works as a data dir), marked complete,
 * then its entries are renamed into the data dir one by one, PG_VERSION last: PGlite takes a
 * directory with PG_VERSION for a database, so until that last rename there is no database, and
 * after it a whole one. A start that finds the staging dir unmarked (the crash came mid-copy)
 * deletes it and copies again; marked, it finishes the renames. A data dir with PG_VERSION is
 * opened as it is, never written over; one holding some of a database's files but no PG_VERSION
 * and no marked staging dir is refused. Other files (the lock, lost+found, a .gitkeep) may be
 * there. All of it runs under the data dir's lock.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { copyFile, mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';
import type { Config } from '../config.ts';
import { connectPGlite, connectPostgres, type DatabaseHandle } from '../db/connect.ts';
import { loadMigrations, migrate, type Migration } from '../db/migrator.ts';
import { createLogger, type Logger } from '../log.ts';

/** The checkout (the folder with Herald's package.json), wherever this file was loaded from. */
export const HERALD_ROOT = (() => {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    try {
      if ((JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string }).name === 'herald') return dir;
    } catch {
      // no package.json here: look further up
    }
    const up = dirname(dir);
    if (up === dir) return fileURLToPath(new URL('../../', import.meta.url));
    dir = up;
  }
})();
const HERALD_BIN = join(HERALD_ROOT, 'bin', 'herald.js');

/** The data dir's marker: PGlite opens a directory holding it and runs initdb in any other. */
const PG_VERSION = 'PG_VERSION';
/** Where a first start stages its copy of the template, inside the data dir. */
const STAGING = '.herald-init';
/** Written into the staging dir once the copy is whole: from then on its entries are moved in. */
const COPIED = '.herald-copied';
/** What Postgres keeps at the top of a data directory. */
const POSTGRES_ENTRY = /^(?:base|global|pg_[\w.]+|postgresql(?:\.auto)?\.conf|postmaster\.(?:pid|opts)|PG_VERSION)$/;
/** Beside the template's database: which PGlite made it and which migrations it holds. */
const MANIFEST = 'template.json';

/** A child `herald prepare` that runs longer than this is stopped (initdb takes 3 to 7 s). */
const PREPARE_TIMEOUT_MS = 120_000;

// ---- V8 -------------------------------------------------------------------------------------------

let baselineOnly = false;

/**
 * Keeps PGlite's Postgres on V8's baseline wasm compiler (Liftoff) for this process's life: no
 * TurboFan tier-up. Call it before the process compiles PGlite's module (its first
 * `connectPGlite`); later it changes nothing for that module. It is called only on the way to
 * the embedded database (`openDatabase` without DATABASE_URL, `herald prepare`): a process on
 * Postgres runs no wasm.
 *
 * Decided on these figures (node 20, 2 cores shared with other work). Opening a migrated data dir
 * in a bare node process: RSS 121 MB instead of 156 MB, in 243 ms instead of 370 ms; TurboFan
 * would then compile the hot functions again in the background, and its code and the compiler's
 * memory stay. `npx tsx scripts/bench/wasm-tiers.ts` (3 rounds each, load average ~5), Liftoff
 * only against the default: initdb 2.3-3.0 s against 3.3-4.7 s; an open 328-441 ms against
 * 572-737 ms; writes through the use cases, p50 5.7-10.0 ms against 10.2-12.5 ms; a warm rebuild
 * of the public data (`buildPublicData`, p50 of the last 100 of 300) 8.3-9.6 ms against
 * 7.9-12.6 ms; RSS after ~150 writes and 300 rebuilds 242-248 MB against 301-329 MB. What TurboFan
 * would save is at most a few ms per rebuild, and a rebuild runs once per announced write, never
 * per request; on two cores its background compiles cost the writes more than that.
 */
export function useBaselineWasmCompiler(): void {
  if (baselineOnly) return;
  baselineOnly = true;
  v8.setFlagsFromString('--liftoff-only');
}

// ---- the lock -------------------------------------------------------------------------------------

/** The embedded database is held by another live process (a running server, usually). */
export class DataDirLocked extends Error {
  override readonly name = 'DataDirLocked';
  constructor(
    readonly dir: string,
    readonly pid: number,
  ) {
    super(`the embedded database in ${dir} is in use by another Herald process (pid ${pid}); stop it first, or go through the running server (e.g. herald token:create --remote)`);
  }
}

/** The data dir holds part of a database but no PG_VERSION: not Herald's to open or to overwrite. */
export class DataDirNotEmpty extends Error {
  override readonly name = 'DataDirNotEmpty';
  constructor(
    readonly dir: string,
    readonly entries: readonly string[],
  ) {
    super(`${dir} holds ${entries.join(', ')} but no PG_VERSION: it is not a whole database, and Herald will not write over it; move those away, or set HERALD_DATA_DIR to another directory`);
  }
}

/**
 * The embedded database belongs to one process at a time (two PGlite instances on one directory
 * would corrupt it): a lock file holds the owner's pid; a lock whose process is gone is taken over.
 * The file exists for a moment before its pid is written: a start racing another reads it again
 * rather than taking an empty lock for a dead one. (Two starts taking over the same dead lock at
 * the same instant can still both get it: that needs a crash first, and then a double start.)
 */
async function lockDataDir(dir: string): Promise<() => Promise<void>> {
  const file = join(dir, 'herald.lock');
  for (;;) {
    try {
      await writeFile(file, String(process.pid), { flag: 'wx' });
      return () => rm(file, { force: true });
    } catch (error) {
      if ((error as { code?: string }).code !== 'EEXIST') throw error;
      const owner = await readLock(file);
      if (owner === undefined) continue; // removed meanwhile: try again
      if (isAlive(owner)) throw new DataDirLocked(dir, owner);
      if ((await readLock(file)) === owner) await rm(file, { force: true });
    }
  }
}

/** The pid in a lock file (0: none written within a second), or undefined if there is no file. */
async function readLock(file: string): Promise<number | undefined> {
  for (let i = 0; i < 20; i++) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch {
      return undefined;
    }
    if (/^\d+$/.test(text.trim())) return Number(text.trim());
    await new Promise((r) => setTimeout(r, 50));
  }
  return 0;
}

function isAlive(pid: number): boolean {
  try {
    return pid > 0 && pid !== process.pid && process.kill(pid, 0);
  } catch {
    return false;
  }
}

// ---- opening --------------------------------------------------------------------------------------

/**
 * Opens the configured database: Postgres when DATABASE_URL is set, else PGlite in the data dir,
 * locked for this process, created from the template first if it holds no database. `log` hears
 * how it was created (`herald serve` passes its log); without one, only warnings are printed.
 * `keepOpen`: on Postgres, connections opened now and kept (connectPostgres).
 */
export async function openDatabase(config: Config, options: { log?: Logger; keepOpen?: number } = {}): Promise<DatabaseHandle> {
  if (config.databaseUrl) return connectPostgres(config.databaseUrl, options.keepOpen ? { keepOpen: options.keepOpen } : {});
  useBaselineWasmCompiler();
  await mkdir(config.dataDir, { recursive: true });
  const unlock = await lockDataDir(config.dataDir);
  try {
    await ensureDatabase(config, options.log ?? warningsOnly());
    const handle = await connectPGlite({ dataDir: config.dataDir });
    return {
      ...handle,
      close: async () => {
        await handle.close();
        await unlock();
      },
    };
  } catch (error) {
    await unlock();
    throw error;
  }
}

function warningsOnly(): Logger {
  const log = createLogger((line) => void process.stderr.write(`${line}\n`));
  return { ...log, debug: () => {}, info: () => {} };
}

/**
 * Makes sure the (locked) data dir holds a database, copying the template in when it holds none.
 * Returns how: it was there, it was copied, or no template could be had and PGlite will run
 * initdb in this process when it opens the dir.
 */
export async function ensureDatabase(config: Config, log: Logger): Promise<'existing' | 'copied' | 'initdb'> {
  const dir = config.dataDir;
  const staging = join(dir, STAGING);
  if (existsSync(join(dir, PG_VERSION))) {
    // A crash after the last rename leaves the staging dir with only its marker in it.
    if (existsSync(staging)) await rm(staging, { recursive: true, force: true });
    return 'existing';
  }
  const started = performance.now();
  const resumed = existsSync(join(staging, COPIED));
  if (!resumed) {
    // Part of a database (an initdb cut short, files put there by hand) is nobody's to overwrite.
    const clash = (await readdir(dir)).filter((name) => POSTGRES_ENTRY.test(name)).sort();
    if (clash.length) throw new DataDirNotEmpty(dir, clash);
    await rm(staging, { recursive: true, force: true }); // a copy cut short, if any: never used
    const template = await usableTemplate(config, log);
    if (!template) return 'initdb';
    try {
      await copyTree(template.data, staging);
    } catch (error) {
      // The template went away under us (a concurrent `herald prepare` replacing a stale one)?
      await rm(staging, { recursive: true, force: true });
      const again = await usableTemplate(config, log);
      if (!again) return 'initdb';
      await copyTree(again.data, staging).catch(async () => {
        await rm(staging, { recursive: true, force: true });
        throw error;
      });
    }
    await writeFile(join(staging, COPIED), '');
  }
  const entries = (await readdir(staging)).filter((name) => name !== COPIED);
  entries.sort((a, b) => Number(a === PG_VERSION) - Number(b === PG_VERSION));
  const clash = entries.filter((name) => existsSync(join(dir, name)));
  if (clash.length) throw new DataDirNotEmpty(dir, clash);
  for (const name of entries) await rename(join(staging, name), join(dir, name));
  await rm(staging, { recursive: true, force: true });
  log.info(resumed ? 'finished creating the embedded database from the template (a start before was cut short)' : 'created the embedded database from the template', {
    dir,
    template: shown(templatePath(config)),
    duration: `${Math.round(performance.now() - started)}ms`,
  });
  return 'copied';
}

/** Copies a directory tree of plain files, a few files at a time. */
async function copyTree(from: string, to: string): Promise<void> {
  const files: string[] = [];
  const walk = async (rel: string): Promise<void> => {
    await mkdir(join(to, rel), { recursive: rel === '' });
    for (const entry of await readdir(join(from, rel), { withFileTypes: true })) {
      const path = join(rel, entry.name);
      if (entry.isDirectory()) await walk(path);
      else if (entry.isFile()) files.push(path);
      else throw new Error(`${join(from, path)}: neither a file nor a directory`);
    }
  };
  await walk('');
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < files.length) {
        const path = files[next++]!;
        await copyFile(join(from, path), join(to, path));
      }
    }),
  );
}

// ---- the template ---------------------------------------------------------------------------------

/** A path inside the checkout as relative to it (the same in every clone), else as it is. */
export function shown(path: string): string {
  const inside = relative(HERALD_ROOT, path);
  return inside && !inside.startsWith('..') && !isAbsolute(inside) ? inside : path;
}

/** PGlite's version, read from its package.json: the template's key. */
export function pgliteVersion(): string {
  const main = createRequire(import.meta.url).resolve('@electric-sql/pglite');
  let dir = dirname(main);
  for (;;) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version: string };
      if (pkg.name === '@electric-sql/pglite') return pkg.version;
    }
    const up = dirname(dir);
    if (up === dir) throw new Error(`no package.json for @electric-sql/pglite above ${main}`);
    dir = up;
  }
}

/** The folder of templates: HERALD_TEMPLATE_DIR, else node_modules/.cache/herald in the checkout. */
export function templateRoot(config: Pick<Config, 'templateDir'>): string {
  return resolve(config.templateDir ?? join(HERALD_ROOT, 'node_modules', '.cache', 'herald'));
}

/** This PGlite's template: `data/` (the database) and `template.json`. */
export function templatePath(config: Pick<Config, 'templateDir'>): string {
  return join(templateRoot(config), `pglite-${pgliteVersion()}`);
}

/**
 * How the template's files are laid out, beyond PGlite's version and the migrations: 2 dropped the
 * template0 and template1 databases. A template of an older layout is still copied, and
 * `herald prepare` makes it again.
 */
const LAYOUT = 2;

interface Manifest {
  readonly pglite: string;
  readonly layout?: number;
  readonly migrations: readonly { readonly name: string; readonly sha256: string }[];
  readonly made_at: string;
}

interface TemplateState {
  /** A first start may copy it (migrations it lacks are applied at start). */
  readonly usable: boolean;
  /** It holds every migration on disk: `herald prepare` has nothing to do. */
  readonly complete: boolean;
  /** Why it is not usable. */
  readonly why?: string;
}

async function readTemplate(dir: string, migrations: readonly Migration[]): Promise<TemplateState> {
  let manifest: Manifest;
  try {
    manifest = JSON.parse(await readFile(join(dir, MANIFEST), 'utf8')) as Manifest;
  } catch {
    return { usable: false, complete: false, why: 'there is none' };
  }
  if (manifest.pglite !== pgliteVersion() || !existsSync(join(dir, 'data', PG_VERSION))) return { usable: false, complete: false, why: 'it is incomplete' };
  const onDisk = new Map(migrations.map((m) => [m.name, m.sha256]));
  const changed = manifest.migrations.filter((m) => onDisk.get(m.name) !== m.sha256).map((m) => m.name);
  if (changed.length) return { usable: false, complete: false, why: `${changed.join(', ')} changed or went away since it was made` };
  const held = new Set(manifest.migrations.map((m) => m.name));
  return { usable: true, complete: manifest.layout === LAYOUT && migrations.every((m) => held.has(m.name)) };
}

/**
 * The template to copy: the one in place if usable, else one made now by `herald prepare` in a
 * child process (so that initdb's memory is not this process's). Undefined if that failed.
 */
async function usableTemplate(config: Config, log: Logger): Promise<{ data: string } | undefined> {
  const dir = templatePath(config);
  const migrations = await loadMigrations();
  const state = await readTemplate(dir, migrations);
  if (state.usable) return { data: join(dir, 'data') };
  log.info('making the embedded database template first (herald prepare, in a child process)', { template: shown(dir), why: state.why });
  const child = await runPrepare(config);
  const after = await readTemplate(dir, migrations);
  if (child.code === 0 && after.usable) return { data: join(dir, 'data') };
  log.warn('could not make the embedded database template; initialising the database in this process instead (slower, and the memory stays taken until a restart)', {
    template: shown(dir),
    exit: child.code ?? child.signal,
    error: child.stderr.trim().split('\n').slice(-3).join(' / ') || undefined,
  });
  return undefined;
}

/** `node bin/herald.js prepare` with this process's environment, to its end. */
function runPrepare(config: Config): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [HERALD_BIN, 'prepare'], {
      cwd: HERALD_ROOT,
      env: { ...process.env, HERALD_TEMPLATE_DIR: templateRoot(config) },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d).slice(-4000)));
    const timer = setTimeout(() => child.kill('SIGKILL'), PREPARE_TIMEOUT_MS);
    child.on('error', (error) => {
      clearTimeout(timer);
      done({ code: null, signal: null, stderr: error.message });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      done({ code, signal, stderr });
    });
  });
}

export interface PrepareReport {
  readonly dir: string;
  /** False: the template in place already held every migration. */
  readonly made: boolean;
  readonly migrations: number;
  readonly ms: number;
}

/**
 * `herald prepare`: makes this PGlite's template (initdb, then every migration) unless the one in
 * place holds every migration already, and removes the templates of other PGlite versions and
 * what crashed runs left. Made in a temp dir beside it and renamed into place, so a reader sees
 * the old template, the new one or none, never half of one; concurrent runs are safe.
 */
export async function prepareTemplate(config: Pick<Config, 'templateDir'>): Promise<PrepareReport> {
  const started = performance.now();
  const root = templateRoot(config);
  const dir = templatePath(config);
  const name = dir.slice(root.length + 1);
  const migrations = await loadMigrations();
  await mkdir(root, { recursive: true });
  await removeLeftovers(root, name);
  const report = (made: boolean): PrepareReport => ({ dir, made, migrations: migrations.length, ms: Math.round(performance.now() - started) });
  if ((await readTemplate(dir, migrations)).complete) return report(false);

  useBaselineWasmCompiler();
  const tmp = join(root, `.${name}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    await mkdir(join(tmp, 'data'), { recursive: true });
    const handle = await connectPGlite({ dataDir: join(tmp, 'data') });
    try {
      await migrate(handle.db, migrations);
      await dropTemplateDatabases(handle);
    } finally {
      await handle.close();
    }
    const manifest: Manifest = { pglite: pgliteVersion(), layout: LAYOUT, migrations: migrations.map((m) => ({ name: m.name, sha256: m.sha256 })), made_at: new Date().toISOString() };
    await writeFile(join(tmp, MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
    try {
      await rename(tmp, dir);
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw error;
      // Another run put one in place meanwhile (keep it if it is whole), or a stale one is there.
      if ((await readTemplate(dir, migrations)).complete) return report(false);
      const old = join(root, `.${name}.old-${process.pid}-${randomBytes(4).toString('hex')}`);
      await rename(dir, old).catch((e: { code?: string }) => {
        if (e.code !== 'ENOENT') throw e;
      });
      await rename(tmp, dir);
      await rm(old, { recursive: true, force: true });
    }
    return report(true);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

/**
 * initdb makes three databases; Herald's tables live in `postgres`, and nothing of Herald's
 * creates a database (template1 and template0 are CREATE DATABASE's sources). Dropped from the
 * template, they leave 527 files of 1,127 (26 MB of 40) for a first start to copy: about half the
 * copy's time.
 */
async function dropTemplateDatabases(handle: DatabaseHandle): Promise<void> {
  for (const name of ['template1', 'template0']) {
    await handle.pglite!.exec(`alter database ${name} is_template false`);
    await handle.pglite!.exec(`drop database ${name}`); // not in a transaction: one statement per call
  }
  await handle.pglite!.exec('checkpoint');
}

/** Other PGlite versions' templates, and the temp dirs of runs whose process is gone. */
async function removeLeftovers(root: string, keep: string): Promise<void> {
  for (const entry of await readdir(root)) {
    const temp = /^\.pglite-.+\.(?:tmp|old)-(\d+)-[0-9a-f]+$/.exec(entry);
    const stale = temp ? !isAlive(Number(temp[1])) : /^pglite-/.test(entry) && entry !== keep;
    if (stale) await rm(join(root, entry), { recursive: true, force: true });
  }
}
