import { Hono } from 'hono';
import { AppError } from '../errors.ts';
import * as q from '../db/queries/incidents.ts';
import * as mq from '../db/queries/maintenance.ts';
import { DAYS, describeWindow, nextWindowStart, type Window } from '../domain/windows.ts';
import type { Deps } from '../services/deps.ts';
import * as maintenance from '../services/maintenance.ts';
import { listQuery, pageOf, parseListQuery } from './cursor-page.ts';
import { commandOf, idParam, readJson, requireToken, respond, type Env } from './http.ts';

/** GET|PUT /api/v1/maintenance-window: the weekly window, in words and as its next start. */
export type WindowView = ReturnType<typeof windowView>;

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

  app.get('/maintenance-window', async (c) => c.json(windowView(await maintenance.currentWindow(deps), clock.now())));

  app.put('/maintenance-window', write, async (c) => {
    const set = await maintenance.setWindow(deps, await commandOf(c), await readJson(c));
    return respond(c, 200, { ...set, value: windowView(set.value, clock.now()) });
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
    if (!row || row.kind !== 'maintenance') throw new AppError('maintenance.not_found', `Maintenance ${id} was not found.`);
    return c.json(await maintenance.maintenanceInfo(db, clock.now(), row));
  });

  app.post('/maintenances', write, async (c) => respond(c, 201, await maintenance.scheduleMaintenance(deps, await commandOf(c), await readJson(c))));

  app.patch('/maintenances/:id', write, async (c) => {
    const id = idParam(c, 'id', 'Maintenance');
    return respond(c, 200, await maintenance.reschedule(deps, await commandOf(c), id, await readJson(c)));
  });

  app.post('/maintenances/:id/run', write, async (c) => {
    const id = idParam(c, 'id', 'Maintenance');
    return respond(c, 200, await maintenance.runNow(deps, await commandOf(c), id, await readJson(c)));
  });

  app.post('/maintenances/:id/cancel', write, async (c) => {
    const id = idParam(c, 'id', 'Maintenance');
    return respond(c, 200, await maintenance.cancel(deps, await commandOf(c), id, await readJson(c)));
  });

  return app;
}
