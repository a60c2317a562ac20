import { Hono } from 'hono';
import { loadCatalog } from '../db/queries/environments.ts';
import { withCatalog, type Catalog } from '../domain/components.ts';
import * as z from 'zod';
import type { Config } from '../config.ts';
import { AppError } from '../errors.ts';
import * as q from '../db/queries/incidents.ts';
import { worstStatus, type Status } from '../domain/vocabulary.ts';
import { incidentById, incidentViews, type IncidentView, type UpdateView } from '../services/read-model.ts';
import { problemsOf } from '../services/schemas.ts';
import type { Deps } from '../services/deps.ts';
import { idParam } from './http.ts';
import { sendCached, type Compressor, type PublicSnapshot } from './cached.ts';

const JSON_TYPE = 'application/json; charset=utf-8';

/**
 * Heroku's v3 keys every issue and update with exactly two statuses. Herald maps its configured
 * environments onto them: `status_prod` is the `production` environment (or the first configured
 * one), and `status_dev` the worst of all the others (green when there are none). The v3
 * `current-status` map and v4's `status` list name every environment by its display name.
 */
/** Heroku's colours are green, yellow, red and blue: a partial outage (orange) is an outage there. */
export const herokuColour = (s: Status): Exclude<Status, 'orange'> => (s === 'orange' ? 'red' : s);

export function herokuPair(config: Config) {
  const slugs = config.environments.map((e) => e.slug);
  const prod = slugs.includes('production') ? 'production' : slugs[0]!;
  const others = slugs.filter((s) => s !== prod);
  return (statuses: Readonly<Record<string, Status>>) => ({
    status_prod: herokuColour(statuses[prod] ?? 'green'),
    status_dev: herokuColour(worstStatus(others.map((s) => statuses[s] ?? 'green'))),
  });
}

const issuesQuery = z.object({
  since: z.iso.date({ message: 'must be a date (YYYY-MM-DD) or a time' }).or(z.iso.datetime({ offset: true })).optional(),
  limit: z.coerce.number({ message: 'must be a number' }).int('must be an integer').min(1, 'must be at least 1').max(200, 'must be at most 200').default(50),
});

export function herokuRoutes(deps: Deps, snapshot: PublicSnapshot, compress?: Compressor) {
  const { db, config, clock } = deps;
  const app = new Hono();
  /** The pair mapping as the components stand in `catalog` (they are data: it changes with them). */
  const pairFor = (catalog: Catalog) => herokuPair(withCatalog(config, catalog));

  /** v3 update: statuses as they stood after this update, carried forward through the timeline. */
  function v3Issue(pair: ReturnType<typeof herokuPair>, v: IncidentView) {
    const chronological = [...v.updates].reverse();
    let carried: Record<string, Status> = {};
    const updates = chronological.map((u: UpdateView) => {
      carried = u.state === 'resolved' || u.state === 'completed' || u.state === 'cancelled' ? {} : { ...carried, ...u.statuses };
      return {
        id: u.id,
        incident_id: v.id,
        update_type: u.state,
        title: v.title,
        contents: u.message,
        created_at: u.at,
        updated_at: u.at,
        ...pair(carried),
      };
    });
    return {
      id: v.id,
      title: v.title,
      resolved: !v.open,
      upcoming: v.kind === 'maintenance' && v.state === 'scheduled',
      created_at: v.started_at,
      updated_at: v.updated_at,
      href: `${config.publicUrl}/api/v3/issues/${v.id}`,
      full_url: v.url,
      ...pair(v.statuses),
      updates: updates.reverse(),
    };
  }

  app.get('/v3/current-status', (c) =>
    sendCached(c, snapshot, 'api:v3:current-status', ({ data: { status: s, catalog } }) => ({
      type: JSON_TYPE,
      body: JSON.stringify({
        status: Object.fromEntries(s.environments.map((e) => [e.name, herokuColour(e.status)])),
        issues: [...s.incidents, ...s.scheduled].map((v) => v3Issue(pairFor(catalog), v)),
        last_updated: s.updated_at,
      }),
    }), compress),
  );

  app.get('/v3/issues', async (c) => {
    const parsed = issuesQuery.safeParse(c.req.query());
    if (!parsed.success) throw new AppError('request.invalid_query', 'The query is not valid.', problemsOf(parsed.error));
    const { since, limit } = parsed.data;
    const rows = await q.listIncidents(db, { limit, ...(since ? { since: new Date(since) } : {}) });
    const [views, catalog] = await Promise.all([incidentViews(db, config, rows, clock.now()), loadCatalog(db)]);
    const pair = pairFor(catalog);
    return c.json(views.map((v) => v3Issue(pair, v)));
  });

  app.get('/v3/issues/:id', async (c) => {
    const id = idParam(c, 'id', 'Issue');
    const [view, catalog] = await Promise.all([incidentById(db, config, id, clock.now()), loadCatalog(db)]);
    if (!view) throw new AppError('issue.not_found', `Issue ${id} was not found.`);
    return c.json(v3Issue(pairFor(catalog), view));
  });

  /** v4, as the `heroku status` CLI reads it (via HEROKU_STATUS_HOST). */
  app.get('/v4/current-status', (c) =>
    sendCached(c, snapshot, 'api:v4:current-status', ({ data: { status: s, catalog } }) => {
      const pair = pairFor(catalog);
      const v4 = (v: IncidentView) => ({
        ...v3Issue(pair, v),
        updates: v.updates.map((u) => ({ id: u.id, update_type: u.state, updated_at: u.at, created_at: u.at, contents: u.message })),
      });
      return {
        type: JSON_TYPE,
        body: JSON.stringify({
          status: s.environments.map((e) => ({ system: e.name, status: herokuColour(e.status) })),
          incidents: s.incidents.map(v4),
          scheduled: s.scheduled.map(v4),
        }),
      };
    }, compress),
  );

  return app;
}
