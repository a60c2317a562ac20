import { Hono } from 'hono';
import * as z from 'zod';
import { AppError } from '../errors.ts';
import * as q from '../db/queries/incidents.ts';
import * as incidents from '../services/incidents.ts';
import { incidentById, incidentViews } from '../services/read-model.ts';
import type { Deps } from '../services/deps.ts';
import { commandOf, idParam, readJson, requireToken, respond, type Env } from './http.ts';
import { sendCached, type Compressor, type PublicSnapshot } from './cached.ts';
import { listQuery, pageOf, parseListQuery } from './cursor-page.ts';

/** Incidents and maintenance alike; `kind` narrows to one. */
const incidentListQuery = listQuery({
  kind: z.enum(['incident', 'maintenance'], { message: 'must be incident or maintenance' }).optional(),
});

/** Herald's own JSON: public reads, and the commander's writes under /api/v1/incidents. */
export function incidentRoutes(deps: Deps, snapshot: PublicSnapshot, compress?: Compressor) {
  const { db, config, clock } = deps;
  const app = new Hono<Env>();
  const write = requireToken(deps, 'incidents:write');

  app.get('/status', (c) =>
    sendCached(c, snapshot, 'api:v1:status', ({ data }) => ({
      type: 'application/json; charset=utf-8',
      body: JSON.stringify({ ...data.status, platform: data.platform }),
    }), compress),
  );

  app.get('/incidents', async (c) => {
    const { limit, cursor, state, kind } = parseListQuery(incidentListQuery, c.req.query());
    const rows = await q.listIncidents(db, {
      limit: limit + 1,
      ...(cursor ? { before: cursor } : {}),
      ...(state !== 'all' ? { state } : {}),
      ...(kind ? { kind } : {}),
    });
    const page = pageOf(c, `${config.publicUrl}/api/v1/incidents`, rows, limit, (r) => ({ at: r.started_at, id: r.id }), {
      state: state === 'all' ? undefined : state,
      kind,
    });
    return c.json({ incidents: await incidentViews(db, config, page.items, clock.now()), next_cursor: page.next_cursor, next: page.next });
  });

  app.get('/incidents/:id', async (c) => {
    const id = idParam(c, 'id', 'Incident');
    const view = await incidentById(db, config, id, clock.now());
    if (!view) throw new AppError('incident.not_found', `Incident ${id} was not found.`);
    return c.json(view);
  });

  app.post('/incidents', write, async (c) => respond(c, 201, await incidents.openIncident(deps, await commandOf(c), await readJson(c))));

  app.post('/incidents/:id/updates', write, async (c) => {
    const id = idParam(c, 'id', 'Incident');
    return respond(c, 201, await incidents.postUpdate(deps, await commandOf(c), id, await readJson(c)));
  });

  app.patch('/incidents/:id', write, async (c) => {
    const id = idParam(c, 'id', 'Incident');
    return respond(c, 200, await incidents.editIncident(deps, await commandOf(c), id, await readJson(c)));
  });

  app.put('/incidents/:id/postmortem', write, async (c) => {
    const id = idParam(c, 'id', 'Incident');
    return respond(c, 200, await incidents.savePostmortem(deps, await commandOf(c), id, await readJson(c)));
  });

  app.post('/incidents/:id/postmortem/publish', write, async (c) => {
    const id = idParam(c, 'id', 'Incident');
    return respond(c, 200, await incidents.publishPostmortem(deps, await commandOf(c), id, await readJson(c)));
  });

  app.post('/incidents/:id/updates/:updateId/hide', write, async (c) => {
    const id = idParam(c, 'id', 'Incident');
    const updateId = idParam(c, 'updateId', 'Update');
    return respond(c, 200, await incidents.hideUpdate(deps, await commandOf(c), id, updateId, await readJson(c)));
  });

  return app;
}
