import type { Kysely } from 'kysely';
import type { Database, IncidentRow } from '../schema.ts';
import { afterKey, type PageKey } from './keyset.ts';

type Db = Kysely<Database>;

export function findWindow(db: Db) {
  return db.selectFrom('maintenance_window').selectAll().where('id', '=', 1).executeTakeFirst();
}

/** Records the window; the first writer wins a race to create it (a random pick may lose to a set). */
export async function saveWindow(db: Db, w: { day: number; minute: number; duration_minutes: number; set_at: Date; set_by: string }, replace: boolean) {
  const q = db.insertInto('maintenance_window').values({ id: 1, ...w });
  await (replace ? q.onConflict((oc) => oc.column('id').doUpdateSet(w)) : q.onConflict((oc) => oc.column('id').doNothing())).execute();
}

/** Scheduled maintenance due to start by `now`, locked, skipping rows another scheduler holds. */
export function dueToStart(db: Db, now: Date): Promise<IncidentRow[]> {
  return db
    .selectFrom('incidents')
    .selectAll()
    .where('kind', '=', 'maintenance')
    .where('state', '=', 'scheduled')
    .where('auto_start', '=', true)
    .where('scheduled_for', '<=', now)
    .orderBy('scheduled_for')
    .forUpdate()
    .skipLocked()
    .execute();
}

export function dueToComplete(db: Db, now: Date): Promise<IncidentRow[]> {
  return db
    .selectFrom('incidents')
    .selectAll()
    .where('kind', '=', 'maintenance')
    .where('state', 'in', ['in_progress', 'verifying'])
    .where('auto_complete', '=', true)
    .where('scheduled_until', '<=', now)
    .orderBy('scheduled_until')
    .forUpdate()
    .skipLocked()
    .execute();
}

export interface MaintenancePage {
  readonly limit: number;
  /** Keyset: only maintenance after this (scheduled_for, id) in latest-scheduled-first order. */
  readonly before?: PageKey;
  readonly state?: 'open' | 'closed';
}

/** One page of maintenance, latest scheduled first by (scheduled_for, id). */
export function listMaintenance(db: Db, page: MaintenancePage): Promise<IncidentRow[]> {
  let q = db.selectFrom('incidents').selectAll().where('kind', '=', 'maintenance');
  if (page.before) {
    const key = page.before;
    q = q.where((eb) => afterKey(eb, 'scheduled_for', key));
  }
  if (page.state === 'open') q = q.where('resolved_at', 'is', null);
  if (page.state === 'closed') q = q.where('resolved_at', 'is not', null);
  return q.orderBy('scheduled_for', (o) => o.desc().nullsFirst()).orderBy('id', 'desc').limit(page.limit).execute();
}
