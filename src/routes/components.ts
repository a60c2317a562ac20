import { Hono, type MiddlewareHandler } from 'hono';
import * as z from 'zod';
import * as components from '../services/components.ts';
import type { Deps } from '../services/deps.ts';
import { authenticate } from '../services/tokens.ts';
import type { PublicSnapshot } from './cached.ts';
import { parseListQuery } from './cursor-page.ts';
import { commandOf, readJson, requireToken, respond, type Env } from './http.ts';

const listQuery = z.strictObject({ include: z.enum(['retired'], { message: 'must be retired (or left out)' }).optional() });

/**
 * Components and their groups, managed as data: /api/v1/components and /api/v1/component-groups.
 * Reads need a valid token (any scope): they list retired components too, which the public
 * status APIs do not. Writes need `components:write` (or admin) and honour Idempotency-Key.
 *
 * Reads come from the public snapshot, so a colour here is the colour the status page shows (a
 * write is in it before its answer leaves: the unit of work tells the snapshot first).
 */
export function componentRoutes(deps: Deps, snapshot: PublicSnapshot) {
  const app = new Hono<Env>();
  const write = requireToken(deps, 'components:write');
  const read: MiddlewareHandler<Env> = async function anyToken(c, next) {
    const bearer = /^Bearer\s+(.+)$/i.exec(c.req.header('authorization') ?? '')?.[1]?.trim();
    c.set('actor', await authenticate(deps.db, deps.clock.now(), bearer));
    await next();
  };

  const withRetired = (query: Record<string, string>) => parseListQuery(listQuery, query).include === 'retired';
  const current = async () => {
    const { data } = await snapshot.current();
    return { catalog: data.catalog, active: data.status.incidents };
  };

  app.get('/components', read, async (c) => {
    const all = withRetired(c.req.query());
    const { catalog, active } = await current();
    return c.json({ components: components.componentList(catalog, active, all) });
  });

  app.get('/components/:slug', read, async (c) => {
    const { catalog, active } = await current();
    return c.json(components.componentView(components.findComponent(catalog, c.req.param('slug')), active));
  });

  app.post('/components', write, async (c) => respond(c, 201, await components.createComponent(deps, await commandOf(c), await readJson(c))));
  app.patch('/components/:slug', write, async (c) => respond(c, 200, await components.updateComponent(deps, await commandOf(c), c.req.param('slug'), await readJson(c))));
  app.post('/components/:slug/retire', write, async (c) => respond(c, 200, await components.retireComponent(deps, await commandOf(c), c.req.param('slug'), await readJson(c))));
  app.post('/components/:slug/restore', write, async (c) => respond(c, 200, await components.restoreComponent(deps, await commandOf(c), c.req.param('slug'), await readJson(c))));

  app.get('/component-groups', read, async (c) => {
    const all = withRetired(c.req.query());
    const { catalog, active } = await current();
    return c.json({ groups: components.groupList(catalog, active, all) });
  });

  app.get('/component-groups/:slug', read, async (c) => {
    const { catalog, active } = await current();
    return c.json(components.groupView(catalog, components.findGroup(catalog, c.req.param('slug')), active));
  });

  app.post('/component-groups', write, async (c) => respond(c, 201, await components.createGroup(deps, await commandOf(c), await readJson(c))));
  app.patch('/component-groups/:slug', write, async (c) => respond(c, 200, await components.updateGroup(deps, await commandOf(c), c.req.param('slug'), await readJson(c))));
  app.post('/component-groups/:slug/retire', write, async (c) => respond(c, 200, await components.retireGroup(deps, await commandOf(c), c.req.param('slug'), await readJson(c))));
  app.post('/component-groups/:slug/restore', write, async (c) => respond(c, 200, await components.restoreGroup(deps, await commandOf(c), c.req.param('slug'), await readJson(c))));

  return app;
}
