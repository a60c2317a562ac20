import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { insertSubscriber } from '../../src/db/queries/subscribers.ts';
import { newHandle } from '../../src/subscribers/links.ts';
import { backendName } from '../support/db.ts';
import { cliServer, herald, type CliServer } from './harness.ts';

/**
 * `herald subscribers`, `subscribers:export`, `subscribers:import` and `subscribers:remove`: the
 * real binary against a real Herald over HTTP. Each test has its own server and database
 * (components production and development) and its own temporary directory.
 */
describe(`herald subscriber commands against a real server (${backendName})`, () => {
  const servers: CliServer[] = [];
  const dirs: string[] = [];
  afterEach(async () => {
    for (const s of servers.splice(0)) await s.close();
    for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
  });
  async function server() {
    const srv = await cliServer();
    servers.push(srv);
    const admin = await srv.token(['admin'], 'ops');
    return { srv, admin, env: srv.env(admin) };
  }
  async function file(name: string, text: string) {
    const dir = await mkdtemp(join(tmpdir(), 'herald-subscribers-'));
    dirs.push(dir);
    const path = join(dir, name);
    await writeFile(path, text);
    return path;
  }
  /** The API's CSV export, as the admin token reads it. */
  async function apiCsv(srv: CliServer, token: string) {
    const res = await fetch(`${srv.url}/api/v1/subscribers/export.csv`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    return res.text();
  }

  const TIME = '\\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2} UTC';

  it('imports a list from a file and from stdin (confirmed, none twice); `herald subscribers` lists them with the counts on stderr, --json the API\'s list', async () => {
    const { srv, admin, env } = await server();
    const path = await file('list.csv', 'email,components\r\nops@example.com,production\r\nfan@example.net,\r\n');
    const fromFile = await herald(['subscribers:import', path], { env });
    expect(fromFile).toMatchObject({ code: 0, stdout: '', stderr: 'Imported 2, 0 already subscribed.\n' });
    const fromStdin = await herald(['subscribers:import', '-'], { env, input: 'email,components\nOPS@example.com,development\nnew@example.org,production development\n' });
    expect(fromStdin).toMatchObject({ code: 0, stdout: '', stderr: 'Imported 1, 1 already subscribed.\n' });

    const list = await herald(['subscribers'], { env });
    expect(list).toMatchObject({ code: 0, stderr: '3 subscribers, 3 confirmed.\n' });
    const [header, ...rows] = list.stdout.trimEnd().split('\n');
    expect(header).toBe('ID  EMAIL            STATE      COMPONENTS  CREATED');
    expect(rows).toHaveLength(3);
    expect(rows[0]).toMatch(new RegExp(`^1   ops@example\\.com  confirmed  production  ${TIME}$`));
    expect(rows[1]).toMatch(new RegExp(`^2   fan@example\\.net  confirmed  all         ${TIME}$`));
    expect(rows[2]).toMatch(new RegExp(`^3   new@example\\.org  confirmed  all         ${TIME}$`)); // both components: every one

    const json = await herald(['subscribers', '--json'], { env });
    expect(JSON.parse(json.stdout)).toEqual((await srv.api('GET', '/api/v1/subscribers', admin)).body);
    expect(JSON.parse(json.stdout)).toMatchObject({ count: 3, confirmed: 3, subscribers: [{ email: 'ops@example.com', components: ['production'], source: 'import', state: 'confirmed' }, { components: null }, { components: null }] });
    expect(JSON.parse((await herald(['subscribers:import', '-', '--json'], { env, input: 'email\nfan@example.net\n' })).stdout)).toEqual({ imported: 0, existing: 1 });
  });

  it('a pending sign-up and a bounced address show their state; stderr says why the address bounced', async () => {
    const { srv, env } = await server();
    await herald(['subscribers:import', '-'], { env, input: 'email\nlost@example.org\n' });
    // A sign-up not confirmed yet, as /subscribe leaves it.
    await insertSubscriber(srv.handle.db, { handle: newHandle(), email: 'pending@example.org', email_key: 'pending@example.org', components: null, source: 'page', created_at: new Date(), confirmed_at: null });
    await srv.handle.db.updateTable('subscribers').set({ bounced_at: new Date('2026-03-02T08:15:00Z'), bounce_reason: '550 5.1.1 mailbox unavailable' }).where('email', '=', 'lost@example.org').execute();

    const list = await herald(['subscribers'], { env });
    expect(list.code).toBe(0);
    expect(list.stdout.trimEnd().split('\n').slice(1).map((l) => l.split(/\s{2,}/).slice(0, 4))).toEqual([
      ['1', 'lost@example.org', 'bounced', 'all'],
      ['2', 'pending@example.org', 'pending', 'all'],
    ]);
    expect(list.lines).toEqual(['2 subscribers, 0 confirmed.', '#1 bounced 2026-03-02 08:15 UTC: 550 5.1.1 mailbox unavailable']);
  });

  it('`subscribers:export` prints exactly the API\'s CSV, which imports back as the same list', async () => {
    const { srv, admin, env } = await server();
    await herald(['subscribers:import', '-'], { env, input: 'email,components\nops@example.com,production\n-dash@example.com,\nfan@example.net,development\n' });
    const exported = await herald(['subscribers:export'], { env });
    expect(exported).toMatchObject({ code: 0, stderr: '' });
    expect(exported.stdout).toBe(await apiCsv(srv, admin));
    const lines = exported.stdout.split('\r\n');
    expect(lines[0]).toBe('email,state,components,created_at,confirmed_at');
    expect(lines.slice(1, 4).map((l) => l.split(',').slice(0, 3).join(','))).toEqual(['ops@example.com,confirmed,production', '"\'-dash@example.com",confirmed,', 'fan@example.net,confirmed,development']);
    expect(lines[4]).toBe('');

    // The export's columns are the import's (email, components), the others ignored. (An address
    // the export quoted against spreadsheet formulas, '-dash@…, is no address to the import.)
    const withoutDash = exported.stdout.replace(/^"'-dash@example\.com".*\r\n/m, '');
    const again = await herald(['subscribers:import', await file('export.csv', withoutDash)], { env });
    expect(again).toMatchObject({ code: 0, stderr: 'Imported 0, 2 already subscribed.\n' });
    expect(JSON.parse((await herald(['subscribers:export', '--json'], { env })).stdout)).toMatchObject({ count: 3, confirmed: 3 });
  });

  it('a wrong list is refused with every wrong row on its own line and nothing saved; a missing file or header is said as such', async () => {
    const { srv, admin, env } = await server();
    const bad = await herald(['subscribers:import', '-'], { env, input: 'email,components\nnot-an-address,\nok@example.org,production\nother@example.org,mars\n' });
    expect(bad).toMatchObject({ code: 1, stdout: '' });
    expect(bad.lines).toEqual([
      'herald: row 1, email: is not an email address (such as ops@example.com)',
      'herald: row 3, components: unknown component "mars" (known: production, development)',
    ]);
    expect((await srv.api('GET', '/api/v1/subscribers', admin)).body.count).toBe(0);

    const noHeader = await herald(['subscribers:import', '-'], { env, input: 'ops@example.com\n' });
    expect(noHeader).toMatchObject({ code: 1, stderr: 'herald: the CSV needs a header row naming an "email" column (and optionally "components"): email,components\n' });
    const missing = await herald(['subscribers:import', '/nonexistent/list.csv'], { env });
    expect(missing.code).toBe(2);
    expect(missing.lines[0]).toBe('herald: cannot read file /nonexistent/list.csv: no such file');
    const noArg = await herald(['subscribers:import'], { env });
    expect(noArg.code).toBe(2);
    expect((await srv.api('GET', '/api/v1/subscribers', admin)).body.count).toBe(0);
  });

  it('`subscribers:remove ID` prints the id and the subscriber is gone; a second time it is not found; a wrong ID is exit 2', async () => {
    const { srv, admin, env } = await server();
    await herald(['subscribers:import', '-'], { env, input: 'email\nops@example.com\nfan@example.net\n' });
    const removed = await herald(['subscribers:remove', '1'], { env });
    expect(removed).toMatchObject({ code: 0, stdout: '1\n', stderr: 'Removed subscriber #1; nothing more is sent to the address, and it is forgotten.\n' });
    expect((await srv.api('GET', '/api/v1/subscribers', admin)).body.subscribers.map((s: { email: string }) => s.email)).toEqual(['fan@example.net']);
    expect(await herald(['subscribers:remove', '1'], { env })).toMatchObject({ code: 1, stdout: '', stderr: 'herald: Subscriber 1 was not found.\n' });
    const wrong = await herald(['subscribers:remove', 'ops@example.com'], { env });
    expect(wrong.code).toBe(2);
    expect(wrong.lines[0]).toBe('herald: ID must be a positive number (got "ops@example.com")');
    expect((await srv.api('GET', '/api/v1/subscribers', admin)).body.count).toBe(1);
  });

  it('a token without the admin scope is refused every subscriber command, and nothing is printed on stdout', async () => {
    const { srv, admin, env: adminEnv } = await server();
    await herald(['subscribers:import', '-'], { env: adminEnv, input: 'email\nops@example.com\n' });
    const env = srv.env(await srv.token(['incidents:write', 'maintenance:write'], 'alice'));
    for (const [args, input] of [[['subscribers']], [['subscribers:export']], [['subscribers:import', '-'], 'email\nsneaky@example.com\n'], [['subscribers:remove', '1']]] as [string[], string?][]) {
      const r = await herald(args, { env, ...(input ? { input } : {}) });
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.stdout, args.join(' ')).toBe('');
      expect(r.stderr, args.join(' ')).toMatch(/^herald: .*admin/);
    }
    expect((await srv.api('GET', '/api/v1/subscribers', admin)).body.subscribers.map((s: { email: string }) => s.email)).toEqual(['ops@example.com']);
  });
});
