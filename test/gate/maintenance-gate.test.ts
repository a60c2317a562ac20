import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.ts';
import type { DatabaseHandle } from '../../src/db/connect.ts';
import { startServer, type RunningServer } from '../../src/entry/node.ts';
import { platformGate } from '../../src/gate/middleware.ts';
import { ModeClient } from '../../src/gate/mode-client.ts';
import { seedToken } from '../support/seed.ts';
import { freshDatabase } from '../support/db.ts';

/**
 * End to end on a real server and the real clock: a maintenance holding web in maintenance is
 * started and completed by the server's own scheduler (a pass at start-up, then every 10 s), and
 * an app behind platformGate, following Herald through a ModeClient, refuses requests while it runs.
 *
 * Timing: the maintenance starts 3 s after it is scheduled and lasts 11 s. Passes come every
 * 10 s, so at least one falls in [scheduled_for, scheduled_until) (11 s > 10 s): the start is
 * always seen by itself before the completion. Worst case: 3 s + 11 s + 10 s to the completing
 * pass ≈ 24 s.
 */

const SEC = 1000;

describe('a gate following a scheduled maintenance', () => {
  let handle: DatabaseHandle;
  let server: RunningServer;
  let token: string;
  beforeAll(async () => {
    handle = await freshDatabase();
    server = await startServer({ ...parseConfig({}), port: 0 }, { handle, hostname: '127.0.0.1' });
    token = (await seedToken(handle.db, ['admin'], 'ops'));
  });
  afterAll(async () => {
    await server.close();
    await handle.close();
  });

  it('when the scheduler starts it, the gate refuses with 503 and Retry-After = scheduled_until; once it completes, requests pass and web is full', async () => {
    const client = new ModeClient({ heraldUrl: server.url });
    const refusals: string[] = [];
    const app = new Hono();
    app.use('*', platformGate({ role: 'web', modes: client, statusPageUrl: server.url, log: (l) => refusals.push(l) }));
    app.get('/hello', (c) => c.json({ hello: 'world' }));
    const hello = () => app.request('/hello', { headers: { accept: 'application/json' } });
    try {
      await client.ready();
      expect(client.stale).toBe(false);

      const start = Date.now() + 3 * SEC;
      const scheduledFor = new Date(start).toISOString();
      const scheduledUntil = new Date(start + 11 * SEC).toISOString();
      const created = await fetch(`${server.url}/api/v1/maintenances`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ title: 'Database failover', message: 'Failing over the primary.', environments: ['production'], modes: { web: 'maintenance' }, scheduled_for: scheduledFor, scheduled_until: scheduledUntil }),
      });
      expect(created.status).toBe(201);
      const m = (await created.json()) as { id: number; status: string };
      expect(m.status).toBe('scheduled');

      // before the start: requests pass, marked full
      const before = await hello();
      expect(before.status).toBe(200);
      expect(await before.json()).toEqual({ hello: 'world' });
      expect(before.headers.get('platform-mode')).toBe('full');

      // started by the server's scheduler: refused until scheduled_until
      await expect.poll(async () => (await hello()).status, { timeout: 15 * SEC, interval: 100 }).toBe(503);
      expect(Date.now()).toBeGreaterThanOrEqual(start);
      const refused = await hello();
      expect(refused.status).toBe(503);
      expect(refused.headers.get('platform-mode')).toBe('maintenance');
      // scheduled_until as an HTTP date (whole seconds)
      expect(refused.headers.get('retry-after')).toBe(new Date(scheduledUntil).toUTCString());
      expect(await refused.json()).toEqual({ id: 'maintenance', message: `The API is temporarily unavailable. For more information, visit ${server.url}` });
      expect(refusals.some((l) => l.includes('code=H80') && l.includes('role=web'))).toBe(true);
      const running = (await (await fetch(`${server.url}/api/v1/platform?role=web`)).json()) as any;
      expect(running.roles[0]).toMatchObject({ mode: 'maintenance', retry_after: scheduledUntil });

      // completed by the scheduler: requests pass again
      await expect.poll(async () => (await hello()).status, { timeout: 15 * SEC, interval: 100 }).toBe(200);
      expect(Date.now()).toBeGreaterThanOrEqual(Date.parse(scheduledUntil));
      const after = await hello();
      expect(after.headers.get('platform-mode')).toBe('full');
      const platform = (await (await fetch(`${server.url}/api/v1/platform`)).json()) as any;
      expect(platform.roles.map((r: any) => [r.role, r.mode])).toEqual([
        ['web', 'full'],
        ['worker', 'full'],
      ]);

      // the scheduler recorded both at their scheduled times
      const view = (await (await fetch(`${server.url}/api/v1/incidents/${m.id}`)).json()) as any;
      expect(view.updates.map((u: any) => [u.state, u.at, u.author]).reverse()).toEqual([
        ['scheduled', expect.any(String), 'ops'],
        ['in_progress', scheduledFor, 'Herald scheduler'],
        ['completed', scheduledUntil, 'Herald scheduler'],
      ]);
      // blue for exactly the 11 s planned
      expect(view.scope_of_impact.environments[0]).toMatchObject({ environment: 'production', blue_seconds: 11 });
    } finally {
      client.close();
    }
  }, 40_000);
});
