import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.ts';
import { connectPGlite, type DatabaseHandle } from '../../src/db/connect.ts';
import { startServer, type RunningServer } from '../../src/entry/node.ts';
import { seedToken } from '../support/seed.ts';
import { systemClock } from '../../src/clock.ts';
import { freePort } from '../support/throwaway-postgres.ts';

/**
 * The embedded database fails under load: the PGlite instance under a running server is closed
 * (as when the WebAssembly Postgres aborts or its directory becomes unusable). Herald must keep
 * serving the last public data, answer writes 503, say not ready, and throw nothing that would
 * end the process; every write it answered 201 is in the data directory afterwards.
 */

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const PUBLIC_PATHS = ['/', '/api/v1/status', '/api/v4/current-status', '/api/v1/platform', '/feed.rss'];

let dir: string;
let handle: DatabaseHandle;
let server: RunningServer;
let token: string;
const escaped: unknown[] = [];
const record = (error: unknown) => escaped.push(error);

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'herald-embedded-failure-'));
  handle = await connectPGlite({ dataDir: join(dir, 'data') });
  server = await startServer(parseConfig({ PORT: String(await freePort()), PUBLIC_URL: 'http://127.0.0.1' }), { handle, hostname: '127.0.0.1' });
  token = (await seedToken(handle.db, ['incidents:write'], 'drill'));
  process.on('unhandledRejection', record);
  process.on('uncaughtException', record);
});

afterEach(async () => {
  process.off('unhandledRejection', record);
  process.off('uncaughtException', record);
  await server?.close().catch(() => {});
  await handle?.close().catch(() => {});
  await rm(dir, { recursive: true, force: true });
});

async function request(path: string, init: RequestInit = {}) {
  const started = performance.now();
  const r = await fetch(`${server.url}${path}`, { ...init, signal: AbortSignal.timeout(10_000) });
  const text = await r.text();
  return { status: r.status, text, ms: performance.now() - started, headers: r.headers };
}

const post = (path: string, body: unknown) =>
  request(path, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });

describe('when the embedded database fails under load', () => {
  it('pages keep answering 200 from the last snapshot, writes get 503, /readyz 503, and nothing escapes', async () => {
    const opened = await post('/api/v1/incidents', { title: 'Embedded drill', message: 'Investigating.', statuses: { production: 'red' } });
    expect(opened.status, opened.text).toBe(201);
    const incident = (JSON.parse(opened.text) as { id: number }).id;

    let stop = false;
    let failedDb = false;
    const gets: { path: string; status: number; ms: number; after: boolean }[] = [];
    const posts: { message: string; status: number; id: string }[] = [];
    const loader = async (i: number) => {
      for (let n = i; !stop; n++) {
        const path = PUBLIC_PATHS[n % PUBLIC_PATHS.length]!;
        const after = failedDb;
        const r = await request(path);
        gets.push({ path, status: r.status, ms: r.ms, after });
      }
    };
    const poster = async () => {
      for (let n = 1; !stop; n++) {
        const message = `embedded update ${n}`;
        const r = await post(`/api/v1/incidents/${incident}/updates`, { message });
        posts.push({ message, status: r.status, id: r.status >= 400 ? (JSON.parse(r.text) as { id: string }).id : '' });
        await sleep(20);
      }
    };
    const work = Promise.all([...Array.from({ length: 8 }, (_, i) => loader(i)), poster()]);
    await sleep(1_000);
    failedDb = true;
    await handle.pglite!.close();
    await sleep(2_000);
    const readyz = await request('/readyz');
    stop = true;
    await work;

    expect(escaped.map(String)).toEqual([]);
    expect(gets.filter((g) => g.status !== 200).map((g) => `${g.path} ${g.status}`)).toEqual([]);
    expect(gets.filter((g) => g.after).length).toBeGreaterThan(20);
    expect(gets.filter((g) => g.after && g.ms > 1_500).map((g) => `${g.path} ${Math.round(g.ms)} ms`)).toEqual([]);
    expect(posts.filter((p) => p.status !== 201 && !(p.status === 503 && p.id === 'unavailable')).map((p) => `${p.message}: ${p.status} ${p.id}`)).toEqual([]);
    expect(posts.some((p) => p.status === 503)).toBe(true);
    expect(readyz.status).toBe(503);

    // Reopen the directory: every 201 is there, no 503 is.
    await server.close().catch(() => {});
    handle = await connectPGlite({ dataDir: join(dir, 'data') });
    const kept = (await handle.db.selectFrom('incident_updates').select('message').where('incident_id', '=', incident).execute()).map((r) => r.message);
    expect(posts.filter((p) => p.status === 201 && !kept.includes(p.message)).map((p) => p.message)).toEqual([]);
    expect(posts.filter((p) => p.status === 503 && kept.includes(p.message)).map((p) => p.message)).toEqual([]);
  });
});
