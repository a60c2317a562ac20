/**
 * Herald on Cloudflare Workers, for real: `wrangler dev --local` (workerd on this machine, no
 * network) serving src/entry/worker.ts, with the Hyperdrive binding pointed at a throwaway
 * database on the local Postgres (TEST_DATABASE_URL, or postgres://postgres@127.0.0.1:5432/postgres).
 * Nothing is skipped: if wrangler cannot start here, the test fails and says why.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectPostgres, type DatabaseHandle } from '../../src/db/connect.ts';
import { migrate } from '../../src/db/migrator.ts';
import type { Actor } from '../../src/services/deps.ts';
import { seeder } from '../support/seed.ts';
import { freePort } from '../support/throwaway-postgres.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const WRANGLER = join(ROOT, 'node_modules/wrangler/bin/wrangler.js');
const ADMIN_URL = process.env.TEST_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
const DATABASE = `herald_worker_${Math.random().toString(36).slice(2, 10)}`;

function urlFor(database: string, withPassword = false): string {
  const url = new URL(ADMIN_URL);
  url.pathname = `/${database}`;
  // Hyperdrive's local connection string must carry a password; trust auth ignores it.
  if (withPassword && !url.password) url.password = 'herald';
  return url.toString();
}

let admin: DatabaseHandle;
let handle: DatabaseHandle | undefined;
let worker: ChildProcess | undefined;
let persistDir: string | undefined;
let base = '';
let output = '';
let token = '';
let tokenActor: Actor;

/** Waits until wrangler dev answers /healthz, or fails with what it printed. */
async function waitForWorker(child: ChildProcess, url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited: string | undefined;
  child.once('exit', (code, signal) => (exited = `exited with ${code ?? signal}`));
  while (Date.now() < deadline) {
    if (exited) throw new Error(`wrangler dev ${exited} before it was ready:\n${output}`);
    try {
      const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1000) });
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`wrangler dev did not answer within ${timeoutMs / 1000} s:\n${output}`);
}

beforeAll(async () => {
  admin = await connectPostgres(ADMIN_URL, { max: 1 });
  await sql.raw(`create database ${DATABASE}`).execute(admin.db);
  handle = await connectPostgres(urlFor(DATABASE), { max: 2 });
  await migrate(handle.db);
  ({ token, actor: tokenActor } = await seeder(handle.db).token(['incidents:write'], 'worker-test'));

  const port = await freePort();
  const inspectorPort = await freePort();
  persistDir = await mkdtemp(join(tmpdir(), 'herald-wrangler-'));
  base = `http://127.0.0.1:${port}`;
  worker = spawn(
    process.execPath,
    [WRANGLER, 'dev', '--local', '--ip', '127.0.0.1', '--port', String(port), '--inspector-port', String(inspectorPort), '--persist-to', persistDir, '--show-interactive-dev-session=false', '--log-level', 'warn'],
    {
      cwd: ROOT,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        WRANGLER_SEND_METRICS: 'false',
        CLOUDFLARE_CF_FETCH_ENABLED: 'false',
        CLOUDFLARE_HYPERDRIVE_LOCAL_CONNECTION_STRING_HYPERDRIVE: urlFor(DATABASE, true),
        CI: 'true',
      },
    },
  );
  worker.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  worker.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  await waitForWorker(worker, base, 40_000);
}, 60_000);

afterAll(async () => {
  if (worker?.pid && worker.exitCode === null) {
    const exited = new Promise((r) => worker!.once('exit', r));
    try {
      process.kill(-worker.pid, 'SIGTERM');
    } catch {
      // already gone
    }
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
  }
  await handle?.close();
  if (admin) {
    await sql.raw(`drop database if exists ${DATABASE} with (force)`).execute(admin.db);
    await admin.close();
  }
  if (persistDir) await rm(persistDir, { recursive: true, force: true });
}, 30_000);

const get = (path: string, headers: Record<string, string> = {}) => fetch(`${base}${path}`, { headers });

describe('Herald on workerd (wrangler dev --local, Hyperdrive to local Postgres)', () => {
  it('is ready: database reachable and every bundled migration name applied', async () => {
    const res = await get('/readyz');
    expect(await res.json()).toEqual({ status: 'ready' });
  });

  it('serves the status page, the feed and the Heroku status API with the Node cache headers', async () => {
    const page = await get('/', { Accept: 'text/html' });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(page.headers.get('etag')).toMatch(/^(W\/)?"/);
    expect(await page.text()).toContain('Herald');

    const feed = await get('/feed.rss');
    expect(feed.status).toBe(200);
    expect(feed.headers.get('content-type')).toContain('application/rss+xml');
    expect(await feed.text()).toContain('<rss');

    const status = await get('/api/v4/current-status');
    expect(status.status).toBe(200);
    const etag = status.headers.get('etag');
    expect(etag).toBeTruthy();
    expect(status.headers.get('cache-control')).toContain('max-age');
    const body = (await status.json()) as { status: unknown[] };
    expect(Array.isArray(body.status)).toBe(true);
    const again = await get('/api/v4/current-status', { 'If-None-Match': etag! });
    expect(again.status).toBe(304);
  });

  it('creates an incident with a bearer token, and the next page load shows it', async () => {
    const res = await fetch(`${base}/api/v1/incidents`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ title: 'Edge database latency', message: 'Looking into slow queries.', statuses: { production: 'yellow' } }),
    });
    expect(res.status, await res.clone().text()).toBe(201);
    const page = await (await get('/', { Accept: 'text/html' })).text();
    expect(page).toContain('Edge database latency');
  });

  it('signs in to the commander console with a token and shows the incidents (sessions, signed cookies and CSRF on workerd)', async () => {
    const opened = await fetch(`${base}/api/v1/incidents`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ title: 'Queue lag seen from the console', message: 'Looking.' }),
    });
    expect(opened.status, await opened.clone().text()).toBe(201);
    const cookies = (res: Response) => res.headers.getSetCookie().map((l) => l.split(';')[0]!).join('; ');
    const form = await get('/console/signin', { Accept: 'text/html' });
    expect(form.status).toBe(200);
    const csrf = /name="_csrf" value="([^"]+)"/.exec(await form.text())![1]!;
    const signin = await fetch(`${base}/console/signin`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Cookie: cookies(form), Origin: base },
      body: new URLSearchParams({ _csrf: csrf, token, next: '/console/incidents' }),
    });
    expect(signin.status, await signin.clone().text()).toBe(303);
    const session = cookies(signin);
    expect(session).toMatch(/^herald_session=/);
    const list = await get('/console/incidents', { Accept: 'text/html', Cookie: session });
    expect(list.status).toBe(200);
    expect(await list.text()).toContain('Queue lag seen from the console');
  });

  it('sees a write made elsewhere (directly in the database from Node) on the next request', async () => {
    await get('/'); // the isolate has a current snapshot
    await seeder(handle!.db).incident(tokenActor, { title: 'Written from Node', message: 'Not through the Worker.', statuses: { production: 'red' } });
    const page = await (await get('/', { Accept: 'text/html' })).text();
    expect(page).toContain('Written from Node');
  });

  it('answers the event stream with a pointer to polling', async () => {
    const res = await get('/api/v1/platform/events');
    expect(res.status).toBe(501);
    expect(res.headers.get('link')).toContain('/api/v1/platform');
    const platform = await get('/api/v1/platform');
    expect(platform.status).toBe(200);
    const etag = platform.headers.get('etag');
    expect(etag).toBeTruthy();
    expect((await get('/api/v1/platform', { 'If-None-Match': etag! })).status).toBe(304);
  });

  it('runs a scheduler pass on the cron trigger', async () => {
    const res = await get('/cdn-cgi/handler/scheduled?cron=*+*+*+*+*');
    expect(res.status, output).toBe(200);
    expect(await res.text(), output).toBe('ok');
  });
});
