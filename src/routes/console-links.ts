import { Hono } from 'hono';
import { actorLabel, type Deps } from '../services/deps.ts';
import { absoluteUrl, createSigninLink, LINK_LIFETIME_MS } from '../services/sessions.ts';
import { authenticate } from '../services/tokens.ts';
import type { Env } from './http.ts';

/**
 * POST /api/v1/console/links: a one-time link that signs the caller in to the web console as
 * the token it called with (`herald console:link`). Any valid token may ask, for itself only;
 * no scope is needed, since the console then grants exactly what the token holds.
 */
export function consoleLinkRoutes(deps: Deps) {
  const { db, clock, config } = deps;
  const app = new Hono<Env>();

  app.post('/', async (c) => {
    const bearer = /^Bearer\s+(.+)$/i.exec(c.req.header('authorization') ?? '')?.[1]?.trim();
    const now = clock.now();
    const actor = await authenticate(db, now, bearer);
    const path = await db.transaction().execute((trx) => createSigninLink(trx, now, actor.tokenId, actorLabel(actor)));
    c.header('Cache-Control', 'no-store');
    return c.json({ url: absoluteUrl(config.publicUrl, path), expires_at: new Date(now.getTime() + LINK_LIFETIME_MS).toISOString() }, 201);
  });

  return app;
}
