import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHerald } from '../support/process.ts';
import { freePort } from '../support/upstream.ts';
import { herald } from './harness.ts';

/**
 * One-time links to the web console from the command line: the first `herald token:create` (on
 * the database) prints one on stderr, `herald console:link` asks a server for one. Each is opened
 * as a browser would: GET asks "Sign in as NAME?", POST signs in, a second POST is refused.
 */

const LINK = /^https?:\/\/[^/]+\/console\/signin\/[A-Za-z0-9_-]{43}$/;

/** A browser's visit to a link on `base`: the question, then the form, then the same form again. */
async function openLink(base: string, link: string) {
  const path = new URL(link).pathname;
  const ask = await fetch(`${base}${path}`, { headers: { accept: 'text/html' } });
  const html = await ask.text();
  const cookie = ask.headers.getSetCookie().map((l) => l.split(';')[0]!).join('; ');
  const csrf = /name="_csrf" value="([^"]+)"/.exec(html)?.[1] ?? '';
  const post = () =>
    fetch(`${base}${path}`, {
      method: 'POST',
      redirect: 'manual',
      headers: { accept: 'text/html', cookie, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ _csrf: csrf }).toString(),
    });
  const first = await post();
  const second = await post();
  return {
    ask: { status: ask.status, html },
    first: { status: first.status, location: first.headers.get('location'), session: first.headers.getSetCookie().some((l) => l.startsWith('herald_session=')) },
    second: { status: second.status, html: await second.text() },
  };
}

describe('herald: one-time sign-in links to the console', () => {
  let dir: string;
  let env: Record<string, string>;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'herald-console-'));
    env = { HERALD_DATA_DIR: join(dir, 'data'), PORT: String(await freePort()), PUBLIC_URL: 'https://status.example.com' };
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  it('when token:create runs on the database, stdout is only the secret and stderr has a link that signs in once; console:link prints another', async () => {
    const created = await herald(['token:create', '--name', 'alice', '--scopes', 'admin'], { env, timeoutMs: 60_000 });
    expect(created.code, created.stderr).toBe(0);
    expect(created.stdout).toMatch(/^hrd_[0-9a-f]{12}_[A-Za-z0-9_-]{43}\n$/);
    expect(created.lines).toHaveLength(2);
    expect(created.lines[0]).toBe('Created token "alice" with scopes admin. It is shown once; store it now.');
    const line = /^Sign in to the console within 15 minutes: (\S+)$/.exec(created.lines[1]!);
    expect(line, created.lines[1]).not.toBeNull();
    const link = line![1]!;
    expect(link).toMatch(LINK);
    expect(link.startsWith('https://status.example.com/console/signin/')).toBe(true);
    expect(created.stderr).not.toContain(created.stdout.trim()); // the secret only on stdout
    const secret = created.stdout.trim();

    const server = await startHerald(env);
    try {
      const visit = await openLink(server.url, link);
      expect(visit.ask.status).toBe(200);
      expect(visit.ask.html).toContain('Sign in as alice?');
      expect(visit.first).toEqual({ status: 303, location: '/console/incidents', session: true });
      expect(visit.second.status).toBe(404);
      expect(visit.second.html).toContain('This sign-in link cannot be used');

      // console:link: the URL alone on stdout, one line on stderr
      const asked = await herald(['console:link'], { env: { HERALD_URL: server.url, HERALD_TOKEN: secret } });
      expect(asked.code, asked.stderr).toBe(0);
      expect(asked.stdout).toMatch(/^https:\/\/status\.example\.com\/console\/signin\/[A-Za-z0-9_-]{43}\n$/);
      expect(asked.lines).toEqual([expect.stringMatching(/^Open it by \d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC; it signs in once\.$/)]);
      const again = await openLink(server.url, asked.stdout.trim());
      expect(again.ask.html).toContain('Sign in as alice?');
      expect(again.first).toMatchObject({ status: 303, session: true });
      expect(again.second.status).toBe(404);

      const json = await herald(['console:link', '--json'], { env: { HERALD_URL: server.url, HERALD_TOKEN: secret } });
      expect(json.code, json.stderr).toBe(0);
      const body = JSON.parse(json.stdout) as { url: string; expires_at: string };
      expect(body.url).toMatch(LINK);
      expect(Date.parse(body.expires_at) - Date.now()).toBeGreaterThan(14 * 60_000);
      expect(Date.parse(body.expires_at) - Date.now()).toBeLessThanOrEqual(15 * 60_000);

      const noToken = await herald(['console:link'], { env: { HERALD_URL: server.url } });
      expect(noToken).toMatchObject({ code: 2, stdout: '' });
      expect(noToken.lines[0]).toBe('herald: this command needs an API token: set HERALD_TOKEN or pass --token (make one with `herald token:create`)');
      const badToken = await herald(['console:link'], { env: { HERALD_URL: server.url, HERALD_TOKEN: `hrd_${'0'.repeat(12)}_${'x'.repeat(43)}` } });
      expect(badToken).toMatchObject({ code: 1, stdout: '' });
      expect(badToken.lines).toEqual([expect.stringMatching(/^herald: A valid API token is required/)]);

      // token:create --remote: stdout the secret, the link on stderr
      const remote = await herald(['token:create', '--remote', '--name', 'bob', '--scopes', 'incidents:write'], { env: { HERALD_URL: server.url, HERALD_TOKEN: secret } });
      expect(remote.code, remote.stderr).toBe(0);
      expect(remote.stdout).toMatch(/^hrd_[0-9a-f]{12}_[A-Za-z0-9_-]{43}\n$/);
      expect(remote.lines).toHaveLength(2);
      expect(remote.lines[1]).toMatch(/^Sign in to the console within 15 minutes: https:\/\/status\.example\.com\/console\/signin\/[A-Za-z0-9_-]{43}$/);
      const bobs = await openLink(server.url, remote.lines[1]!.split(': ')[1]!);
      expect(bobs.ask.html).toContain('Sign in as bob?');
    } finally {
      expect(await server.stop()).toBe(0);
    }
  });
});
