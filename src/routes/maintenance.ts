import { Hono } from 'hono';
import { notFound } from '../errors.ts';
import * as q from '../db/queries/incidents.ts';
import * as mq from '../db/queries/maintenance.ts';
import { DAYS, describeWindow, nextWindowStart, type Window } from '../domain/windows.ts';
import type { Deps } from '../services/deps.ts';
import * as maintenance from '../services/maintenance.ts';
import { writeSchemas } from '../services/schemas.ts';
import { runWrite } from '../services/transaction.ts';
import { listQuery, pageOf, parseListQuery } from './cursor-page.ts';
import { idParam, idempotencyOf, readBody, requireToken, type Env } from './http.ts';
import { respond } from './incidents.ts';

function windowView(w: Window, now: Date) {
  const hh = String(Math.floor(w.minute / 60)).padStart(2, '0');
  const mm = String(w.minute % 60).padStart(2, '0');
  return { day: DAYS[w.day], time: `${hh}:${mm}`, duration_hours: w.durationMinutes / 60, description: describeWindow(w), next: nextWindowStart(w, now).toISOString() };
}

/** The same list query as /api/v1/incidents, without `kind`. */
const maintenanceListQuery = listQuery({});

/** Planned maintenance and the weekly window (DESIGN "Maintenance windows"). */
export function maintenanceRoutes(deps: Deps) {
  const { db, config, clock } = deps;
  const app = new Hono<Env>();
  const write = requireToken(deps, 'maintenance:write');

  app.get('/maintenance-window', async (c) => {
    const now = clock.now();
    const row = await mq.findWindow(db);
    if (row) return c.json(windowView({ day: row.day, minute: row.minute, durationMinutes: row.duration_minutes }, now));
    // choosing the random window is a write, so it goes through one like any other
    const { body } = await runWrite(deps, now, undefined, async (trx) => ({ status: 200, body: windowView(await maintenance.currentWindow(trx, now), now) }));
    return c.json(body as object);
  });

  app.put('/maintenance-window', write, async (c) => {
    const now = clock.now();
    const input = await readBody(c, writeSchemas(config, now).window);
    const result = await runWrite(deps, now, await idempotencyOf(c), async (trx) => ({
      status: 200,
      body: windowView(await maintenance.setWindow(trx, c.get('actor'), now, input), now),
    }));
    return respond(c, result);
  });

  app.get('/maintenances', async (c) => {
    const { limit, cursor, state } = parseListQuery(maintenanceListQuery, c.req.query());
    const now = clock.now();
    const rows = await mq.listMaintenance(db, { limit: limit + 1, ...(cursor ? { before: cursor } : {}), ...(state !== 'all' ? { state } : {}) });
    const page = pageOf(c, `${config.publicUrl}/api/v1/maintenances`, rows, limit, (r) => ({ at: r.scheduled_for, id: r.id }), {
      state: state === 'all' ? undefined : state,
    });
    return c.json({ maintenances: await Promise.all(page.items.map((r) => maintenance.maintenanceInfo(db, now, r))), next_cursor: page.next_cursor, next: page.next });
  });

  app.get('/maintenances/:id', async (c) => {
    const id = idParam(c, 'id', 'Maintenance');
    const row = await q.findIncident(db, id);
    if (!row || row.kind !== 'maintenance') throw notFound(`Maintenance ${id}`);
    return c.json(await maintenance.maintenanceInfo(db, clock.now(), row));
  });

  app.post('/maintenances', write, async (c) => {
    const now = clock.now();
    const input = await readBody(c, writeSchemas(config, now).createMaintenance);
    const result = await runWrite(deps, now, await idempotencyOf(c), async (trx) => {
      const row = await maintenance.scheduleMaintenance(trx, c.get('actor'), now, input);
      return { status: 201, body: await maintenance.maintenanceInfo(trx, now, row) };
    });
    return respond(c, result);
  });

  app.patch('/maintenances/:id', write, async (c) => {
    const id = idParam(c, 'id', 'Maintenance');
    const now = clock.now();
    const input = await readBody(c, writeSchemas(config, now).reschedule);
    const result = await runWrite(deps, now, await idempotencyOf(c), async (trx) => {
      const row = await maintenance.reschedule(trx, c.get('actor'), now, id, input);
      return { status: 200, body: await maintenance.maintenanceInfo(trx, now, row) };
    });
    return respond(c, result);
  });

  app.post('/maintenances/:id/run', write, async (c) => {
    const id = idParam(c, 'id', 'Maintenance');
    const now = clock.now();
    const input = await readBody(c, writeSchemas(config, now).runMaintenance);
    const result = await runWrite(deps, now, await idempotencyOf(c), async (trx) => {
      const { incident } = await maintenance.runNow(trx, config, c.get('actor'), now, id, input.confirm, input.message);
      return { status: 200, body: await maintenance.maintenanceInfo(trx, now, incident) };
    }, `maintenance ${id} run by ${c.get('actor').name}`);
    return respond(c, result);
  });

  app.post('/maintenances/:id/cancel', write, async (c) => {
    const id = idParam(c, 'id', 'Maintenance');
    const now = clock.now();
    const input = await readBody(c, writeSchemas(config, now).cancelMaintenance);
    const result = await runWrite(deps, now, await idempotencyOf(c), async (trx) => {
      const { incident } = await maintenance.cancel(trx, c.get('actor'), now, id, input.message);
      return { status: 200, body: await maintenance.maintenanceInfo(trx, now, incident) };
    }, `maintenance ${id} cancelled by ${c.get('actor').name}`);
    return respond(c, result);
  });

  return app;
}
