import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runHerald, startHerald } from '../support/process.ts';

/** The real `herald` binary on a real embedded data directory, as `npm start` runs it. */
describe('herald on the embedded database', () => {
  let dir: string;
  let env: Record<string, string>;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'herald-data-'));
    env = { HERALD_DATA_DIR: join(dir, 'data'), PORT: String(38000 + (process.pid % 1000)) };
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

  it('when a server holds the embedded database, a second process is refused instead of opening it too', async () => {
    const running = await startHerald(env);
    try {
      const r = await runHerald(['token:create', '--name', 'second', '--scopes', 'admin'], env);
      expect(r.code).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/^herald: the embedded database in .* is in use by another Herald process \(pid \d+\); stop it first/);
    } finally {
      expect(await running.stop()).toBe(0);
    }
    // once it stopped, the lock is gone
    const after = await runHerald(['token:create', '--name', 'third', '--scopes', 'admin'], env);
    expect(after.code).toBe(0);
  });

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
