import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { tokenCreateWay } from '../../src/cli/token-target.ts';
import { cliServer, herald, type CliServer } from './harness.ts';

/**
 * Where `herald token:create` writes. A token made in a database nobody meant works on no server,
 * so the choice follows what the user said and a guess is refused (src/cli/token-target.ts).
 */

const TOKEN_LINE = /^hrd_[0-9a-f]{12}_[A-Za-z0-9_-]{43}\n$/;

describe('token:create: which way it goes', () => {
  const none = () => false;
  const some = () => true;
  it('when a flag says, the flag decides; --local with --remote or --url is refused', () => {
    const env = { HERALD_URL: 'https://status.example.com', DATABASE_URL: 'postgres://db/herald' };
    expect(tokenCreateWay({ local: false, remote: true, url: false }, env, none)).toEqual({ way: 'remote' });
    expect(tokenCreateWay({ local: false, remote: false, url: true }, {}, none)).toEqual({ way: 'remote' });
    expect(tokenCreateWay({ local: true, remote: false, url: false }, env, none)).toEqual({ way: 'local' });
    expect(tokenCreateWay({ local: true, remote: false, url: false }, {}, none)).toEqual({ way: 'local' });
    expect(tokenCreateWay({ local: true, remote: true, url: false }, {}, none)).toEqual({ way: 'refused', lines: ['give --local or --remote (--url), not both'] });
    expect(tokenCreateWay({ local: true, remote: false, url: true }, {}, none).way).toBe('refused');
  });

  it('when no flag is given, HERALD_URL alone goes remote, a database alone goes local, both or nothing is refused', () => {
    const no = { local: false, remote: false, url: false };
    expect(tokenCreateWay(no, { HERALD_URL: 'https://status.example.com' }, some)).toEqual({ way: 'remote' });
    expect(tokenCreateWay(no, { DATABASE_URL: 'postgres://db/herald' }, none)).toEqual({ way: 'local' });
    expect(tokenCreateWay(no, { HERALD_DATA_DIR: '/var/lib/herald' }, none)).toEqual({ way: 'local' });
    expect(tokenCreateWay(no, {}, some)).toEqual({ way: 'local' }); // ./data exists: Herald ran here
    expect(tokenCreateWay(no, { HERALD_URL: '', DATABASE_URL: ' ' }, some)).toEqual({ way: 'local' }); // empty is unset
    const both = tokenCreateWay(no, { HERALD_URL: 'https://status.example.com', DATABASE_URL: 'postgres://db/herald' }, none);
    expect(both).toEqual({
      way: 'refused',
      lines: [
        'HERALD_URL and DATABASE_URL are both set, so it is not clear where the token should go',
        'add --remote to create it through the server at HERALD_URL (with an admin HERALD_TOKEN), or --local to write it straight into DATABASE_URL',
      ],
    });
    const nothing = tokenCreateWay(no, {}, none);
    expect(nothing.way).toBe('refused');
  });
});

describe('herald token:create in a folder', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'herald-token-create-'));
  });
  afterEach(async () => rm(dir, { recursive: true, force: true }));

  it('when HERALD_URL is set and there is no HERALD_TOKEN, it creates nothing here, exits 2 and says what the server needs', async () => {
    const r = await herald(['token:create', '--name', 'alice', '--scopes', 'admin'], { env: { HERALD_URL: 'http://127.0.0.1:9' }, cwd: dir });
    expect(r).toMatchObject({ code: 2, stdout: '' });
    expect(r.lines[0]).toBe(
      'herald: token:create goes to the Herald at http://127.0.0.1:9, which needs an admin token: set HERALD_TOKEN (or --token). No token yet? Open the setup link that server printed when it started, or run token:create --local where its database is',
    );
    expect(await readdir(dir)).toEqual([]);
  });

  it('when nothing names a database or a server, it creates no ./data, exits 2 and names the ways to a first token', async () => {
    const r = await herald(['token:create', '--name', 'alice', '--scopes', 'admin'], { cwd: dir });
    expect(r).toMatchObject({ code: 2, stdout: '' });
    expect(r.lines).toEqual([
      'herald: there is no database here to create a token in: ./data does not exist, and none of HERALD_URL, DATABASE_URL and HERALD_DATA_DIR is set',
      'herald: first token: start the server (`herald serve`) and open the setup link it prints, or create the embedded database here with `herald token:create --local …`',
      'herald: from a running server: set HERALD_URL and HERALD_TOKEN (an admin token) and run `herald token:create` again',
      'See `herald token:create --help`.',
    ]);
    expect(await readdir(dir)).toEqual([]);
  });

  it('when HERALD_URL and HERALD_DATA_DIR are both set, it refuses to guess and writes to neither', async () => {
    const r = await herald(['token:create', '--name', 'alice', '--scopes', 'admin'], { env: { HERALD_URL: 'http://127.0.0.1:9', HERALD_DATA_DIR: join(dir, 'data') }, cwd: dir });
    expect(r).toMatchObject({ code: 2, stdout: '' });
    expect(r.lines[0]).toBe('herald: HERALD_URL and HERALD_DATA_DIR are both set, so it is not clear where the token should go');
    expect(existsSync(join(dir, 'data'))).toBe(false);
  });

  it('when --local is given in an empty folder, it creates ./data and the token there', async () => {
    const r = await herald(['token:create', '--local', '--name', 'alice', '--scopes', 'admin'], { cwd: dir, timeoutMs: 60_000 });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(TOKEN_LINE);
    expect(r.lines[0]).toBe('Created token "alice" with scopes admin. It is shown once; store it now.');
    expect(existsSync(join(dir, 'data', 'PG_VERSION'))).toBe(true);
  });
});

describe('herald token:create with HERALD_URL and HERALD_TOKEN (a real server)', () => {
  let srv: CliServer;
  let dir: string;
  beforeAll(async () => {
    srv = await cliServer();
    dir = await mkdtemp(join(tmpdir(), 'herald-token-remote-'));
  });
  afterAll(async () => {
    await srv.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('when no flag is given, the token is made on that server (it works there) and nothing is written here', async () => {
    const admin = await srv.token(['admin'], 'root');
    const r = await herald(['token:create', '--name', 'bob', '--scopes', 'incidents:write'], { env: srv.env(admin), cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(TOKEN_LINE);
    expect(r.lines[0]).toMatch(/^Created token #\d+ "bob" with scopes incidents:write\. It is shown once; store it now\.$/);
    const opened = await srv.api('POST', '/api/v1/incidents', r.stdout.trim(), { title: 'Made with the new token', message: 'It works on this server.' });
    expect(opened.status).toBe(201);
    expect(opened.body.updates[0].author).toBe('bob');
    expect(await readdir(dir)).toEqual([]);
  });
});
