import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { LAST_KNOWN_FILE } from '../../src/entry/last-known.ts';
import { runHerald, startHerald, stopChild } from '../support/process.ts';
import { freePort, startThrowawayPostgres, type ThrowawayPostgres } from '../support/throwaway-postgres.ts';

/**
 * `herald serve` starting when its database cannot answer: the real binary, on a Postgres cluster
 * of this file's own (stopped and started by the tests), and on the embedded database.
 *
 * - Down at start, nothing kept: the process stays up, says it is live and not ready, answers
 *   503 with Retry-After (an HTML page for browsers), and starts by itself when the database is back.
 * - Down at a restart: it serves the public data the last run kept on disk, marked stale since
 *   that data was built; writes get 503; fresh data once the database is back.
 * - A start error that waiting would not mend (no such database) still ends the start.
 * - A restart on the embedded database answers / from the kept data before its database is open.
 *
 * Each test has its own database, data dir and processes, and starts from a running cluster.
 */

let pg: ThrowawayPostgres;
let databases = 0;
const cleanup: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  pg = await startThrowawayPostgres();
});
beforeEach(async () => {
  if (!pg.running) await pg.start();
});
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step().catch(() => {});
});
afterAll(async () => {
  await pg?.destroy();
});

async function dataDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'herald-start-'));
  cleanup.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function postgresEnv(): Promise<Record<string, string>> {
  const name = `start_${process.pid}_${++databases}`;
  await pg.createDatabase(name);
  return { DATABASE_URL: pg.url(name), PORT: String(await freePort()), HERALD_DATA_DIR: await dataDir() };
}

async function serve(env: Record<string, string>, ready?: RegExp) {
  const herald = await startHerald(env, { timeoutMs: 60_000, ...(ready ? { ready } : {}) });
  cleanup.push(() => stopChild(herald.child));
  return herald;
}

async function token(env: Record<string, string>): Promise<string> {
  const created = await runHerald(['token:create', '--name', 'commander', '--scopes', 'incidents:write'], env);
  expect(created.code, created.stderr).toBe(0);
  return created.stdout.trim();
}

function post(url: string, bearer: string, body: unknown): Promise<Response> {
  return fetch(url, { method: 'POST', headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(15_000) });
}

const get = (url: string, headers: Record<string, string> = {}) => fetch(url, { headers, signal: AbortSignal.timeout(15_000) });

/** Waits until `stderr()` matches `re` (the process logs as it goes). */
async function logged(stderr: () => string, re: RegExp, ms = 60_000): Promise<void> {
  const started = performance.now();
  while (!re.test(stderr())) {
    if (performance.now() - started > ms) throw new Error(`not logged within ${ms} ms: ${re}\n${stderr()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const WAITING = /msg="the database cannot be reached at start[^\n]*url=(\S+)/;
const KEPT = /msg="serving the public data kept on disk until the database is open" url=(\S+)/;

describe('when herald serve starts and its Postgres is down', () => {
  it('with nothing kept on disk, it stays up (live, not ready, 503 with Retry-After, an HTML page for browsers) and starts by itself once the database is back', async () => {
    const env = await postgresEnv();
    await pg.stop('fast');
    const herald = await serve(env, WAITING);

    expect((await get(`${herald.url}/healthz`)).status).toBe(200);
    const ready = await get(`${herald.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(((await ready.json()) as { reason: string }).reason).toMatch(/cannot be reached/);

    const page = await get(`${herald.url}/`, { accept: 'text/html' });
    expect(page.status).toBe(503);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.headers.get('retry-after')).toMatch(/^\d+$/);
    const html = await page.text();
    expect(html).toContain('Status not available just now');
    expect(html).not.toMatch(/ECONNREFUSED|127\.0\.0\.1|postgres/i);

    const api = await get(`${herald.url}/api/v2/summary.json`);
    expect(api.status).toBe(503);
    expect(((await api.json()) as { code: string }).code).toBe('database.unavailable');
    expect(herald.child.exitCode).toBeNull();

    await pg.start();
    await logged(herald.stderr, /msg=listening /);
    expect(herald.stderr()).toMatch(/msg="the database answers; starting"/);
    const fresh = await get(`${herald.url}/`);
    expect(fresh.status).toBe(200);
    expect(fresh.headers.get('x-herald-snapshot')).toBe('fresh');
    const bearer = await token(env);
    const opened = await post(`${herald.url}/api/v1/incidents`, bearer, { title: 'Opened after a cold start', message: 'The database came back.' });
    expect(opened.status, await opened.clone().text()).toBe(201);
    expect(await (await get(`${herald.url}/`)).text()).toContain('Opened after a cold start');
    expect(herald.stderr()).not.toContain('unhandled error survived');
  });

  it('at a restart, it serves the public data it kept on disk, marked stale since that data was built; writes get 503; fresh once the database is back', async () => {
    const env = await postgresEnv();
    const bearer = await token(env);
    const first = await serve(env);
    const opened = await post(`${first.url}/api/v1/incidents`, bearer, { title: 'Kept across a restart', message: 'Investigating.', statuses: { production: 'yellow' } });
    expect(opened.status).toBe(201);
    const { id } = (await opened.json()) as { id: number };
    const before = await get(`${first.url}/`);
    expect(before.headers.get('x-herald-snapshot')).toBe('fresh');
    expect(await before.text()).toContain('Kept across a restart');
    await stopChild(first.child);
    expect(existsSync(join(env.HERALD_DATA_DIR!, LAST_KNOWN_FILE))).toBe(true);

    await pg.stop('fast');
    const second = await serve(env, KEPT);
    const page = await get(`${second.url}/`);
    expect(page.status).toBe(200);
    const since = /^stale; since=(\S+)$/.exec(page.headers.get('x-herald-snapshot') ?? '')?.[1];
    expect(since, page.headers.get('x-herald-snapshot') ?? '').toBeDefined();
    expect(Date.parse(since!)).toBeLessThanOrEqual(Date.now());
    const html = await page.text();
    expect(html).toContain('Kept across a restart');
    expect(html).toContain('could not be refreshed since');
    const summary = await get(`${second.url}/api/v2/summary.json`);
    expect(summary.status).toBe(200);
    expect(((await summary.json()) as { incidents: { name: string }[] }).incidents.map((i) => i.name)).toContain('Kept across a restart');
    const refused = await post(`${second.url}/api/v1/incidents/${id}/updates`, bearer, { state: 'identified', message: 'Found it.' });
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(((await refused.json()) as { code: string }).code).toBe('database.unavailable');
    expect((await get(`${second.url}/readyz`)).status).toBe(503);
    // The stand-in cannot rebuild by design; its failing rebuilds are not news worth a log line.
    expect(second.stderr()).not.toContain('public data could not be rebuilt');

    await pg.start();
    await logged(second.stderr, /msg=listening /);
    const written = await post(`${second.url}/api/v1/incidents/${id}/updates`, bearer, { state: 'identified', message: 'Found it after the restart.' });
    expect(written.status).toBe(201);
    const after = await get(`${second.url}/incidents/${id}`);
    expect(after.headers.get('x-herald-snapshot')).toBe('fresh');
    expect(await after.text()).toContain('Found it after the restart.');
    expect(second.stderr()).not.toContain('unhandled error survived');
  });

  it('a start error that waiting would not mend (no such database) still ends the start, saying why', async () => {
    const r = await runHerald(['serve'], { DATABASE_URL: pg.url('no_such_database'), PORT: String(await freePort()), HERALD_DATA_DIR: await dataDir() });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('database "no_such_database" does not exist');
  });
});

describe('when herald serve restarts on the embedded database', () => {
  it('it answers / from the data it kept on disk before its database is open, then from the database', async () => {
    const env = { HERALD_DATA_DIR: join(await dataDir(), 'data'), PORT: String(await freePort()) };
    const bearer = await token(env);
    const first = await serve(env);
    expect((await post(`${first.url}/api/v1/incidents`, bearer, { title: 'Kept in the data dir', message: 'Investigating.' })).status).toBe(201);
    await stopChild(first.child);

    const second = await serve(env, KEPT);
    const page = await get(`${second.url}/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('Kept in the data dir');
    await logged(second.stderr, /msg=listening /);
    // The kept data is served first (its line comes before the database is open), then replaced.
    expect(second.stderr().indexOf('kept on disk')).toBeLessThan(second.stderr().indexOf('msg=listening'));
    const fresh = await get(`${second.url}/`);
    expect(fresh.headers.get('x-herald-snapshot')).toBe('fresh');
    expect(await fresh.text()).toContain('Kept in the data dir');
  });
});
