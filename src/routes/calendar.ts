import { Hono } from 'hono';
import type { Config } from '../config.ts';
import { calendarRows, type CalendarRows, type Reschedule } from '../db/queries/calendar.ts';
import { icalText, type CalendarEvent } from '../render/ical.ts';
import type { Deps } from '../services/deps.ts';
import { stateWords } from '../../templates/format.ts';
import { sendCached, type Compressor, type PublicSnapshot } from './cached.ts';

const ICS_TYPE = 'text/calendar; charset=utf-8';
const DAY = 86_400_000;
const HOUR = 3_600_000;
/** Completed and cancelled maintenance stays in the calendar this long. */
export const CALENDAR_DAYS = 90;

const timeOf = (iso: string | null | undefined) => (iso ? Date.parse(iso) : null);

/** A reschedule a calendar must take over: it moved the start or the end (not only auto_start/auto_complete). */
const moved = (r: Reschedule) =>
  timeOf(r.before?.scheduled_for) !== timeOf(r.after?.scheduled_for) || timeOf(r.before?.scheduled_until) !== timeOf(r.after?.scheduled_until);

/**
 * One VEVENT per maintenance; a pure function of the rows, so every instance sends the same bytes.
 *
 * - UID `maintenance-<id>@<host of PUBLIC_URL>`: ids are never reused, the host keeps two
 *   Herald instances apart in one calendar.
 * - DTSTART/DTEND are the planned window (scheduled_for/scheduled_until): what people plan
 *   around. When it actually started or completed goes into the description, not into the
 *   event's times, so running a maintenance never moves it in anyone's calendar.
 * - SEQUENCE counts the changes a calendar must take over, derived without a column: each
 *   reschedule the audit log recorded that moved the start or the end, plus one for a
 *   cancellation.
 * - DTSTAMP and LAST-MODIFIED are the time of the maintenance's last change (its row or its
 *   newest visible update), not the time of the request, so the body (and its ETag) only changes
 *   when the maintenance does.
 */
export function calendarEvents(config: Config, rows: CalendarRows): CalendarEvent[] {
  const base = config.publicUrl;
  const host = new URL(base).host;
  return rows.maintenances.map((m) => {
    const updates = rows.updates.filter((u) => u.incident_id === m.id);
    const latest = updates.at(-1);
    const lastModified = new Date(Math.max(new Date(m.updated_at).getTime(), latest ? new Date(latest.at).getTime() : 0));
    const started = updates.find((u) => u.state === 'in_progress')?.at;
    const start = new Date(m.scheduled_for ?? started ?? m.started_at);
    const end = m.scheduled_until ? new Date(m.scheduled_until) : new Date(start.getTime() + HOUR);
    const rescheduled = rows.reschedules.filter((r) => r.incident_id === m.id && moved(r)).length;
    const facts = [
      `Status: ${stateWords(m.state)}`,
      ...(started ? [`Started: ${new Date(started).toISOString()}`] : []),
      ...(m.state === 'completed' && m.resolved_at ? [`Completed: ${new Date(m.resolved_at).toISOString()}`] : []),
    ];
    return {
      uid: `maintenance-${m.id}@${host}`,
      sequence: rescheduled + (m.state === 'cancelled' ? 1 : 0),
      start,
      end,
      summary: m.title,
      description: [facts.join('\n'), latest?.message ?? ''].filter(Boolean).join('\n\n'),
      url: `${base}/incidents/${m.id}`,
      stamp: lastModified,
      lastModified,
      status: m.state === 'cancelled' ? 'CANCELLED' : 'CONFIRMED',
    };
  });
}

/** GET /maintenance.ics: scheduled, running and recent maintenance as iCalendar, from the snapshot. */
export function calendarRoutes(deps: Deps, snapshot: PublicSnapshot, compress?: Compressor) {
  const { db, config, clock } = deps;
  const app = new Hono();

  app.get('/maintenance.ics', (c) =>
    sendCached(c, snapshot, 'maintenance.ics', async (state) => {
      // Fetched once per snapshot version: a schedule, reschedule, start or cancellation is a public change.
      const rows = await snapshot.remember('maintenance.ics', state, () => calendarRows(db, new Date(clock.now().getTime() - CALENDAR_DAYS * DAY)));
      return { type: ICS_TYPE, body: icalText({ name: `${config.name} maintenance`, events: calendarEvents(config, rows) }) };
    }, compress),
  );

  return app;
}
