import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runHerald, startHerald } from '../support/process.ts';
import { freePort, startThrowawayPostgres, type ThrowawayPostgres } from '../support/throwaway-postgres.ts';

/**
 * The database goes away under a running `herald serve` (the real binary, on a Postgres cluster of
 * this file's own, whatever TEST_DATABASE_URL says) and comes back on the same port:
 *
 * - public pages keep answering 200 from the last snapshot, quickly, and say since when they are stale;
 * - a write gets an error in the usual shape, saying nothing of the internals;
 * - /readyz says not ready, quickly;
 * - when the database is back, fresh data without restarting Herald.
 *
 * Four outages, one Herald process throughout: a crash (connections reset, new ones refused), a
 * clean shutdown, a host that stops answering (new connections hang until the pool's 3 s connect
 * timeout), and a frozen server (open connections go silent too). Each test opens its own
 * incident and starts from a running database and a fresh, ready Herald (beforeEach), whatever
 * the test before it did. Each step's timing is printed at the end.
 */

/** Put in DATABASE_URL (trust auth ignores it) so that a leak of the URL shows up. */
const DB_PASSWORD = 'canary-db-password-7f3a';
/** How long a public GET may take while the database is down. */
const FAST_MS = 2_000;

let pg: ThrowawayPostgres;
let herald: Awaited<ReturnType<typeof startHerald>>;
let token: string;
/** One line per step with its timing, printed at the end (what happened, for CI logs). */
const timeline: string[] = [];
const fileStarted = performance.now();
const note = (line: string) => timeline.push(`+${((performance.now() - fileStarted) / 1000).toFixed(1)}s ${line}`);
let failed = false;

interface Got {
  status: number;
  ms: number;
  headers: Headers;
  text: string;
}

async function get(path: string, init: RequestInit = {}): Promise<Got> {
  const started = performance.now();
  const r = await fetch(`${herald.url}${path}`, { ...init, signal: AbortSignal.timeout(15_000) });
  const text = await r.text();
  return { status: r.status, ms: performance.now() - started, headers: r.headers, text };
}

function post(path: string, body: unknown): Promise<Got> {
  return get(path, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Calls `probe` until it returns a value (not undefined) or `ms` pass; returns it with the time taken. */
async function within<T>(ms: number, what: string, probe: () => Promise<T | undefined>, every = 100): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  for (;;) {
    const value = await probe();
    if (value !== undefined) return { value, ms: performance.now() - started };
    if (performance.now() - started > ms) throw new Error(`${what}: not within ${ms} ms`);
    await sleep(every);
  }
}

const snapshotHeader = (g: Got) => g.headers.get('x-herald-snapshot') ?? '';
const publicPaths = (incidentId: number) => ['/', '/api/v1/status', '/api/v4/current-status', '/api/v2/summary.json', `/incidents/${incidentId}`];

/** Opens an incident of the test's own, and returns what each public path shows while all is well. */
async function openIncident(title: string): Promise<{ id: number; before: Map<string, string> }> {
  const opened = await post('/api/v1/incidents', { title, message: 'Checking what happens without a database.', statuses: { production: 'yellow' } });
  expect(opened.status, opened.text).toBe(201);
  const id = (JSON.parse(opened.text) as { id: number }).id;
  const before = new Map<string, string>();
  for (const path of publicPaths(id)) {
    const g = await get(path);
    expect(g.status, path).toBe(200);
    expect(snapshotHeader(g), path).toBe('fresh');
    expectIn(g.text, title, path);
    before.set(path, g.text);
  }
  return { id, before };
}

/** The part of a page worth showing when an assertion on it fails (no 90-day bars). */
const gist = (html: string) =>
  (/<main[^>]*>([\s\S]*?)<\/main>/.exec(html)?.[1] ?? html).replace(/<ol class="bars"[\s\S]*?<\/ol>/g, '[bars]').slice(0, 2000);

/** `expect(text).toContain(needle)` without printing a whole page when it fails. */
function expectIn(text: string, needle: string, label: string, present = true, soft = false) {
  const ok = text.includes(needle) === present;
  const message = `${label}: expected ${present ? '' : 'no '}${JSON.stringify(needle)} in:\n${gist(text)}`;
  if (soft) expect.soft(ok, message).toBe(true);
  else if (!ok) throw new Error(message);
}

/** Answers 200 within FAST_MS, from the data the page had before the outage. */
async function expectServedFromSnapshot(path: string, title: string): Promise<Got> {
  const g = await get(path);
  expect(g.status, `${path} answered ${g.status}: ${g.text.slice(0, 300)}`).toBe(200);
  expect(g.ms, `${path} took ${Math.round(g.ms)} ms`).toBeLessThan(FAST_MS);
  expectIn(g.text, title, path);
  return g;
}

/** Nothing a client or the log should ever see: stack frames, secrets, connection details. */
function expectNoInternals(text: string, label: string) {
  expect(text, label).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
  expect(text.includes(token), `${label} holds the API token`).toBe(false);
  expect(text.includes(DB_PASSWORD), `${label} holds the database password`).toBe(false);
  expect(text.includes(pg.url('herald')), `${label} holds the database URL`).toBe(false);
}

async function waitFresh(ms: number, what: string) {
  return within(ms, what, async () => {
    const g = await get('/');
    return g.status === 200 && snapshotHeader(g) === 'fresh' ? g : undefined;
  });
}

async function waitStale(ms: number, what: string) {
  return within(ms, what, async () => {
    const g = await get('/');
    expect(g.status).toBe(200);
    expect(g.ms, `/ took ${Math.round(g.ms)} ms`).toBeLessThan(FAST_MS);
    return snapshotHeader(g).startsWith('stale') ? g : undefined;
  });
}

/**
 * Stands in for a database host that stops answering: accepts connections on the port and never
 * says a word (as a dead host behind a load balancer, or a partition that drops packets).
 */
function blackhole(port: number): Promise<{ close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () =>
      resolve({
        close: () =>
          new Promise<void>((done) => {
            for (const s of sockets) s.destroy();
            server.close(() => done());
          }),
      }),
    );
  });
}

beforeEach((context) => context.onTestFailed(() => void (failed = true)));

beforeAll(async () => {
  pg = await startThrowawayPostgres();
  note(`Postgres ${pg.version} up on 127.0.0.1:${pg.port}`);
  await pg.createDatabase('herald');
  const env = { DATABASE_URL: pg.url('herald', DB_PASSWORD), PORT: String(await freePort()) };
  const created = await runHerald(['token:create', '--name', 'drill', '--scopes', 'incidents:write'], env);
  expect(created.code, created.stderr).toBe(0);
  token = created.stdout.trim();
  herald = await startHerald(env);
  note(`herald serve up at ${herald.url}`);
});

beforeEach(async () => {
  // Whatever the test before did: a running database, and Herald ready and fresh again.
  if (pg.frozen) pg.thaw();
  if (!pg.running) await pg.start();
  await within(30_000, '/readyz 200', async () => ((await get('/readyz')).status === 200 ? true : undefined), 200);
  await waitFresh(30_000, '/ fresh');
  // Herald hears of an outage that no request runs into through its notification connection,
  // which reconnects with backoff after the previous test's outage: wait until it is back.
  const count = (re: RegExp) => herald.stderr().match(re)?.length ?? 0;
  await within(15_000, 'herald listening for change notifications again', async () =>
    count(/msg="change notifications back"/g) >= count(/msg="change notifications lost; reconnecting"/g) ? true : undefined,
  );
});

afterAll(async () => {
  console.log(`database-down timeline:\n  ${timeline.join('\n  ')}`);
  if (failed && herald) console.log(`herald's stderr:\n${herald.stderr()}`);
  if (herald && herald.child.exitCode === null) await herald.stop();
  await pg?.destroy();
});

describe('when the database goes down under a running herald serve', () => {
  it('on a crash, every public page keeps answering 200 within 2 s from the last snapshot, marked stale since the outage', async () => {
    const title = `Crash drill ${process.pid}`;
    const { id, before } = await openIncident(title);
    const stoppedAt = Date.now();
    await pg.stop('immediate');
    note('cluster crashed (pg_ctl stop -m immediate)');
    // Straight after the crash, whatever Herald has or has not noticed yet.
    const first: string[] = [];
    for (const path of publicPaths(id)) first.push(`${path} ${Math.round((await expectServedFromSnapshot(path, title)).ms)} ms`);
    note(`first GETs after the crash: ${first.join(', ')}`);

    // Losing the notification connection makes the snapshot try a rebuild behind the requests; it
    // fails, and the pages say so, without waiting for the 30 s refresh.
    const stale = await waitStale(3_000, 'X-Herald-Snapshot: stale after the crash');
    const since = /^stale; since=(\S+)$/.exec(snapshotHeader(stale.value))?.[1];
    note(`X-Herald-Snapshot: ${snapshotHeader(stale.value)} (${Math.round(stale.ms)} ms after the first GETs)`);
    expect(since, snapshotHeader(stale.value)).toBeDefined();
    expect(Date.parse(since!)).toBeGreaterThanOrEqual(stoppedAt - 1_000);
    expect(Date.parse(since!)).toBeLessThanOrEqual(Date.now());

    // Again and again, across the snapshot's retries: 200, fast, the same data, still stale since then.
    let slowest = 0;
    for (let round = 0; round < 3; round++) {
      for (const path of publicPaths(id)) {
        const g = await expectServedFromSnapshot(path, title);
        slowest = Math.max(slowest, g.ms);
        expect(snapshotHeader(g), path).toBe(`stale; since=${since}`);
        if (path.startsWith('/api/')) expect(JSON.parse(g.text), path).toEqual(JSON.parse(before.get(path)!));
      }
      await sleep(400);
    }
    note(`3 rounds of the ${publicPaths(id).length} public GETs while down: all 200 and stale, slowest ${Math.round(slowest)} ms`);

    // The HTML pages say they could not be refreshed since the outage, and as of when they show the status.
    for (const path of ['/', `/incidents/${id}`]) {
      const g = await expectServedFromSnapshot(path, title);
      expectIn(g.text, 'could not be refreshed since', path, true, true);
      expectIn(g.text, `datetime="${since}"`, path, true, true);
    }
  });

  it('a write while the database is down gets a 503 in the usual error shape, the pages stay up, and /readyz says not ready within 3 s', async () => {
    const title = `Write drill ${process.pid}`;
    const { id } = await openIncident(title);
    await pg.stop('immediate');
    const r = await post(`/api/v1/incidents/${id}/updates`, { message: 'Written while the database is down.' });
    note(`POST while down: ${r.status} ${r.text} in ${Math.round(r.ms)} ms`);
    expect(r.status).toBe(503);
    expect(r.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(r.ms).toBeLessThan(5_000);
    const body = JSON.parse(r.text) as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual(['code', 'id', 'message']);
    expect(body.id).toBe('unavailable');
    expect(body.code).toBe('database.unavailable');
    expect(body.message).toEqual(expect.any(String));
    expect(r.text).not.toMatch(/ECONN|ETIMEDOUT|127\.0\.0\.1|\bat .+:\d+:\d+/);
    expect(r.text).not.toContain(String(pg.port));
    expectNoInternals(r.text, 'the error response');
    for (const path of publicPaths(id)) {
      const g = await expectServedFromSnapshot(path, title);
      expectIn(g.text, 'Written while the database is down.', path, false);
    }

    const ready = await get('/readyz');
    note(`/readyz while down: ${ready.status} ${ready.text} in ${Math.round(ready.ms)} ms`);
    expect(ready.status).toBe(503);
    expect(ready.ms).toBeLessThan(3_000);
    expect(JSON.parse(ready.text)).toMatchObject({ status: 'not_ready' });
    expectNoInternals(ready.text, '/readyz');
    expect(herald.child.exitCode).toBeNull();
    expectNoInternals(herald.stderr(), "herald's stderr");
  });

  it('when the database is back on the same port, an update posted through the API is on the next page load, without a restart', async () => {
    const title = `Return drill ${process.pid}`;
    const { id } = await openIncident(title);
    const pid = herald.child.pid;
    await pg.stop('immediate');
    await waitStale(3_000, 'X-Herald-Snapshot: stale after the crash');
    // As on a busy site: the snapshot has just retried (and failed) when the database returns and
    // the first update lands, well within the snapshot's backoff between retries.
    await sleep(1_100);
    expect(snapshotHeader(await get('/'))).toMatch(/^stale/);
    const restarting = performance.now();
    await pg.start({ wait: false });
    const backMessage = `Back at ${new Date().toISOString()}: the database returned.`;
    await within(
      10_000,
      'an update accepted after the restart',
      async () => {
        const r = await post(`/api/v1/incidents/${id}/updates`, { state: 'monitoring', message: backMessage, statuses: { production: 'green' } });
        return r.status === 201 ? r : undefined;
      },
      50,
    );
    note(`cluster restarting; update accepted (201) ${Math.round(performance.now() - restarting)} ms after the restart began`);

    // An acknowledged write is on the very next request (snapshot.ts: versions, not flags).
    for (const path of ['/', '/api/v1/status', `/incidents/${id}`]) {
      const g = await get(path);
      note(`first ${path} after the write: X-Herald-Snapshot: ${snapshotHeader(g)}, shows the update: ${g.text.includes(backMessage)}`);
      expect(g.status, path).toBe(200);
      expect(snapshotHeader(g), `${path}: the first load after the write`).toBe('fresh');
      expectIn(g.text, backMessage, `${path}: the first load after the write`);
    }
    expectIn((await get('/')).text, 'could not be refreshed', '/', false);
    expect((await get('/readyz')).status).toBe(200);
    expect(herald.child.pid).toBe(pid);
    expect(herald.child.exitCode).toBeNull();
  });

  it('on a clean shutdown, pages that were fresh turn stale within 3 s without any write, and fresh again on their own when it is back', async () => {
    const title = `Shutdown drill ${process.pid}`;
    const { id } = await openIncident(title);
    await pg.stop('fast');
    const stale = await waitStale(3_000, 'X-Herald-Snapshot: stale after the clean shutdown');
    note(`clean shutdown (pg_ctl stop -m fast): / stale after ${Math.round(stale.ms)} ms`);
    for (const path of publicPaths(id)) await expectServedFromSnapshot(path, title);
    expect((await get('/readyz')).status).toBe(503);

    await pg.start();
    // No write: the notification connection's return (or the snapshot's retry) brings fresh data.
    const back = await waitFresh(10_000, '/ fresh again without a write');
    note(`cluster restarted: / fresh again after ${Math.round(back.ms)} ms, no write`);
    expectIn(back.value.text, 'could not be refreshed', '/', false);
    expect((await get('/readyz')).status).toBe(200);
    expectNoInternals(herald.stderr(), "herald's stderr");
  });

  it('when the database host stops answering (connections hang), no public page waits for it', async () => {
    const title = `Hang drill ${process.pid}`;
    const { id } = await openIncident(title);
    await pg.stop('immediate');
    const hole = await blackhole(pg.port);
    try {
      const slow: string[] = [];
      const started = performance.now();
      let count = 0;
      while (performance.now() - started < 4_000) {
        for (const path of publicPaths(id)) {
          const g = await get(path);
          expect(g.status, path).toBe(200);
          expectIn(g.text, title, path);
          count++;
          if (g.ms >= FAST_MS) slow.push(`${path} took ${Math.round(g.ms)} ms, ${Math.round(performance.now() - started)} ms into the loop`);
        }
        await sleep(200);
      }
      note(`database hangs: ${count} public GETs in ${Math.round(performance.now() - started)} ms, slow: ${slow.join('; ') || 'none'}`);
      expect(slow.join('; ') || 'none', 'public GETs that waited for the hanging database').toBe('none');

      const ready = await get('/readyz');
      note(`database hangs: /readyz ${ready.status} in ${Math.round(ready.ms)} ms`);
      expect(ready.status).toBe(503);
      expect(ready.ms).toBeLessThan(3_000);
    } finally {
      await hole.close();
      await pg.start();
    }
    const back = await waitFresh(10_000, '/ fresh again after the hang');
    note(`database answers again: / fresh after ${Math.round(back.ms)} ms`);
    expect((await get('/readyz')).status).toBe(200);
    expect(herald.child.exitCode).toBeNull();
    expectNoInternals(herald.stderr(), "herald's stderr");
  }, 45_000);

  it('when the database freezes (connections open, nothing answers), pages answer within 2 s, /readyz within 3 s, and a write gets a 503 within 8 s', async () => {
    const title = `Freeze drill ${process.pid}`;
    const { id } = await openIncident(title);
    pg.freeze();
    note('database frozen (SIGSTOP)');
    try {
      let slowest = 0;
      for (const path of publicPaths(id)) slowest = Math.max(slowest, (await expectServedFromSnapshot(path, title)).ms);
      note(`database frozen: the ${publicPaths(id).length} public GETs all 200, slowest ${Math.round(slowest)} ms`);

      // A commander must hear back, not wait on a database that will never answer. (/readyz is
      // asked meanwhile, to keep the file short.)
      const started = performance.now();
      const write = fetch(`${herald.url}/api/v1/incidents/${id}/updates`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ message: 'Written while the database is frozen.' }),
        signal: AbortSignal.timeout(8_000),
      }).then(
        async (r) => `${r.status} ${await r.text()}`,
        (error: Error) => `no answer (${error.name})`,
      );
      const ready = await get('/readyz');
      note(`database frozen: /readyz ${ready.status} in ${Math.round(ready.ms)} ms`);
      expect(ready.status).toBe(503);
      expect(ready.ms).toBeLessThan(3_000);
      const outcome = await write;
      note(`database frozen: POST answered "${outcome}" after ${Math.round(performance.now() - started)} ms`);
      expect(outcome, 'a write while the database is frozen').toMatch(/^503 \{"id":"unavailable","code":"database.unavailable","message":"[^"]+"\}$/);
    } finally {
      pg.thaw();
    }
    const back = await waitFresh(10_000, '/ fresh after the thaw');
    note(`database thawed: / fresh after ${Math.round(back.ms)} ms`);
    expect((await get('/readyz')).status).toBe(200);
    expect(herald.child.exitCode).toBeNull();
    expectNoInternals(herald.stderr(), "herald's stderr");
  }, 45_000);
});
