import { sql, type Kysely } from 'kysely';
import type { Insertable } from 'kysely';
import type { State, Status } from '../../domain/vocabulary.ts';
import type { TimelinePoint } from '../../domain/timeline.ts';
import type { Database, IncidentRow, IncidentsTable, UpdateRow } from '../schema.ts';
import { afterKey, type PageKey } from './keyset.ts';

type Db = Kysely<Database>;

/** Locks an incident for the rest of the transaction, so concurrent updates to it serialise. */
export function lockIncident(db: Db, id: number): Promise<IncidentRow | undefined> {
  return db.selectFrom('incidents').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
}

export function findIncident(db: Db, id: number): Promise<IncidentRow | undefined> {
  return db.selectFrom('incidents').selectAll().where('id', '=', id).executeTakeFirst();
}

export function insertIncident(db: Db, values: Insertable<IncidentsTable>): Promise<IncidentRow> {
  return db.insertInto('incidents').values(values).returningAll().executeTakeFirstOrThrow();
}

export function updateIncident(db: Db, id: number, values: Partial<Omit<IncidentRow, 'id'>>): Promise<IncidentRow> {
  return db.updateTable('incidents').set(values).where('id', '=', id).returningAll().executeTakeFirstOrThrow();
}

export interface NewUpdate {
  readonly incident_id: number;
  readonly at: Date;
  readonly created_at: Date;
  readonly state: State;
  readonly message: string;
  readonly statuses: Readonly<Record<string, string>>;
  readonly modes: Readonly<Record<string, string>>;
  readonly author: string;
}

export function insertUpdate(db: Db, u: NewUpdate): Promise<UpdateRow> {
  return db
    .insertInto('incident_updates')
    .values({ ...u, statuses: JSON.stringify(u.statuses), modes: JSON.stringify(u.modes) })
    .returningAll()
    .executeTakeFirstOrThrow();
}

export function findUpdate(db: Db, incidentId: number, updateId: number): Promise<UpdateRow | undefined> {
  return db
    .selectFrom('incident_updates')
    .selectAll()
    .where('incident_id', '=', incidentId)
    .where('id', '=', updateId)
    .executeTakeFirst();
}

export function hideUpdate(db: Db, updateId: number, at: Date, reason: string): Promise<UpdateRow> {
  return db
    .updateTable('incident_updates')
    .set({ hidden_at: at, hidden_reason: reason })
    .where('id', '=', updateId)
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** Updates of the given incidents in timeline order (`at`, then insertion), hidden ones left out. */
export async function visibleUpdatesOf(db: Db, incidentIds: readonly number[]): Promise<UpdateRow[]> {
  if (incidentIds.length === 0) return [];
  return db
    .selectFrom('incident_updates')
    .selectAll()
    .where('incident_id', 'in', incidentIds)
    .where('hidden_at', 'is', null)
    .orderBy('incident_id')
    .orderBy('at')
    .orderBy('id')
    .execute();
}

/** Incidents and maintenance not yet closed, newest first. */
export function openIncidents(db: Db): Promise<IncidentRow[]> {
  return db.selectFrom('incidents').selectAll().where('resolved_at', 'is', null).orderBy('started_at', 'desc').orderBy('id', 'desc').execute();
}

export interface IncidentPage {
  readonly limit: number;
  /** Keyset: only incidents after this (started_at, id) in newest-first order. */
  readonly before?: PageKey;
  readonly since?: Date;
  readonly state?: 'open' | 'closed';
  readonly kind?: 'incident' | 'maintenance';
}

/**
 * One page of incidents, newest first by (started_at, id). Keyset pagination: an incident
 * created while a client pages through never shifts the pages that follow.
 */
export function listIncidents(db: Db, page: IncidentPage): Promise<IncidentRow[]> {
  let q = db.selectFrom('incidents').selectAll();
  if (page.before) {
    const key = page.before;
    q = q.where((eb) => afterKey(eb, 'started_at', key));
  }
  if (page.since) q = q.where('started_at', '>=', page.since);
  if (page.state === 'open') q = q.where('resolved_at', 'is', null);
  if (page.state === 'closed') q = q.where('resolved_at', 'is not', null);
  if (page.kind) q = q.where('kind', '=', page.kind);
  return q.orderBy('started_at', 'desc').orderBy('id', 'desc').limit(page.limit).execute();
}

export async function countIncidents(db: Db): Promise<number> {
  const r = await sql<{ n: number }>`select count(*)::int4 as n from incidents`.execute(db);
  return r.rows[0]?.n ?? 0;
}

/** Closed incidents and maintenance whose end falls at or after `since`, newest first. */
export function closedSince(db: Db, since: Date): Promise<IncidentRow[]> {
  return db.selectFrom('incidents').selectAll().where('resolved_at', '>=', since).orderBy('started_at', 'desc').execute();
}

export function incidentsByIds(db: Db, ids: readonly number[]): Promise<IncidentRow[]> {
  if (ids.length === 0) return Promise.resolve([]);
  return db.selectFrom('incidents').selectAll().where('id', 'in', ids).execute();
}

export interface ClosedTimeline {
  readonly id: number;
  readonly kind: 'incident' | 'maintenance';
  readonly resolved_at: Date;
  /** Its stretches as an earlier build kept them (storeStretches), or null. */
  readonly stretches: readonly StoredStretch[] | null;
  /** Null when `stretches` came; otherwise the incident's mark in incident_changes (null if none). */
  readonly mark: string | null;
  /**
   * Null when `stretches` came; otherwise the visible updates in timeline order (`at`, then id).
   * Every closed incident has one at least.
   */
  readonly timeline: readonly TimelinePoint[] | null;
}

/** One stretch as incident_stretches keeps it: [environment, status, from, to] (ms since the epoch). */
export type StoredStretch = readonly [environment: string, status: Exclude<Status, 'green'>, from: number, to: number];

/**
 * Closed incidents and maintenance whose end falls at or after `since`, each with what the 90-day
 * bars need of it and nothing more (no messages, modes or authors). That is the stretches an
 * earlier build kept for it (incident_stretches: a row there is true of the incident as it is,
 * migrations/0014 says why), or else its visible updates as points, one row per incident, the
 * timeline aggregated as JSON (a fraction of the cost of one row per update with its timestamps
 * parsed by the driver), and its mark, to keep the stretches made of them with. `at` comes as
 * whole milliseconds, as a Date holds it (cut to the millisecond first, so the float's last bit
 * can never round it to the neighbour). The updates and the mark are only read for incidents
 * with nothing kept: a subquery in a CASE branch runs only when reached.
 */
export async function closedTimelinesSince(db: Db, since: Date): Promise<ClosedTimeline[]> {
  // No ORDER BY inside json_agg: Postgres 15 sorts each group's rows for it even when the index
  // scan on (incident_id, at, id) already yields them in order. They are sorted here instead (one
  // pass when already in order; a small table's sequential scan gives them as written). The query
  // went from ~43 to ~37 ms on 1,000 incidents (npm run bench:history's database, pgbench, 2026-12-02).
  // LIMIT 1 keeps the planner from turning the lateral into a join over the whole table. Looking
  // up every incident's mark as well tripled the query's time on a fresh connection, as at
  // start-up (~24 ms against ~8 for 1,000 incidents, psql, 2026-12-02): only misses look it up.
  const r = await sql<ClosedTimeline>`
    select i.id, i.kind, i.resolved_at, k.stretches,
      case when k.stretches is null then (select c.changed_xid::text from incident_changes c where c.incident_id = i.id) end as mark,
      case when k.stretches is null then
        (select json_agg(json_build_array(round(date_part('epoch', date_trunc('milliseconds', u.at)) * 1000), u.id, u.state, u.statuses))
           from incident_updates u where u.incident_id = i.id and u.hidden_at is null) end as timeline
    from incidents i
      left join lateral (select s.stretches from incident_stretches s where s.incident_id = i.id limit 1) k on true
    where i.resolved_at >= ${since}`.execute(db);
  for (const row of r.rows) (row.timeline as TimelinePoint[] | null)?.sort(byTimeThenId);
  return r.rows;
}

/**
 * Keeps closed incidents' stretches for the next full builds (closedTimelinesSince), each only if
 * the incident's mark is still the one given (what closedTimelinesSince returned with the updates
 * they were made of). The mark is checked under a share lock: a transaction changing the incident
 * right now holds its mark's row, so this waits for it and then sees the new mark, and keeps
 * nothing. One statement, whatever the count.
 */
export async function storeStretches(db: Db, kept: readonly (readonly [id: number, mark: string, stretches: readonly StoredStretch[]])[]): Promise<void> {
  if (kept.length === 0) return;
  await sql`
    insert into incident_stretches (incident_id, stretches)
      select c.incident_id, e->2 from json_array_elements(${JSON.stringify(kept)}::json) e
        join incident_changes c on c.incident_id = (e->>0)::int4 and c.changed_xid = (e->>1)::xid8
      for share of c
    on conflict (incident_id) do nothing`.execute(db);
}

const byTimeThenId = (a: TimelinePoint, b: TimelinePoint) => a[0] - b[0] || a[1] - b[1];

export interface Changes {
  /** The oldest transaction still running when the question was asked: the next `since`. */
  readonly xmin: string;
  /** Incidents changed by transaction `since` or a later one (none when `since` is null). */
  readonly ids: readonly number[];
}

/**
 * Which incidents changed since an earlier call (incident_changes, kept by triggers), and the
 * mark to ask with next time. Read in one statement, so under one snapshot: a transaction not
 * visible to it was still running then (its id is at least `xmin`) or had not begun (its id
 * is higher), so the next call names every incident it changes, whenever it commits. Whatever
 * is read after this statement is at least as new as what it saw.
 */
export async function changesSince(db: Db, since: string | null): Promise<Changes> {
  const ids =
    since === null
      ? sql<unknown>`'[]'::json`
      : sql<unknown>`(select coalesce(json_agg(incident_id), '[]'::json) from incident_changes where changed_xid >= ${since}::xid8)`;
  const r = await sql<{ xmin: string; ids: number[] }>`select pg_snapshot_xmin(pg_current_snapshot())::text as xmin, ${ids} as ids`.execute(db);
  const row = r.rows[0]!;
  return { xmin: row.xmin, ids: row.ids };
}

/** The newest change to any incident: what "last updated" on the public pages means. */
export async function lastChange(db: Db): Promise<Date | null> {
  const r = await db.selectFrom('incidents').select((eb) => eb.fn.max('updated_at').as('at')).executeTakeFirst();
  return r?.at ? new Date(r.at as unknown as string) : null;
}

export interface FeedRow {
  readonly id: number;
  readonly incident_id: number;
  readonly at: Date;
  readonly state: State;
  readonly message: string;
  readonly statuses: unknown;
  readonly title: string;
  readonly kind: 'incident' | 'maintenance';
}

/**
 * The newest visible updates across all incidents, newest first; with `environment`, only
 * updates of incidents that named that environment in any visible update.
 */
export function latestUpdates(db: Db, limit: number, environment?: string): Promise<FeedRow[]> {
  let q = db
    .selectFrom('incident_updates as u')
    .innerJoin('incidents as i', 'i.id', 'u.incident_id')
    .select(['u.id', 'u.incident_id', 'u.at', 'u.state', 'u.message', 'u.statuses', 'i.title', 'i.kind'])
    .where('u.hidden_at', 'is', null);
  if (environment !== undefined) {
    q = q.where((eb) =>
      eb.exists(
        eb
          .selectFrom('incident_updates as n')
          .select('n.id')
          .whereRef('n.incident_id', '=', 'u.incident_id')
          .where('n.hidden_at', 'is', null)
          .where(sql<boolean>`n.statuses ? ${environment}`),
      ),
    );
  }
  return q.orderBy('u.at', 'desc').orderBy('u.id', 'desc').limit(limit).execute() as Promise<FeedRow[]>;
}

/** Incidents that started in [from, to), newest first (a stretch of the history page). */
export function startedBetween(db: Db, from: Date, to: Date): Promise<IncidentRow[]> {
  return db
    .selectFrom('incidents')
    .selectAll()
    .where('started_at', '>=', from)
    .where('started_at', '<', to)
    .where('kind', '=', 'incident')
    .orderBy('started_at', 'desc')
    .orderBy('id', 'desc')
    .execute();
}

export async function anyStartedBefore(db: Db, before: Date): Promise<boolean> {
  const row = await db.selectFrom('incidents').select('id').where('started_at', '<', before).where('kind', '=', 'incident').limit(1).executeTakeFirst();
  return row !== undefined;
}
