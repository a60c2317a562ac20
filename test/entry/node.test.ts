import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseLogfmt } from '../support/logfmt.ts';
import { freePort } from '../support/upstream.ts';
import { runHerald, startHerald } from '../support/process.ts';

/** The real `herald` binary on a real embedded data directory, as `npm start` runs it. */
describe('herald on the embedded database', () => {
  let dir: string;
  let env: Record<string, string>;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'herald-data-'));
    env = { HERALD_DATA_DIR: join(dir, 'data'), PORT: String(await freePort()) };
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  it('when started twice on the same data dir, the incident and the token from the first run are still there', async () => {
    const created = await runHerald(['token:create', '--name', 'first', '--scopes', 'incidents:write,admin'], env);
    expect(created.code).toBe(0);
    expect(created.stdout).toMatch(/^hrd_[0-9a-f]{12}_[A-Za-z0-9_-]{43}\n$/);
    expect(created.stderr).toContain('Created token "first"');
    const token = created.stdout.trim();

    const first = await startHerald(env);
    const post = await fetch(`${first.url}/api/v1/incidents`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ title: 'Survives restarts', message: 'Still here?' }),
    });
    expect(post.status).toBe(201);
    const { id } = (await post.json()) as { id: number };
    expect(await first.stop()).toBe(0);
    expect(first.stderr()).not.toContain(token);

    const second = await startHerald(env);
    try {
      const r = await fetch(`${second.url}/api/v1/incidents/${id}`);
      expect(r.status).toBe(200);
      expect(((await r.json()) as { title: string }).title).toBe('Survives restarts');
      const page = await fetch(`${second.url}/`);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('Survives restarts');
      const again = await fetch(`${second.url}/api/v1/incidents/${id}/updates`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}` },
        body: JSON.stringify({ state: 'resolved', message: 'Done.' }),
      });
      expect(again.status).toBe(201);
      expect((await fetch(`${second.url}/readyz`)).status).toBe(200);
    } finally {
      expect(await second.stop()).toBe(0);
    }
  });

  it('when a server holds the embedded database, token:create is refused instead of opening it too, and says what to do instead', async () => {
    const running = await startHerald(env);
    try {
      const r = await runHerald(['token:create', '--name', 'second', '--scopes', 'admin'], env);
      expect(r.code).toBe(1);
      expect(r.stdout).toBe('');
      const base = `http://localhost:${env.PORT}`;
      expect(r.stderr.split('\n')).toEqual([
        `herald: a running Herald server (pid ${running.child.pid}) holds the embedded database in ${env.HERALD_DATA_DIR}, so token:create cannot open it`,
        `herald: first token: open the setup link that server printed in its log (${base}/console/setup/…)`,
        `herald: another token: HERALD_URL=${base} HERALD_TOKEN=<an admin token> herald token:create --remote --name second --scopes admin`,
        '',
      ]);
    } finally {
      expect(await running.stop()).toBe(0);
    }
    // once it stopped, the lock is gone
    const after = await runHerald(['token:create', '--name', 'third', '--scopes', 'admin'], env);
    expect(after.code).toBe(0);
  });

  it('when it starts with no token (run from another folder), it logs a one-time setup link (every log line logfmt) that makes the first admin token; once used, no link is offered', async () => {
    const own = await mkdtemp(join(tmpdir(), 'herald-setup-'));
    const setupEnv = { HERALD_DATA_DIR: join(own, 'data'), PORT: String(await freePort()) };
    try {
      // from a folder that is not the checkout (as after `npm link`): the pages still render
      const first = await startHerald(setupEnv, { cwd: own });
      let token: string;
      try {
        for (let i = 0; i < 100 && !first.stderr().includes('no API token yet'); i++) await new Promise((r) => setTimeout(r, 50));
        const lines = first.stderr().trim().split('\n').map(parseLogfmt);
        const setup = lines.find((l) => l.msg === 'no API token yet: open this link to make the first admin token and sign in');
        expect(setup).toEqual({ level: 'info', msg: 'no API token yet: open this link to make the first admin token and sign in', url: expect.stringMatching(/^http:\/\/localhost:\d+\/console\/setup\/[A-Za-z0-9_-]{43}$/) });
        for (const l of lines) expect(Object.keys(l).slice(0, 2)).toEqual(['level', 'msg']);

        // a browser: the question (and its CSRF cookie), then the form
        const path = new URL(setup!.url!).pathname;
        const ask = await fetch(`${first.url}${path}`, { headers: { accept: 'text/html' } });
        expect(ask.status).toBe(200);
        const cookie = ask.headers.getSetCookie().map((l) => l.split(';')[0]!).join('; ');
        const csrf = /name="_csrf" value="([^"]+)"/.exec(await ask.text())![1]!;
        const made = await fetch(`${first.url}${path}`, {
          method: 'POST',
          headers: { accept: 'text/html', cookie, 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ _csrf: csrf, name: 'alice' }).toString(),
        });
        expect(made.status).toBe(200);
        token = /id="f-secret"[^>]*value="([^"]+)"/.exec(await made.text())![1]!;
        const list = await fetch(`${first.url}/api/v1/tokens`, { headers: { authorization: `Bearer ${token}` } });
        expect(list.status).toBe(200);
        expect(((await list.json()) as { name: string }[]).map((t) => t.name)).toEqual(['alice']);
        expect((await fetch(`${first.url}${path}`, { headers: { accept: 'text/html' } })).status).toBe(404);
        expect(first.stderr()).not.toContain(token);
      } finally {
        expect(await first.stop()).toBe(0);
      }
      const second = await startHerald(setupEnv, { cwd: own });
      try {
        await new Promise((r) => setTimeout(r, 300));
        const lines = second.stderr().trim().split('\n').map(parseLogfmt);
        // no setup link again; the pages the first run kept are served while the database opens
        expect(lines.map((l) => l.msg)).toEqual(['serving the public data kept on disk until the database is open', 'listening']);
        // the public data was built before the real app took over: the first visitor after does not wait for it
        expect(lines[1]!.public_data).toMatch(/^built in \d+ ms$/);
      } finally {
        expect(await second.stop()).toBe(0);
      }
    } finally {
      await rm(own, { recursive: true, force: true });
    }
  }, 90_000); // two start-ups of a real server

  it('when a configuration value is wrong, start-up stops with one line naming the variable', async () => {
    const r = await runHerald(['serve'], { ...env, PORT: 'eighty' });
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe('herald: invalid configuration: PORT must be an integer between 1 and 65535 (got "eighty")');
  });

  it('when token:create is missing its scopes, it prints usage and exits 2 without touching stdout', async () => {
    const r = await runHerald(['token:create', '--name', 'x'], env);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('token:create needs --scopes');
  });
});
