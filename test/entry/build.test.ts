import { execFile } from 'node:child_process';
import { cp, mkdtemp, readFile, readdir, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isFresh } from '../../bin/build.js';
import { startHerald } from '../support/process.ts';
import { freePort, waitFor } from '../support/upstream.ts';

/**
 * bin/herald.js runs dist/, which bin/build.js bundles from src/ whenever the sources changed.
 * The rebuild tests work on a copy of the checkout (node_modules linked), never on src/ itself.
 */

const CHECKOUT = new URL('../../', import.meta.url).pathname;
const COPIED = ['package-lock.json', 'bin', 'src', 'templates', 'migrations', 'package.json', 'tsconfig.json'];

function herald(bin: string, args: string[], env: Record<string, string> = {}) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(process.execPath, [bin, ...args], { env: { PATH: process.env.PATH ?? '', ...env } }, (error, stdout, stderr) =>
      resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** The build stamp's text and the modification time of dist/cli.js: both change when herald builds. */
async function lastBuild(root: string) {
  return { stamp: await readFile(join(root, 'dist', 'build-stamp.json'), 'utf8'), cli: (await stat(join(root, 'dist', 'cli.js'))).mtimeMs };
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'herald-build-'));
  // Records every module URL the process loads (Node's module hooks; they see ESM imports).
  await writeFile(
    join(dir, 'hooks.mjs'),
    `import { appendFileSync } from 'node:fs';
let log;
export function initialize(data) { log = data.log; }
export async function load(url, context, next) { appendFileSync(log, url + '\\n'); return next(url, context); }
`,
  );
  await writeFile(
    join(dir, 'probe.mjs'),
    `import { register } from 'node:module';
register('./hooks.mjs', import.meta.url, { data: { log: process.env.PROBE_LOG } });
`,
  );
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

/** Env for a process whose loaded modules are listed in `log`. */
function probed(log: string) {
  return { NODE_OPTIONS: `--import ${pathToFileURL(join(dir, 'probe.mjs')).href}`, PROBE_LOG: log };
}

describe('herald builds dist/ from src/', () => {
  it('when src/ changes, the next run rebuilds; while it does not, no run rebuilds; processes starting together all run', async () => {
    const root = join(dir, 'checkout');
    for (const name of COPIED) await cp(join(CHECKOUT, name), join(root, name), { recursive: true });
    await symlink(join(CHECKOUT, 'node_modules'), join(root, 'node_modules'));
    const bin = join(root, 'bin', 'herald.js');

    // No dist/ yet: three processes at once each find it stale; each must still run whole.
    const first = await Promise.all([1, 2, 3].map(() => herald(bin, ['--version'])));
    for (const run of first) expect(run).toMatchObject({ code: 0, stdout: expect.stringMatching(/^herald\/\d+\.\d+\.\d+ /), stderr: '' });
    expect(isFresh({ root, outdir: join(root, 'dist') })).toBe(true);

    const built = await lastBuild(root);
    const help = await herald(bin, ['help']);
    expect(help.stdout).toContain('start the server (same as npm start)');
    expect(await lastBuild(root)).toEqual(built);

    const cli = join(root, 'src', 'entry', 'cli.ts');
    await writeFile(cli, (await readFile(cli, 'utf8')).replace('start the server (same as npm start)', 'start the server (edited)'));
    // bin/build.js does not trust a file changed in the 50 ms before it started reading.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(isFresh({ root, outdir: join(root, 'dist') })).toBe(false);
    const edited = await herald(bin, ['help']);
    expect(edited).toMatchObject({ code: 0, stderr: '' });
    expect(edited.stdout).toContain('start the server (edited)');
    const rebuilt = await lastBuild(root);
    expect(rebuilt.stamp).not.toBe(built.stamp);
    expect(isFresh({ root, outdir: join(root, 'dist') })).toBe(true);

    // A vanished chunk, or a changed setting, makes it stale too.
    const chunk = (await readdir(join(root, 'dist'))).find((f) => /^node-\w+\.js$/.test(f))!;
    await rm(join(root, 'dist', chunk));
    expect(isFresh({ root, outdir: join(root, 'dist') })).toBe(false);
    expect((await herald(bin, ['--version'])).code).toBe(0);
    expect((await readdir(join(root, 'dist'))).includes(chunk)).toBe(true);
    const tsconfig = join(root, 'tsconfig.json');
    await writeFile(tsconfig, `${await readFile(tsconfig, 'utf8')}\n`);
    expect(isFresh({ root, outdir: join(root, 'dist') })).toBe(false);
  });

  it('when the sources do not compile, herald says where and exits 1', async () => {
    const root = join(dir, 'broken');
    for (const name of COPIED) await cp(join(CHECKOUT, name), join(root, name), { recursive: true });
    await symlink(join(CHECKOUT, 'node_modules'), join(root, 'node_modules'));
    await writeFile(join(root, 'src', 'clock.ts'), 'export const systemClock = {;\n');
    const run = await herald(join(root, 'bin', 'herald.js'), ['--version']);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^herald: build failed:\n {2}src\/clock\.ts:1:\d+: /);
  });
});

describe('herald runs compiled JavaScript', () => {
  it('when herald serve answers /, it has loaded dist/ and nothing of tsx nor any .ts file', async () => {
    const log = join(dir, 'serve.log');
    const server = await startHerald({ HERALD_DATA_DIR: join(dir, 'data'), PORT: String(await freePort()), ...probed(log) });
    try {
      expect((await fetch(`${server.url}/`)).status).toBe(200);
    } finally {
      await server.stop();
    }
    const loaded = (await readFile(log, 'utf8')).trim().split('\n');
    expect(loaded).toContain(pathToFileURL(join(CHECKOUT, 'dist', 'cli.js')).href);
    expect(loaded.some((url) => /\/dist\/node-\w+\.js$/.test(url))).toBe(true);
    expect(loaded.some((url) => url.includes('/node_modules/@electric-sql/pglite/'))).toBe(true);
    expect(loaded.filter((url) => url.includes('/node_modules/tsx/') || /\.tsx?$/.test(url))).toEqual([]);
  });

  it("herald serve loads the mail transport at the first mail, not at start; without SMTP_URL that mail is an .eml file", async () => {
    const log = join(dir, 'mail.log');
    const data = join(dir, 'mail-data');
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const server = await startHerald({ HERALD_DATA_DIR: data, PORT: String(port), PUBLIC_URL: url, ...probed(log) });
    const transportLoaded = async () => (await readFile(log, 'utf8')).split('\n').some((u) => /\/dist\/transport-\w+\.js$/.test(u));
    try {
      expect((await fetch(`${url}/`)).status).toBe(200);
      expect(await transportLoaded()).toBe(false);
      const subscribed = await fetch(`${url}/subscribe`, { method: 'POST', headers: { origin: url, 'content-type': 'application/x-www-form-urlencoded' }, body: 'email=jane%40example.org' });
      expect(subscribed.status).toBe(200);
      const { value: mails } = await waitFor(async () => {
        const files = (await readdir(join(data, 'mail')).catch(() => [])).filter((f) => f.endsWith('.eml'));
        return files.length ? files : undefined;
      }, 20_000);
      expect(mails).toHaveLength(1);
      expect(await readFile(join(data, 'mail', mails![0]!), 'utf8')).toMatch(/^To: jane@example\.org\r$/m);
      expect(await transportLoaded()).toBe(true);
    } finally {
      await server.stop();
    }
  });

  it('when a client command runs, it loads none of the server: not its chunk, not PGlite', async () => {
    const log = join(dir, 'version.log');
    const run = await herald(join(CHECKOUT, 'bin', 'herald.js'), ['--version'], probed(log));
    expect(run.code).toBe(0);
    const loaded = (await readFile(log, 'utf8')).trim().split('\n');
    expect(loaded).toContain(pathToFileURL(join(CHECKOUT, 'dist', 'cli.js')).href);
    // Packages are bundled into the chunks that use them (bin/build.js), PGlite excepted.
    expect(loaded.filter((url) => /\/dist\/node-\w+\.js$/.test(url) || /\/node_modules\/(@electric-sql\/pglite|tsx)\//.test(url))).toEqual([]);
  });
});
