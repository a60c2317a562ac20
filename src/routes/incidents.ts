import { Hono } from 'hono';
import { z } from 'zod';
import { notFound } from '../errors.ts';
import * as q from '../db/queries/incidents.ts';
import * as incidents from '../services/incidents.ts';
import { incidentById, incidentViews } from '../services/read-model.ts';
import { writeSchemas } from '../services/schemas.ts';
import { runWrite } from '../services/transaction.ts';
import type { Deps } from '../services/deps.ts';
import { idParam, idempotencyOf, readBody, requireToken, type Env } from './http.ts';
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
    if (!view) throw notFound(`Incident ${id}`);
    return c.json(view);
  });

  app.post('/incidents', write, async (c) => {
    const now = clock.now();
    const input = await readBody(c, writeSchemas(config, now).createIncident);
    const result = await runWrite(deps, now, await idempotencyOf(c), async (trx) => {
      const { incident } = await incidents.createIncident(trx, c.get('actor'), now, input);
      const [view] = await incidentViews(trx, config, [incident], now);
      return { status: 201, body: view };
    });
    return respond(c, result);
  });

  app.post('/incidents/:id/updates', write, async (c) => {
    const id = idParam(c, 'id', 'Incident');
    const now = clock.now();
    const input = await readBody(c, writeSchemas(config, now).postUpdate);
    const result = await runWrite(deps, now, await idempotencyOf(c), async (trx) => {
      const { incident, update } = await incidents.postUpdate(trx, c.get('actor'), now, id, input);
      const [view] = await incidentViews(trx, config, [incident], now);
      return { status: 201, body: { update: view!.updates.find((u) => u.id === update.id), incident: view } };
    });
    return respond(c, result);
  });

  app.patch('/incidents/:id', write, async (c) => {
    const id = idParam(c, 'id', 'Incident');
    const now = clock.now();
    const { title } = await readBody(c, writeSchemas(config, now).editIncident);
    const result = await runWrite(deps, now, await idempotencyOf(c), async (trx) => {
      const incident = await incidents.editTitle(trx, c.get('actor'), now, id, title);
      const [view] = await incidentViews(trx, config, [incident], now);
      return { status: 200, body: view };
    });
    return respond(c, result);
  });

  app.put('/incidents/:id/postmortem', write, async (c) => {
    const id = idParam(c, 'id', 'Incident');
    const now = clock.now();
    const { markdown } = await readBody(c, writeSchemas(config, now).postmortem);
    const result = await runWrite(deps, now, await idempotencyOf(c), async (trx) => {
      const row = await incidents.writePostmortem(trx, c.get('actor'), now, id, markdown);
      return { status: 200, body: postmortemBody(row) };
    });
    return respond(c, result);
  });

  app.post('/incidents/:id/postmortem/publish', write, async (c) => {
    const id = idParam(c, 'id', 'Incident');
    const now = clock.now();
    await readBody(c, z.strictObject({}));
    const result = await runWrite(deps, now, await idempotencyOf(c), async (trx) => {
      const row = await incidents.publishPostmortem(trx, c.get('actor'), now, id);
      return { status: 200, body: postmortemBody(row) };
    });
    return respond(c, result);
  });

  app.post('/incidents/:id/updates/:updateId/hide', write, async (c) => {
    const id = idParam(c, 'id', 'Incident');
    const updateId = idParam(c, 'updateId', 'Update');
    const now = clock.now();
    const { reason } = await readBody(c, writeSchemas(config, now).hideUpdate);
    const result = await runWrite(deps, now, await idempotencyOf(c), async (trx) => {
      const { incident } = await incidents.hideUpdate(trx, c.get('actor'), now, id, updateId, reason);
      const [view] = await incidentViews(trx, config, [incident], now);
      return { status: 200, body: view };
    });
    return respond(c, result);
  });

  return app;
}

function postmortemBody(row: { id: number; postmortem: string | null; postmortem_updated_at: Date | null; postmortem_published_at: Date | null }) {
  return {
    incident_id: row.id,
    markdown: row.postmortem,
    updated_at: row.postmortem_updated_at?.toISOString() ?? null,
    published_at: row.postmortem_published_at?.toISOString() ?? null,
  };
}

export function respond(c: import('hono').Context, result: { status: number; body: unknown; replayed: boolean }) {
  if (result.replayed) c.header('Idempotent-Replayed', 'true');
  return c.json(result.body as object, result.status as 201);
}
