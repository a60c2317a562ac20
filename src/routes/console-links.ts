import { Hono } from 'hono';
import type { Deps } from '../services/deps.ts';
import { createSigninLink } from '../services/sessions.ts';
import { authenticate } from '../services/tokens.ts';
import type { Env } from './http.ts';

/**
 * POST /api/v1/console/links: a one-time link that signs the caller in to the web console as
 * the token it called with (`herald console:link`). Any valid token may ask, for itself only;
 * no scope is needed, since the console then grants exactly what the token holds.
 */
export function consoleLinkRoutes(deps: Deps) {
  const app = new Hono<Env>();

  app.post('/', async (c) => {
    const bearer = /^Bearer\s+(.+)$/i.exec(c.req.header('authorization') ?? '')?.[1]?.trim();
    const actor = await authenticate(deps.db, deps.clock.now(), bearer);
    c.header('Cache-Control', 'no-store');
    return c.json(await createSigninLink(deps, actor), 201);
  });

  return app;
}
