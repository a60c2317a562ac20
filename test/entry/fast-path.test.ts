import http from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fixedClock } from '../../src/clock.ts';
import { parseConfig } from '../../src/config.ts';
import type { DatabaseHandle } from '../../src/db/connect.ts';
import { startServer, type RunningServer } from '../../src/entry/node.ts';
import { freshDatabase } from '../support/db.ts';
import { seeder } from '../support/seed.ts';
import { freePort } from '../support/throwaway-postgres.ts';

/**
 * Node answers snapshot hits before the Hono app (src/entry/fast-path.ts). The first request for a
 * URL, coding and condition goes through the app, which records its answer; the same request again
 * is answered by the fast path. Both must be the same bytes: status, every header in order (but for
 * the Date and connection headers node:http adds itself), and body.
 */

const NOW = '2026-03-01T12:00:00.000Z';
const NODE_ADDS = new Set(['date', 'connection', 'keep-alive']);

let handle: DatabaseHandle;
let server: RunningServer;
let clock: ReturnType<typeof fixedClock>;
let incidentId: number;
let token: string;

beforeEach(async () => {
  handle = await freshDatabase();
  const seed = seeder(handle.db);
  const seeded = await seed.token(['admin'], 'seed', '2026-02-01T00:00:00Z');
  const actor = seeded.actor;
  token = seeded.token;
  const long = 'We are **investigating** elevated error rates on the API. '.repeat(30);
  const open = await seed.incident(actor, { title: 'API errors', message: long, statuses: { production: 'red' }, at: '2026-03-01T10:00:00Z' });
  await seed.update(actor, open.id, { message: `Identified. ${long}`, state: 'identified', at: '2026-03-01T10:30:00Z' });
  const closed = await seed.incident(actor, { title: 'Slow builds', message: long, statuses: { development: 'yellow' }, at: '2026-02-20T10:00:00Z' });
  await seed.update(actor, closed.id, { message: 'Resolved.', state: 'resolved', statuses: { development: 'green' }, at: '2026-02-20T11:00:00Z' });
  await seed.maintenance(actor, '2026-02-25T00:00:00Z', { title: 'Database upgrade', message: long, scheduled_for: '2026-03-05T02:00:00Z', scheduled_until: '2026-03-05T02:30:00Z' });
  incidentId = open.id;
  clock = fixedClock(NOW);
  server = await startServer(parseConfig({ PORT: String(await freePort()), PUBLIC_URL: 'http://127.0.0.1' }), { handle, clock, hostname: '127.0.0.1' });
});

afterEach(async () => {
  await server?.close().catch(() => {});
  await handle?.close().catch(() => {});
});

interface Raw {
  readonly status: number;
  readonly headers: string[];
  readonly body: Buffer;
}

function raw(path: string, method: string, headers: Record<string, string>): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${server.url}${path}`, { method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const kept: string[] = [];
        for (let i = 0; i < res.rawHeaders.length; i += 2) {
          if (!NODE_ADDS.has(res.rawHeaders[i]!.toLowerCase())) kept.push(`${res.rawHeaders[i]}: ${res.rawHeaders[i + 1]}`);
        }
        resolve({ status: res.statusCode!, headers: kept, body: Buffer.concat(chunks) });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

/** The app's answer (first, recorded) and the fast path's (second), and which path each took. */
async function bothPaths(path: string, method: string, headers: Record<string, string>) {
  const before = server.fastPath.served;
  const viaApp = await raw(path, method, headers);
  const afterApp = server.fastPath.served;
  const viaFast = await raw(path, method, headers);
  return { viaApp, viaFast, appPathTaken: afterApp === before, fastPathTaken: server.fastPath.served === afterApp + 1 };
}

const ROUTES = () => [
  '/',
  `/incidents/${incidentId}`,
  '/incidents/99999',
  '/history',
  '/history?page=2',
  '/feed.rss',
  '/feed.rss?environment=development',
  '/feed.atom',
  '/feed.atom?environment=development',
  '/maintenance.ics',
  '/api/v1/status',
  '/api/v1/platform',
  '/api/v1/platform?role=web',
  '/api/v3/current-status',
  '/api/v4/current-status',
  '/api/v2/summary.json',
  '/api/v2/status.json',
  '/api/v2/components.json',
  '/api/v2/incidents.json',
  '/api/v2/incidents/unresolved.json',
  '/api/v2/scheduled-maintenances.json',
  '/api/v2/scheduled-maintenances/upcoming.json',
  '/api/v2/scheduled-maintenances/active.json',
];
const CODINGS = ['', 'gzip', 'br', 'gzip, br', 'gzip;q=0, identity'];

describe('the Node fast path', () => {
  it('answers every cached route and coding, GET and HEAD, with the same status, headers and bytes as the app', async () => {
    let cases = 0;
    for (const path of ROUTES()) {
      for (const coding of CODINGS) {
        for (const method of ['GET', 'HEAD']) {
          server.fastPath.clear();
          const headers: Record<string, string> = coding ? { 'accept-encoding': coding } : {};
          const { viaApp, viaFast, appPathTaken, fastPathTaken } = await bothPaths(path, method, headers);
          const label = `${method} ${path} [${coding}]`;
          expect(appPathTaken, label).toBe(true);
          expect(fastPathTaken, label).toBe(true);
          expect(viaFast.status, label).toBe(viaApp.status);
          expect(viaFast.headers, label).toEqual(viaApp.headers);
          expect(viaFast.body.equals(viaApp.body), label).toBe(true);
          if (method === 'HEAD') expect(viaFast.body.length, label).toBe(0);
          cases++;
        }
      }
    }
    expect(cases).toBe(ROUTES().length * CODINGS.length * 2);
  });

  it('answers a GET from what a HEAD recorded with the bytes the app sends for that GET', async () => {
    for (const path of ['/', '/feed.rss', '/api/v1/status']) {
      for (const coding of ['', 'br']) {
        const headers: Record<string, string> = coding ? { 'accept-encoding': coding } : {};
        server.fastPath.clear();
        const viaApp = await raw(path, 'GET', headers);
        server.fastPath.clear();
        await raw(path, 'HEAD', headers);
        const served = server.fastPath.served;
        const viaFast = await raw(path, 'GET', headers);
        expect(server.fastPath.served, path).toBe(served + 1);
        expect(viaFast.headers, path).toEqual(viaApp.headers);
        expect(viaFast.body.equals(viaApp.body), path).toBe(true);
      }
    }
  });

  it('answers If-None-Match like the app: 304 for the ETag of the coding it would send, 200 otherwise', async () => {
    for (const path of ['/', '/api/v4/current-status', '/feed.rss', `/incidents/${incidentId}`]) {
      for (const coding of ['', 'br', 'gzip']) {
        const headers: Record<string, string> = coding ? { 'accept-encoding': coding } : {};
        const etag = (await raw(path, 'GET', headers)).headers.find((h) => h.toLowerCase().startsWith('etag: '))!.slice(6);
        for (const [inm, status] of [
          [etag, 304],
          [`"other", ${etag}`, 304],
          [`W/${etag}`, 304],
          ['"not-this-one"', 200],
        ] as const) {
          server.fastPath.clear();
          const { viaApp, viaFast, appPathTaken, fastPathTaken } = await bothPaths(path, 'GET', { ...headers, 'if-none-match': inm });
          const label = `${path} [${coding}] If-None-Match: ${inm}`;
          expect(viaApp.status, label).toBe(status);
          expect([appPathTaken, fastPathTaken], label).toEqual([true, true]);
          expect(viaFast.status, label).toBe(viaApp.status);
          expect(viaFast.headers, label).toEqual(viaApp.headers);
          expect(viaFast.body.equals(viaApp.body), label).toBe(true);
        }
      }
    }
  });

  it('stops answering once the snapshot moves on: after a write the app answers, with the write, then the fast path again', async () => {
    await raw('/api/v1/status', 'GET', {});
    const before = server.fastPath.served;
    await raw('/api/v1/status', 'GET', {});
    expect(server.fastPath.served).toBe(before + 1);
    const posted = await fetch(`${server.url}/api/v1/incidents/${incidentId}/updates`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ message: 'Monitoring a fix.', state: 'monitoring' }),
    });
    expect(posted.status).toBe(201);
    const { viaApp, viaFast, appPathTaken, fastPathTaken } = await bothPaths('/api/v1/status', 'GET', {});
    expect([appPathTaken, fastPathTaken]).toEqual([true, true]);
    expect(viaApp.body.toString()).toContain('Monitoring a fix.');
    expect(viaFast.body.equals(viaApp.body)).toBe(true);
  });

  it('serves a stale snapshot the same way on both paths, marked stale, while the database is gone', async () => {
    await raw('/', 'GET', { 'accept-encoding': 'br' });
    await handle.close();
    clock.advance(60_000); // old enough that the next request starts a rebuild, which fails
    let marker = '';
    for (let i = 0; i < 50 && !marker.startsWith('stale'); i++) {
      const r = await raw('/', 'GET', { 'accept-encoding': 'br' });
      marker = r.headers.find((h) => h.toLowerCase().startsWith('x-herald-snapshot: '))?.slice(19) ?? '';
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(marker).toMatch(/^stale; since=/);
    for (const path of ['/', '/api/v1/status', '/feed.rss']) {
      for (const coding of ['', 'br']) {
        server.fastPath.clear();
        const { viaApp, viaFast, appPathTaken, fastPathTaken } = await bothPaths(path, 'GET', coding ? { 'accept-encoding': coding } : {});
        const label = `${path} [${coding}]`;
        expect([appPathTaken, fastPathTaken], label).toEqual([true, true]);
        expect(viaFast.headers, label).toEqual(viaApp.headers);
        expect(viaFast.headers.join('\n'), label).toMatch(/x-herald-snapshot: stale; since=/i);
        expect(viaFast.body.equals(viaApp.body), label).toBe(true);
      }
    }
  });

  it('leaves writes, the console, errors and unknown paths to the app', async () => {
    for (const [method, path] of [
      ['GET', '/healthz'],
      ['GET', '/console'],
      ['GET', '/nowhere'],
      ['GET', '/history?page=0'],
      ['GET', '/feed.rss?environment=nope'],
      ['POST', '/api/v1/incidents'],
      ['OPTIONS', '/api/v1/status'],
    ] as const) {
      await raw(path, method, {});
      const served = server.fastPath.served;
      await raw(path, method, {});
      expect(server.fastPath.served, `${method} ${path}`).toBe(served);
    }
  });
});
