import { Hono } from 'hono';
import { z } from 'zod';
import { AppError, notFound } from '../errors.ts';
import * as q from '../db/queries/incidents.ts';
import * as incidents from '../services/incidents.ts';
import { incidentById, incidentViews } from '../services/read-model.ts';
import { problemsOf, writeSchemas } from '../services/schemas.ts';
import { runWrite } from '../services/transaction.ts';
import type { Deps } from '../services/deps.ts';
import { idParam, idempotencyOf, readBody, requireToken, type Env } from './http.ts';
import { sendCached, type Compressor, type PublicSnapshot } from './cached.ts';

const listQuery = z.strictObject({
  limit: z.coerce.number({ message: 'must be a number' }).int('must be an integer').min(1, 'must be at least 1').max(100, 'must be at most 100').default(20),
  cursor: z.string().optional(),
  state: z.enum(['open', 'closed'], { message: 'must be open or closed' }).optional(),
  kind: z.enum(['incident', 'maintenance'], { message: 'must be incident or maintenance' }).optional(),
});

/** Cursors are opaque to clients: base64url of the last item's (started_at, id). */
function encodeCursor(startedAt: string, id: number): string {
  return btoa(JSON.stringify([startedAt, id])).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function decodeCursor(cursor: string): { startedAt: Date; id: number } {
  try {
    const [at, id] = JSON.parse(atob(cursor.replace(/-/g, '+').replace(/_/g, '/'))) as [string, number];
    const startedAt = new Date(at);
    if (Number.isNaN(startedAt.getTime()) || !Number.isInteger(id)) throw new Error('bad cursor');
    return { startedAt, id };
  } catch {
    throw new AppError('invalid_params', 'The query is not valid.', [{ path: 'cursor', message: 'is not a cursor this server gave out' }]);
  }
}

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
    const parsed = listQuery.safeParse(c.req.query());
    if (!parsed.success) throw new AppError('invalid_params', 'The query is not valid.', problemsOf(parsed.error));
    const { limit, cursor, state, kind } = parsed.data;
    const rows = await q.listIncidents(db, {
      limit: limit + 1,
      ...(cursor ? { before: decodeCursor(cursor) } : {}),
      ...(state ? { state } : {}),
      ...(kind ? { kind } : {}),
    });
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    const nextCursor = rows.length > limit && last ? encodeCursor(last.started_at.toISOString(), last.id) : null;
    let next: string | null = null;
    if (nextCursor) {
      const u = new URL(`${config.publicUrl}/api/v1/incidents`);
      for (const [k, v] of Object.entries({ limit: String(limit), state, kind, cursor: nextCursor })) if (v) u.searchParams.set(k, v);
      next = u.toString();
      c.header('Link', `<${next}>; rel="next"`);
    }
    return c.json({ incidents: await incidentViews(db, config, page, clock.now()), next_cursor: nextCursor, next });
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
