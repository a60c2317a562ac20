import type { Kysely } from 'kysely';
import type { Database, IncidentRow } from '../schema.ts';

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

export function listMaintenance(db: Db, open: boolean, limit: number): Promise<IncidentRow[]> {
  let q = db.selectFrom('incidents').selectAll().where('kind', '=', 'maintenance');
  q = open ? q.where('resolved_at', 'is', null) : q;
  return q.orderBy('scheduled_for', 'desc').orderBy('id', 'desc').limit(limit).execute();
}
