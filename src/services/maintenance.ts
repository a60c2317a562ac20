import type { Kysely } from 'kysely';
import type { Config } from '../config.ts';
import type { Database, IncidentRow } from '../db/schema.ts';
import { recordAudit } from '../db/queries/audit.ts';
import { trySchedulerLock } from '../db/queries/system.ts';
import * as q from '../db/queries/incidents.ts';
import * as mq from '../db/queries/maintenance.ts';
import { AppError, conflict, notFound } from '../errors.ts';
import { formatDuration } from '../domain/duration.ts';
import type { Mode } from '../domain/vocabulary.ts';
import { DEFAULT_DURATION_MINUTES, describeWindow, lastWindowBefore, parseDay, parseTime, randomWindow, type Window } from '../domain/windows.ts';
import { actorLabel, SCHEDULER, type Actor } from './deps.ts';
import { postUpdate } from './incidents.ts';
import { loadPlatform, recordModeChanges } from './modes.ts';

type Db = Kysely<Database>;
const MIN = 60_000;

/** The weekly window; an instance that never set one gets a random one, chosen once and kept. */
export async function currentWindow(db: Db, now: Date): Promise<Window> {
  let row = await mq.findWindow(db);
  if (!row) {
    const w = randomWindow();
    await mq.saveWindow(db, { day: w.day, minute: w.minute, duration_minutes: w.durationMinutes, set_at: now, set_by: 'herald (chosen at random)' }, false);
    row = await mq.findWindow(db);
  }
  return { day: row!.day, minute: row!.minute, durationMinutes: row!.duration_minutes };
}

export async function setWindow(db: Db, actor: Actor, now: Date, input: { day: string; time: string; duration_hours?: number | undefined }) {
  const before = await mq.findWindow(db);
  const w = { day: parseDay(input.day)!, minute: parseTime(input.time)!, duration_minutes: Math.round((input.duration_hours ?? DEFAULT_DURATION_MINUTES / 60) * 60) };
  await mq.saveWindow(db, { ...w, set_at: now, set_by: actorLabel(actor) }, true);
  await recordAudit(db, { at: now, actor: actorLabel(actor), action: 'window.set', target: 'maintenance_window', before: before ?? null, after: w });
  return { day: w.day, minute: w.minute, durationMinutes: w.duration_minutes };
}

export interface ScheduleInput {
  readonly title: string;
  readonly message: string;
  readonly environments?: readonly string[] | undefined;
  readonly modes?: Readonly<Record<string, Mode>> | undefined;
  readonly scheduled_for?: Date | undefined;
  readonly scheduled_until?: Date | undefined;
  readonly required_by?: Date | undefined;
  readonly auto_start?: boolean | undefined;
  readonly auto_complete?: boolean | undefined;
}

/** Turns "by time" or "by deadline" into a start and an end (deadline → the last window before it). */
async function planOf(db: Db, now: Date, input: Pick<ScheduleInput, 'scheduled_for' | 'scheduled_until' | 'required_by'>) {
  const window = await currentWindow(db, now);
  if (input.required_by) {
    const slot = lastWindowBefore(window, now, input.required_by);
    if (!slot) {
      throw new AppError('invalid_params', 'The maintenance cannot be scheduled.', [
        { path: 'required_by', message: `${input.required_by.toISOString()} comes before the end of the next maintenance window (${describeWindow(window)}); give scheduled_for, or run it now` },
      ]);
    }
    return { scheduled_for: slot.start, scheduled_until: slot.end, required_by: input.required_by, method: 'window' as const };
  }
  const start = input.scheduled_for!;
  return { scheduled_for: start, scheduled_until: input.scheduled_until ?? new Date(start.getTime() + window.durationMinutes * MIN), required_by: null, method: 'explicit' as const };
}

/** Announces a maintenance: its first update is `scheduled`, declaring what it will do while it runs. */
export async function scheduleMaintenance(db: Db, actor: Actor, now: Date, input: ScheduleInput) {
  const plan = await planOf(db, now, input);
  const incident = await q.insertIncident(db, {
    kind: 'maintenance',
    title: input.title,
    state: 'scheduled',
    started_at: now,
    resolved_at: null,
    updated_at: now,
    created_at: now,
    created_by: actor.name,
    scheduled_for: plan.scheduled_for,
    scheduled_until: plan.scheduled_until,
    required_by: plan.required_by,
    schedule_method: plan.method,
    auto_start: input.auto_start ?? true,
    auto_complete: input.auto_complete ?? true,
  });
  const update = await q.insertUpdate(db, {
    incident_id: incident.id,
    at: now,
    created_at: now,
    state: 'scheduled',
    message: input.message,
    statuses: Object.fromEntries((input.environments ?? []).map((e) => [e, 'blue'])),
    modes: input.modes ?? {},
    author: actor.name,
  });
  await recordAudit(db, { at: now, actor: actorLabel(actor), action: 'maintenance.schedule', target: `incident:${incident.id}`, after: { incident, update } });
  return incident;
}

async function lockMaintenance(db: Db, id: number): Promise<IncidentRow> {
  const row = await q.lockIncident(db, id);
  if (!row || row.kind !== 'maintenance') throw notFound(`Maintenance ${id}`);
  return row;
}

export async function reschedule(db: Db, actor: Actor, now: Date, id: number, input: Omit<ScheduleInput, 'title' | 'message' | 'environments' | 'modes'>) {
  const row = await lockMaintenance(db, id);
  if (row.state !== 'scheduled') throw conflict(`Maintenance ${id} is ${row.state}; only a scheduled maintenance can be rescheduled.`);
  const plan = input.scheduled_for || input.required_by ? await planOf(db, now, input) : undefined;
  const after = await q.updateIncident(db, id, {
    ...(plan ? { scheduled_for: plan.scheduled_for, scheduled_until: plan.scheduled_until, required_by: plan.required_by, schedule_method: plan.method } : {}),
    ...(input.scheduled_until && !input.scheduled_for ? { scheduled_until: input.scheduled_until } : {}),
    ...(input.auto_start !== undefined ? { auto_start: input.auto_start } : {}),
    ...(input.auto_complete !== undefined ? { auto_complete: input.auto_complete } : {}),
    updated_at: now,
  });
  if (after.scheduled_until && after.scheduled_for && after.scheduled_until <= after.scheduled_for) {
    throw new AppError('invalid_params', 'The maintenance cannot be rescheduled.', [{ path: 'scheduled_until', message: 'must be after scheduled_for' }]);
  }
  await recordAudit(db, { at: now, actor: actorLabel(actor), action: 'maintenance.reschedule', target: `incident:${id}`, before: row, after });
  return after;
}

/** The roles a maintenance declares `maintenance` for (from its updates). */
async function rolesItStops(db: Db, id: number): Promise<string[]> {
  const updates = await q.visibleUpdatesOf(db, [id]);
  const modes: Record<string, string> = {};
  for (const u of updates) Object.assign(modes, u.modes);
  return Object.entries(modes).filter(([, m]) => m === 'maintenance').map(([r]) => r);
}

/**
 * Starts a maintenance now. Taking roles into maintenance is not done by accident: it refuses
 * unless each role it stops is already in maintenance, or the caller confirms with this
 * instance's name (as `heroku … --confirm app-name`).
 */
export async function runNow(db: Db, config: Config, actor: Actor, now: Date, id: number, confirm: string | undefined, message: string | undefined) {
  const row = await lockMaintenance(db, id);
  if (row.state !== 'scheduled') throw conflict(`Maintenance ${id} is ${row.state}; only a scheduled maintenance can be run.`);
  const stops = await rolesItStops(db, id);
  const platform = await loadPlatform(db, config, now);
  const running = stops.filter((r) => platform.find((p) => p.role === r)?.mode !== 'maintenance');
  if (running.length > 0 && confirm !== config.name) {
    throw conflict(
      `Running maintenance ${id} now puts ${running.join(' and ')} into maintenance, refusing requests. Put ${running.length > 1 ? 'them' : 'it'} in maintenance first, or confirm with the instance name: {"confirm": "${config.name}"} (CLI: --confirm ${config.name}).`,
    );
  }
  await q.updateIncident(db, id, { schedule_method: 'run' });
  return postUpdate(db, actor, now, id, { state: 'in_progress', message: message ?? 'Maintenance has started.' });
}

export async function cancel(db: Db, actor: Actor, now: Date, id: number, message: string | undefined) {
  const row = await lockMaintenance(db, id);
  if (row.state === 'completed' || row.state === 'cancelled') throw conflict(`Maintenance ${id} is already ${row.state}.`);
  return postUpdate(db, actor, now, id, { state: 'cancelled', message: message ?? (row.state === 'scheduled' ? 'This maintenance has been cancelled.' : 'This maintenance was stopped before it completed.') });
}

/**
 * One pass of the scheduler: starts what is due and completes what has run its time. Only one
 * instance acts at a time (a transaction-scoped advisory lock; the others skip this pass). After
 * downtime it catches up once: each start and end is applied in time order and recorded at its
 * scheduled time, timeline and mode history alike, and a row already moved on is not moved again.
 */
export async function runScheduler(db: Db, config: Config, now: Date): Promise<{ acted: boolean; started: number[]; completed: number[] }> {
  if (!(await trySchedulerLock(db))) return { acted: false, started: [], completed: [] };
  type Step = { readonly at: Date; readonly kind: 'start' | 'complete'; readonly m: IncidentRow };
  const steps: Step[] = [];
  for (const m of await mq.dueToComplete(db, now)) steps.push({ at: m.scheduled_until!, kind: 'complete', m });
  for (const m of await mq.dueToStart(db, now)) {
    steps.push({ at: m.scheduled_for!, kind: 'start', m });
    // missed whole: its end is due too
    if (m.auto_complete && m.scheduled_until && m.scheduled_until.getTime() <= now.getTime()) steps.push({ at: m.scheduled_until, kind: 'complete', m });
  }
  steps.sort((a, b) => a.at.getTime() - b.at.getTime() || (a.kind === b.kind ? 0 : a.kind === 'start' ? -1 : 1));

  const started: number[] = [];
  const completed: number[] = [];
  for (const { kind, m } of steps) {
    let at: Date;
    if (kind === 'start') {
      at = m.scheduled_for!;
      const late = now.getTime() - at.getTime() > 2 * MIN;
      await postUpdate(db, SCHEDULER, now, m.id, {
        state: 'in_progress',
        at,
        message: late ? `Maintenance has started (recorded at the scheduled time; Herald's scheduler caught up at ${now.toISOString()}).` : 'Maintenance has started.',
      });
      started.push(m.id);
    } else {
      const until = m.scheduled_until!;
      const startedAt = (await q.visibleUpdatesOf(db, [m.id])).filter((u) => u.state === 'in_progress').at(0)?.at;
      // never record the end before the start (a maintenance run by hand after its planned end)
      at = startedAt && startedAt > until ? now : until;
      await postUpdate(db, SCHEDULER, now, m.id, { state: 'completed', at, message: 'Maintenance is complete.' });
      completed.push(m.id);
    }
    await recordModeChanges(db, config, now, 'maintenance scheduler', at);
  }
  return { acted: true, started, completed };
}

/** One maintenance as the API answers it (/api/v1/maintenances); the CLI reads it with this type. */
export type MaintenanceInfo = Awaited<ReturnType<typeof maintenanceInfo>>;

/** What `maintenances:info` shows, as Heroku's data maintenance info does. */
export async function maintenanceInfo(db: Db, now: Date, row: IncidentRow) {
  const window = await currentWindow(db, now);
  const updates = await q.visibleUpdatesOf(db, [row.id]);
  const started = updates.find((u) => u.state === 'in_progress')?.at ?? null;
  const ended = row.resolved_at;
  const last = updates.at(-1);
  const declared = Object.assign({}, ...updates.map((u) => u.statuses)) as Record<string, string>;
  const modes = Object.assign({}, ...updates.map((u) => u.modes)) as Record<string, string>;
  return {
    id: row.id,
    title: row.title,
    status: row.state,
    window: describeWindow(window),
    scheduled_for: row.scheduled_for?.toISOString() ?? null,
    scheduled_until: row.scheduled_until?.toISOString() ?? null,
    required_by: row.required_by?.toISOString() ?? null,
    method: row.schedule_method,
    auto_start: row.auto_start,
    auto_complete: row.auto_complete,
    environments: Object.keys(declared),
    modes,
    started_at: started?.toISOString() ?? null,
    completed_at: row.state === 'completed' ? (ended?.toISOString() ?? null) : null,
    cancelled_at: row.state === 'cancelled' ? (last?.at.toISOString() ?? null) : null,
    duration: started ? formatDuration((ended ?? now).getTime() - started.getTime()) : null,
  };
}
