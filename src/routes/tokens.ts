import { Hono } from 'hono';
import * as q from '../db/queries/tokens.ts';
import { writeSchemas } from '../services/schemas.ts';
import { absoluteUrl, createSigninLink } from '../services/sessions.ts';
import { createToken, publicToken, revokeToken } from '../services/tokens.ts';
import { actorLabel, type Deps } from '../services/deps.ts';
import { runWrite } from '../services/transaction.ts';
import { idParam, readBody, requireToken, type Env } from './http.ts';

/**
 * Token administration (admin scope). Token creation takes no Idempotency-Key: its response
 * holds the secret, which Herald never stores (nor the one-time console sign-in link beside it).
 */
export function tokenRoutes(deps: Deps) {
  const { db, config, clock } = deps;
  const app = new Hono<Env>();
  app.use('*', requireToken(deps, 'admin'));

  app.get('/', async (c) => c.json((await q.listTokens(db)).map(publicToken)));

  app.post('/', async (c) => {
    const now = clock.now();
    const input = await readBody(c, writeSchemas(config, now).createToken);
    const { body } = await runWrite(deps, now, undefined, async (trx) => {
      const { token, row } = await createToken(trx, now, input, actorLabel(c.get('actor')));
      // A one-time link to the console for whoever will hold the token (made in the same write).
      const link = await createSigninLink(trx, now, row.id, actorLabel(c.get('actor')));
      return { status: 201, body: { ...publicToken(row), token, signin_url: absoluteUrl(config.publicUrl, link) } };
    });
    c.header('Cache-Control', 'no-store');
    return c.json(body as object, 201);
  });

  app.delete('/:id', async (c) => {
    const id = idParam(c, 'id', 'Token');
    const now = clock.now();
    const { body } = await runWrite(deps, now, undefined, async (trx) => ({
      status: 200,
      body: publicToken(await revokeToken(trx, now, id, actorLabel(c.get('actor')))),
    }));
    return c.json(body as object);
  });

  return app;
}
