import type { Kysely } from 'kysely';
import type { Database, IncidentRow } from '../db/schema.ts';
import * as q from '../db/queries/incidents.ts';
import * as mq from '../db/queries/maintenance.ts';
import { AppError } from '../errors.ts';
import { formatDuration } from '../domain/duration.ts';
import type { Mode } from '../domain/vocabulary.ts';
import { DEFAULT_DURATION_MINUTES, describeWindow, lastWindowBefore, parseDay, parseTime, randomWindow, type Window } from '../domain/windows.ts';
import { actorLabel, SCHEDULER, type Deps } from './deps.ts';
import { appendUpdate, insertIncident } from './incidents.ts';
import { loadPlatform } from './modes.ts';
import { writeSchemas } from './schemas.ts';
import { inTransaction, parseInput, type Command, type Work } from './unit-of-work.ts';

type Db = Kysely<Database>;
const MIN = 60_000;

const windowOfRow = (row: { day: number; minute: number; duration_minutes: number }): Window => ({ day: row.day, minute: row.minute, durationMinutes: row.duration_minutes });

/** The weekly window, in a write: an instance that never set one gets a random one, chosen once and kept. */
async function windowIn(w: Work): Promise<Window> {
  const row = await mq.findWindow(w.db);
  if (row) return windowOfRow(row);
  const chosen = randomWindow();
  await mq.saveWindow(w.db, { day: chosen.day, minute: chosen.minute, duration_minutes: chosen.durationMinutes, set_at: w.now, set_by: 'herald (chosen at random)' }, false);
  // another instance may have chosen first: its choice is the one kept
  const kept = windowOfRow((await mq.findWindow(w.db))!);
  w.emit({ name: 'window.set', day: kept.day, minute: kept.minute, duration_minutes: kept.durationMinutes });
  return kept;
}

/** The weekly window; choosing it the first time is a write like any other. */
export async function currentWindow(deps: Deps): Promise<Window> {
  const row = await mq.findWindow(deps.db);
  if (row) return windowOfRow(row);
  return (await inTransaction(deps, { actor: SCHEDULER }, deps.clock.now(), windowIn)).value;
}

export async function setWindow(deps: Deps, command: Command, body: unknown) {
  const now = deps.clock.now();
  const input = parseInput(writeSchemas(deps.config, now).window, body, 'window.invalid_input');
  return inTransaction(deps, command, now, async (w) => {
    const before = await mq.findWindow(w.db);
    const row = { day: parseDay(input.day)!, minute: parseTime(input.time)!, duration_minutes: Math.round((input.duration_hours ?? DEFAULT_DURATION_MINUTES / 60) * 60) };
    await mq.saveWindow(w.db, { ...row, set_at: now, set_by: actorLabel(w.actor) }, true);
    await w.audit('window.set', 'maintenance_window', { before: before ?? null, after: row });
    w.emit({ name: 'window.set', ...row });
    return windowOfRow(row);
  });
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
async function planOf(w: Work, input: Pick<ScheduleInput, 'scheduled_for' | 'scheduled_until' | 'required_by'>) {
  const window = await windowIn(w);
  if (input.required_by) {
    const slot = lastWindowBefore(window, w.now, input.required_by);
    if (!slot) {
      throw new AppError('maintenance.no_window_before_deadline', 'The maintenance cannot be scheduled.', [
        { path: 'required_by', message: `${input.required_by.toISOString()} comes before the end of the next maintenance window (${describeWindow(window)}); give scheduled_for, or run it now` },
      ]);
    }
    return { scheduled_for: slot.start, scheduled_until: slot.end, required_by: input.required_by, method: 'window' as const };
  }
  const start = input.scheduled_for!;
  return { scheduled_for: start, scheduled_until: input.scheduled_until ?? new Date(start.getTime() + window.durationMinutes * MIN), required_by: null, method: 'explicit' as const };
}

/** Announces a maintenance: its first update is `scheduled`, declaring what it will do while it runs. */
export async function scheduleMaintenance(deps: Deps, command: Command, body: unknown) {
  const now = deps.clock.now();
  return inTransaction(deps, command, now, async (w) => {
    const input = parseInput(writeSchemas(w.config, now).createMaintenance, body, 'maintenance.invalid_input');
    if (input.notify === false) w.silence();
    const plan = await planOf(w, input);
    const { incident, update } = await insertIncident(
      w,
      {
        kind: 'maintenance',
        title: input.title,
        state: 'scheduled',
        started_at: now,
        resolved_at: null,
        updated_at: now,
        scheduled_for: plan.scheduled_for,
        scheduled_until: plan.scheduled_until,
        required_by: plan.required_by,
        schedule_method: plan.method,
        auto_start: input.auto_start ?? true,
        auto_complete: input.auto_complete ?? true,
      },
      { at: now, state: 'scheduled', message: input.message, statuses: Object.fromEntries((input.environments ?? []).map((e) => [e, 'blue'])), modes: input.modes ?? {} },
    );
    await w.audit('maintenance.schedule', `incident:${incident.id}`, { after: { incident, update } });
    w.emit({ name: 'maintenance.scheduled', incident: incident.id, scheduled_for: plan.scheduled_for.toISOString() });
    return maintenanceInfo(w.db, now, incident);
  });
}

export async function lockMaintenance(w: Work, id: number): Promise<IncidentRow> {
  const row = await q.lockIncident(w.db, id);
  if (!row || row.kind !== 'maintenance') throw new AppError('maintenance.not_found', `Maintenance ${id} was not found.`);
  return row;
}

const notScheduled = (row: IncidentRow, what: string) => new AppError('maintenance.not_scheduled', `Maintenance ${row.id} is ${row.state}; only a scheduled maintenance can be ${what}.`);

export async function reschedule(deps: Deps, command: Command, id: number, body: unknown) {
  const now = deps.clock.now();
  const input = parseInput(writeSchemas(deps.config, now).reschedule, body, 'maintenance.invalid_input');
  return inTransaction(deps, command, now, async (w) => {
    const row = await lockMaintenance(w, id);
    if (row.state !== 'scheduled') throw notScheduled(row, 'rescheduled');
    const plan = input.scheduled_for || input.required_by ? await planOf(w, input) : undefined;
    const after = await q.updateIncident(w.db, id, {
      ...(plan ? { scheduled_for: plan.scheduled_for, scheduled_until: plan.scheduled_until, required_by: plan.required_by, schedule_method: plan.method } : {}),
      ...(input.scheduled_until && !input.scheduled_for ? { scheduled_until: input.scheduled_until } : {}),
      ...(input.auto_start !== undefined ? { auto_start: input.auto_start } : {}),
      ...(input.auto_complete !== undefined ? { auto_complete: input.auto_complete } : {}),
      updated_at: now,
    });
    if (after.scheduled_until && after.scheduled_for && after.scheduled_until <= after.scheduled_for) {
      throw new AppError('maintenance.invalid_input', 'The maintenance cannot be rescheduled.', [{ path: 'scheduled_until', message: 'must be after scheduled_for' }]);
    }
    await w.audit('maintenance.reschedule', `incident:${id}`, { before: row, after });
    w.emit({ name: 'maintenance.rescheduled', incident: id, scheduled_for: after.scheduled_for?.toISOString() ?? null });
    return maintenanceInfo(w.db, now, after);
  });
}

/** What running a maintenance now does to each role: the roles it would take into maintenance, and those already there. */
export async function runEffects(db: Db, deps: Pick<Deps, 'config'>, now: Date, row: IncidentRow) {
  const [info, platform] = await Promise.all([maintenanceInfo(db, now, row), loadPlatform(db, deps.config, now)]);
  const modeOf = (role: string) => platform.find((p) => p.role === role)?.mode ?? 'full';
  const declared = Object.entries(info.modes);
  const stopping = declared.filter(([, m]) => m === 'maintenance').map(([r]) => r);
  return {
    info,
    stops: stopping.filter((r) => modeOf(r) !== 'maintenance'),
    alreadyStopped: stopping.filter((r) => modeOf(r) === 'maintenance'),
    readOnly: declared.filter(([r, m]) => m === 'read_only' && modeOf(r) === 'full').map(([r]) => r),
  };
}

/**
 * Starts a maintenance now. Taking roles into maintenance is not done by accident: it refuses
 * unless each role it stops is already in maintenance, or the caller confirms with this
 * instance's name (as `heroku … --confirm app-name`).
 */
export async function runNow(deps: Deps, command: Command, id: number, body: unknown) {
  const now = deps.clock.now();
  const { config } = deps;
  const input = parseInput(writeSchemas(config, now).runMaintenance, body, 'maintenance.invalid_input');
  return inTransaction(deps, command, now, async (w) => {
    const row = await lockMaintenance(w, id);
    if (row.state !== 'scheduled') throw notScheduled(row, 'run');
    const { stops } = await runEffects(w.db, deps, now, row);
    if (stops.length > 0 && input.confirm !== config.name) {
      throw new AppError(
        'maintenance.confirmation_required',
        `Running maintenance ${id} now puts ${stops.join(' and ')} into maintenance, refusing requests. Put ${stops.length > 1 ? 'them' : 'it'} in maintenance first, or confirm with the instance name: {"confirm": "${config.name}"} (CLI: --confirm ${config.name}).`,
      );
    }
    const marked = await q.updateIncident(w.db, id, { schedule_method: 'run' });
    const { incident } = await appendUpdate(w, marked, { state: 'in_progress', message: input.message ?? 'Maintenance has started.' });
    return maintenanceInfo(w.db, now, incident);
  }, { cause: `maintenance ${id} run by ${command.actor.name}` });
}

export async function cancel(deps: Deps, command: Command, id: number, body: unknown) {
  const now = deps.clock.now();
  const input = parseInput(writeSchemas(deps.config, now).cancelMaintenance, body, 'maintenance.invalid_input');
  return inTransaction(deps, command, now, async (w) => {
    const row = await lockMaintenance(w, id);
    if (row.state === 'completed') throw new AppError('maintenance.already_completed', `Maintenance ${id} is already completed.`);
    if (row.state === 'cancelled') throw new AppError('maintenance.already_cancelled', `Maintenance ${id} is already cancelled.`);
    const message = input.message ?? (row.state === 'scheduled' ? 'This maintenance has been cancelled.' : 'This maintenance was stopped before it completed.');
    const { incident } = await appendUpdate(w, row, { state: 'cancelled', message });
    return maintenanceInfo(w.db, now, incident);
  }, { cause: `maintenance ${id} cancelled by ${command.actor.name}` });
}

/** One maintenance as the API answers it (/api/v1/maintenances); the CLI reads it with this type. */
export type MaintenanceInfo = Awaited<ReturnType<typeof maintenanceInfo>>;

/** What `maintenances:info` shows, as Heroku's data maintenance info does. */
export async function maintenanceInfo(db: Db, now: Date, row: IncidentRow) {
  const kept = await mq.findWindow(db);
  const window = kept ? windowOfRow(kept) : undefined;
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
    window: window ? describeWindow(window) : null,
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
