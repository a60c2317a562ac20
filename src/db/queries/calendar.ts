import type { Kysely } from 'kysely';
import type { Database, IncidentRow, UpdateRow } from '../schema.ts';
import { visibleUpdatesOf } from './incidents.ts';

type Db = Kysely<Database>;

/** How many maintenances the calendar holds at most: far more than 90 days ever has. */
const CALENDAR_LIMIT = 500;

/** One reschedule as the audit log recorded it: the incident row before and after. */
export interface Reschedule {
  readonly incident_id: number;
  readonly before: { readonly scheduled_for?: string | null; readonly scheduled_until?: string | null } | null;
  readonly after: { readonly scheduled_for?: string | null; readonly scheduled_until?: string | null } | null;
}

export interface CalendarRows {
  readonly maintenances: readonly IncidentRow[];
  /** Visible updates of those maintenances, oldest first per maintenance. */
  readonly updates: readonly UpdateRow[];
  readonly reschedules: readonly Reschedule[];
}

/**
 * The maintenances of the calendar: every one not yet over, and every one touched or planned to
 * end since `since` (completed and cancelled ones stay that long, so a calendar sees the
 * cancellation). With their visible updates and the reschedules the audit log recorded.
 */
export async function calendarRows(db: Db, since: Date): Promise<CalendarRows> {
  const maintenances = await db
    .selectFrom('incidents')
    .selectAll()
    .where('kind', '=', 'maintenance')
    .where((eb) => eb.or([eb('state', 'in', ['scheduled', 'in_progress', 'verifying']), eb('updated_at', '>=', since), eb('scheduled_until', '>=', since)]))
    .orderBy('scheduled_for', 'desc')
    .orderBy('id', 'desc')
    .limit(CALENDAR_LIMIT)
    .execute();
  const ids = maintenances.map((m) => m.id);
  if (ids.length === 0) return { maintenances, updates: [], reschedules: [] };
  const [updates, audited] = await Promise.all([
    visibleUpdatesOf(db, ids),
    db
      .selectFrom('audit_log')
      .select(['target', 'before', 'after'])
      .where('action', '=', 'maintenance.reschedule')
      .where('target', 'in', ids.map((id) => `incident:${id}`))
      .orderBy('id')
      .execute(),
  ]);
  const reschedules = audited.map((a) => ({ incident_id: Number(a.target.slice('incident:'.length)), before: a.before as Reschedule['before'], after: a.after as Reschedule['after'] }));
  return { maintenances, updates, reschedules };
}
