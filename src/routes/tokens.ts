import { Hono } from 'hono';
import * as q from '../db/queries/tokens.ts';
import { createToken, publicToken, revokeToken } from '../services/tokens.ts';
import type { Deps } from '../services/deps.ts';
import { idParam, readJson, requireToken, type Env } from './http.ts';

/**
 * Token administration (admin scope). Token creation takes no Idempotency-Key: its response
 * holds the secret, which Herald never stores (nor the one-time console sign-in link beside it).
 */
export function tokenRoutes(deps: Deps) {
  const { db } = deps;
  const app = new Hono<Env>();
  app.use('*', requireToken(deps, 'admin'));

  app.get('/', async (c) => c.json((await q.listTokens(db)).map(publicToken)));

  app.post('/', async (c) => {
    const made = await createToken(deps, { actor: c.get('actor') }, await readJson(c));
    c.header('Cache-Control', 'no-store');
    return c.json(made, 201);
  });

  app.delete('/:id', async (c) => c.json(await revokeToken(deps, { actor: c.get('actor') }, idParam(c, 'id', 'Token'))));

  return app;
}
