import { Hono } from 'hono';
import { ping } from '../db/queries/system.ts';
import type { Deps } from '../services/deps.ts';

/** Whether this instance can serve: the database answers and every migration is applied. */
export type Readiness = () => Promise<{ readonly ready: boolean; readonly reason?: string }>;

export function healthRoutes(deps: Deps & { readiness: Readiness }) {
  const app = new Hono();
  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.get('/readyz', async (c) => {
    c.header('Cache-Control', 'no-store');
    // A database that hangs must not hang the probe: after 2 s the answer is "not ready".
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<{ ready: boolean; reason: string }>((resolve) => {
      timer = setTimeout(() => resolve({ ready: false, reason: 'database did not answer within 2 s' }), 2000);
    });
    const r = await Promise.race([deps.readiness().catch(() => ({ ready: false, reason: 'database unreachable' })), timeout]);
    clearTimeout(timer);
    return c.json(r.ready ? { status: 'ready' } : { status: 'not_ready', reason: r.reason ?? 'unknown' }, r.ready ? 200 : 503);
  });
  return app;
}

/** Readiness for a database migrated from files: reachable, and nothing pending. */
export function databaseReadiness(deps: Deps, pending: () => Promise<readonly string[]>): Readiness {
  return async () => {
    try {
      await ping(deps.db);
    } catch {
      return { ready: false, reason: 'database unreachable' };
    }
    const missing = await pending().catch(() => ['(migrations table missing)']);
    return missing.length ? { ready: false, reason: `migrations pending: ${missing.join(', ')}` } : { ready: true };
  };
}
