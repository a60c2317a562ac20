#!/usr/bin/env node
// `npm run build`: bundles the TypeScript sources into plain JavaScript with esbuild, so no
// TypeScript compiler runs in production. bin/herald.js calls isFresh() on every run (a few ms:
// a stat per source file, no source read) and build() when it says no, so `npm install && npm
// start` needs no separate step. Plain JavaScript: it must run without tsx.
//
//   dist/cli.js             src/entry/cli.ts: the herald CLI (bin/herald.js runs it)
//   dist/gate.js            src/gate/index.ts: what `import … from 'herald/gate'` loads
//   dist/NAME-HASH.js       code that cli.ts imports when a command runs (the server, the gate,
//                           the migrator) and code the two entries share
//   dist/build-stamp.json   what these were built from (see isFresh)
//
// Every file sits one folder below the checkout's root, as src/root.ts does: package.json and
// migrations/ resolve the same from the sources and from dist/.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const DIST = join(ROOT, 'dist');

const ENTRIES = { cli: 'src/entry/cli.ts', gate: 'src/gate/index.ts' };
/** Not imported by the sources, but they change what esbuild makes of them (the lock: bundled packages). */
const SETTINGS = ['bin/build.js', 'package.json', 'package-lock.json', 'tsconfig.json'];
const STAMP = 'build-stamp.json';
/** esbuild's chunkNames below; chunks are named by their content, entries are not. */
const CHUNK = /^[\w-]+-[A-Z0-9]{8}\.js(\.map)?$/;

const stat = (path) => statSync(path, { throwIfNoEntry: false });
const digest = (bytes) => createHash('sha256').update(bytes).digest('hex').slice(0, 16);

function readStamp(outdir) {
  try {
    return JSON.parse(readFileSync(join(outdir, STAMP), 'utf8'));
  } catch {
    return undefined;
  }
}

/**
 * Whether the files in `outdir` were built from the sources as they are now: every file esbuild
 * read (our own; node_modules stay imports) and the settings above have the size and
 * modification time they had then, each entry has the content it was written with, and every
 * other file (chunks, source maps) is there. Anything vanished, changed or unreadable: not fresh.
 */
export function isFresh({ root = ROOT, outdir = DIST } = {}) {
  const stamp = readStamp(outdir);
  if (!Array.isArray(stamp?.inputs) || !Array.isArray(stamp.files) || typeof stamp.entries !== 'object') return false;
  for (const [path, size, mtimeMs] of stamp.inputs) {
    const s = stat(join(root, path));
    if (!s || s.size !== size || s.mtimeMs !== mtimeMs) return false;
  }
  for (const [name, hash] of Object.entries(stamp.entries)) {
    try {
      if (digest(readFileSync(join(outdir, name))) !== hash) return false;
    } catch {
      return false;
    }
  }
  return stamp.files.every((name) => stat(join(outdir, name)));
}

/** Writes `bytes` to `file` through a temporary file renamed over it, so no reader sees half. */
function writeAtomically(file, bytes) {
  const temp = `${file}.${process.pid}.tmp`;
  try {
    writeFileSync(temp, bytes);
    renameSync(temp, file);
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  }
}

/**
 * Removes the chunks neither this build nor the one before it wrote, and temporary files a
 * killed build left. The previous build's chunks stay, and any written in the last minute: a
 * process that has just loaded its cli.js (or another build's) may not have imported them yet.
 */
function pruneOldFiles(outdir, keep) {
  const minuteAgo = Date.now() - 60_000;
  for (const entry of readdirSync(outdir, { withFileTypes: true })) {
    if (!entry.isFile() || keep.has(entry.name) || !(CHUNK.test(entry.name) || entry.name.endsWith('.tmp'))) continue;
    const path = join(outdir, entry.name);
    if ((stat(path)?.mtimeMs ?? Infinity) < minuteAgo) rmSync(path, { force: true });
  }
}

/** Thrown when the checkout cannot be written to; `message` says what to do. */
export class NotWritable extends Error {
  constructor(outdir, cause) {
    super(
      `${outdir} is missing or older than src/, and cannot be rebuilt (${cause.message}). ` +
        `Run \`npm run build\` as a user who can write to ${outdir}, then start herald again.`,
    );
    this.code = cause.code;
  }
}

/** Thrown when esbuild finds errors in the sources; `message` lists them. */
export class BuildFailed extends Error {}

/**
 * Bundles the entries into `outdir` (default dist/) and writes the stamp isFresh() reads.
 * Two processes may build at once: each writes whole files under temporary names and renames
 * them, chunks (named by content) first, the entries next, the stamp last. Stops esbuild's
 * service afterwards, so the caller keeps no child process.
 */
export async function build({ root = ROOT, outdir = DIST } = {}) {
  const started = Date.now();
  const esbuild = await import('esbuild');
  let result;
  try {
    result = await esbuild.build({
      absWorkingDir: root,
      entryPoints: ENTRIES,
      outdir,
      bundle: true,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      // Packages are bundled too (Node resolves and loads hundreds of small ESM files otherwise:
      // ~0.2 s of every start), but for PGlite, which finds its .wasm and data files next to its
      // own code, and optional native modules. CommonJS packages get a real `require`.
      external: ['@electric-sql/pglite', '@electric-sql/pglite/*', 'pg-native'],
      // rss's enclosure typing, which Herald never uses (src/entry/no-mime-types.ts).
      alias: { 'mime-types': './src/entry/no-mime-types.ts' },
      banner: { js: "// Made by bin/build.js from src/: edit the sources, not this.\nimport { createRequire as __heraldRequire } from 'node:module';\nconst require = __heraldRequire(import.meta.url);" },
      // cli.ts imports the server, the migrator and the gate when their command runs; as one
      // file, every command would load all of node_modules first (`--version`: 3 × as slow).
      splitting: true,
      chunkNames: '[name]-[hash]',
      // As tsconfig.json says (esbuild reads it too; explicit, so no other tsconfig can win).
      jsx: 'automatic',
      jsxImportSource: 'hono/jsx',
      tsconfig: join(root, 'tsconfig.json'),
      sourcemap: 'linked',
      sourcesContent: false,
      // V8 keeps every script's source in memory, as two bytes a character if one character is not
      // Latin-1: no comments, no indentation, and non-ASCII escaped (template literals keep theirs:
      // the sources use HTML entities there) made the server's sources 2.1 MB of heap instead of 5.2.
      // Names are kept; with NODE_OPTIONS=--enable-source-maps, stack traces name src/ lines.
      minifyWhitespace: true,
      minifySyntax: true,
      legalComments: 'none',
      charset: 'ascii',
      metafile: true,
      write: false,
      logLevel: 'silent',
    });
  } catch (error) {
    if (!error.errors) throw error;
    const lines = error.errors.map((e) => (e.location ? `${e.location.file}:${e.location.line}:${e.location.column}: ${e.text}` : e.text));
    throw new BuildFailed(`build failed:\n  ${lines.join('\n  ')}`);
  } finally {
    await esbuild.stop();
  }

  const inputs = Object.keys(result.metafile.inputs)
    .filter((path) => !path.includes('node_modules'))
    .concat(SETTINGS)
    .sort()
    .map((path) => {
      const s = stat(join(root, path));
      // Changed while esbuild was reading: record what cannot match, so the next run builds
      // again rather than trusting output that may hold the old text.
      const settled = s && s.mtimeMs < started - 50;
      return [path.split(sep).join('/'), s?.size ?? -1, settled ? s.mtimeMs : -1];
    });
  const entryNames = new Set(Object.keys(ENTRIES).map((name) => `${name}.js`));
  const isEntry = (file) => entryNames.has(basename(file.path));
  const entries = {}; // name: hash of its content
  const files = []; // the rest: chunks and source maps
  for (const file of result.outputFiles) {
    if (isEntry(file)) entries[basename(file.path)] = digest(file.contents);
    else files.push(basename(file.path));
  }

  try {
    mkdirSync(outdir, { recursive: true });
    const previous = readStamp(outdir);
    for (const file of result.outputFiles.filter((f) => !isEntry(f))) writeAtomically(file.path, file.contents);
    for (const file of result.outputFiles.filter(isEntry)) writeAtomically(file.path, file.contents);
    const lines = inputs.map((input) => `  ${JSON.stringify(input)}`).join(',\n');
    writeAtomically(
      join(outdir, STAMP),
      `{"builtAt": "${new Date(started).toISOString()}", "entries": ${JSON.stringify(entries)},\n"files": ${JSON.stringify(files.sort())},\n"inputs": [\n${lines}\n]}\n`,
    );
    pruneOldFiles(outdir, new Set([...files, ...(previous?.files ?? [])]));
  } catch (error) {
    if (['EACCES', 'EPERM', 'EROFS'].includes(error.code)) throw new NotWritable(outdir, error);
    throw error;
  }
  return { ms: Date.now() - started, inputs: inputs.length, files: result.outputFiles.length };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  try {
    const { ms, inputs, files } = await build();
    const where = relative(process.cwd(), DIST);
    process.stdout.write(`built ${where.startsWith('..') ? DIST : where}/ (${files} files) from ${inputs} sources in ${ms} ms\n`);
  } catch (error) {
    process.stderr.write(`herald: ${error instanceof NotWritable || error instanceof BuildFailed ? error.message : error.stack}\n`);
    process.exitCode = 1;
  }
}
