import { Hono } from 'hono';
import type { SnapshotState } from '../cache/snapshot.ts';
import * as q from '../db/queries/incidents.ts';
import * as mq from '../db/queries/maintenance.ts';
import { componentObjects, eventMapper, impactOf, pageObject, pageStatus, type PageContext } from '../domain/statuspage.ts';
import type { Status } from '../domain/vocabulary.ts';
import type { Deps } from '../services/deps.ts';
import type { PublicData } from '../services/public-data.ts';
import { incidentViews, type IncidentView } from '../services/read-model.ts';
import { sendCached, type Compressor, type PublicSnapshot } from './cached.ts';
import { byCodePoint } from '../domain/order.ts';

const JSON_TYPE = 'application/json; charset=utf-8';
const bySchedule = (a: IncidentView, b: IncidentView) => byCodePoint(a.scheduled_for ?? a.started_at, b.scheduled_for ?? b.started_at) || a.id - b.id;
/** Statuspage's lists of incidents and of maintenances hold the 50 newest. */
export const STATUSPAGE_LIST_LIMIT = 50;

type State = SnapshotState<PublicData>;

/**
 * Atlassian Statuspage's public API v2 (`/api/v2/summary.json`, …), field for field, so the tools
 * already pointed at a Statuspage page read Herald by changing only the host. Every answer comes
 * from the snapshot through sendCached; what the snapshot lacks (the 50 newest incidents and
 * maintenances) is read once per snapshot version.
 */
export function statuspageRoutes(deps: Deps, snapshot: PublicSnapshot, compress?: Compressor) {
  const { db, config, clock } = deps;
  const app = new Hono();

  function context(data: PublicData): PageContext {
    const times = [data.lastChange, ...data.catalog.components.map((c) => c.updated_at.toISOString()), ...data.catalog.groups.map((g) => g.updated_at.toISOString())];
    const newest = times.reduce<string | null>((max, t) => (t !== null && (max === null || t > max) ? t : max), null);
    return {
      pageId: data.pageId,
      name: config.name,
      url: config.publicUrl,
      catalog: data.catalog,
      colours: new Map<string, Status>(data.status.environments.map((e) => [e.slug, e.status])),
      updatedAt: newest ?? data.status.updated_at,
    };
  }

  /**
   * The 50 newest of a kind, once per snapshot version: incidents
   * by start, maintenances by the time they are (or were) planned for.
   */
  function newest(kind: 'incident' | 'maintenance', state: State) {
    return snapshot.remember(`v2:newest:${kind}`, state, async () => {
      const rows = kind === 'incident' ? await q.listIncidents(db, { limit: STATUSPAGE_LIST_LIMIT, kind }) : await mq.listMaintenance(db, { limit: STATUSPAGE_LIST_LIMIT });
      return incidentViews(db, config, rows, clock.now());
    });
  }

  /** What the snapshot says is open now, split the way Statuspage lists it; maintenances soonest first. */
  function open(data: PublicData) {
    const { incidents, scheduled } = data.status;
    return {
      unresolved: incidents.filter((v) => v.kind === 'incident'),
      active: incidents.filter((v) => v.kind === 'maintenance').sort(bySchedule),
      upcoming: [...scheduled].sort(bySchedule),
    };
  }

  const json = (body: unknown) => ({ type: JSON_TYPE, body: JSON.stringify(body) });

  app.get('/summary.json', (c) =>
    sendCached(c, snapshot, 'api:v2:summary', async (state) => {
      const ctx = context(state.data);
      const map = eventMapper(ctx);
      const { unresolved, active, upcoming } = open(state.data);
      return json({
        page: pageObject(ctx),
        components: componentObjects(ctx),
        incidents: unresolved.map((v) => map.incident(v)),
        scheduled_maintenances: [...active, ...upcoming].sort(bySchedule).map(map.maintenance),
        status: pageStatus(ctx, unresolved.map((v) => impactOf(v))),
      });
    }, compress),
  );

  app.get('/status.json', (c) =>
    sendCached(c, snapshot, 'api:v2:status', async (state) => {
      const ctx = context(state.data);
      const { unresolved } = open(state.data);
      return json({ page: pageObject(ctx), status: pageStatus(ctx, unresolved.map((v) => impactOf(v))) });
    }, compress),
  );

  app.get('/components.json', (c) =>
    sendCached(c, snapshot, 'api:v2:components', (state) => {
      const ctx = context(state.data);
      return json({ page: pageObject(ctx), components: componentObjects(ctx) });
    }, compress),
  );

  app.get('/incidents.json', (c) =>
    sendCached(c, snapshot, 'api:v2:incidents', async (state) => {
      const ctx = context(state.data);
      const map = eventMapper(ctx);
      const views = await newest('incident', state);
      return json({ page: pageObject(ctx), incidents: views.map((v) => map.incident(v)) });
    }, compress),
  );

  app.get('/incidents/unresolved.json', (c) =>
    sendCached(c, snapshot, 'api:v2:incidents:unresolved', async (state) => {
      const ctx = context(state.data);
      const map = eventMapper(ctx);
      const { unresolved } = open(state.data);
      return json({ page: pageObject(ctx), incidents: unresolved.map((v) => map.incident(v)) });
    }, compress),
  );

  app.get('/scheduled-maintenances.json', (c) =>
    sendCached(c, snapshot, 'api:v2:scheduled-maintenances', async (state) => {
      const ctx = context(state.data);
      const views = await newest('maintenance', state);
      return json({ page: pageObject(ctx), scheduled_maintenances: views.map(eventMapper(ctx).maintenance) });
    }, compress),
  );

  app.get('/scheduled-maintenances/upcoming.json', (c) =>
    sendCached(c, snapshot, 'api:v2:scheduled-maintenances:upcoming', (state) => {
      const ctx = context(state.data);
      const { upcoming } = open(state.data);
      return json({ page: pageObject(ctx), scheduled_maintenances: upcoming.map(eventMapper(ctx).maintenance) });
    }, compress),
  );

  app.get('/scheduled-maintenances/active.json', (c) =>
    sendCached(c, snapshot, 'api:v2:scheduled-maintenances:active', (state) => {
      const ctx = context(state.data);
      const { active } = open(state.data);
      return json({ page: pageObject(ctx), scheduled_maintenances: active.map(eventMapper(ctx).maintenance) });
    }, compress),
  );

  return app;
}
