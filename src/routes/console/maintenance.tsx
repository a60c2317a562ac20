import { Hono, type Context } from 'hono';
import * as q from '../../db/queries/incidents.ts';
import * as mq from '../../db/queries/maintenance.ts';
import type { IncidentRow } from '../../db/schema.ts';
import { AppError } from '../../errors.ts';
import { DAYS, describeWindow, nextWindowStart, type Window } from '../../domain/windows.ts';
import type { Deps } from '../../services/deps.ts';
import * as maintenance from '../../services/maintenance.ts';
import { writeSchemas } from '../../services/schemas.ts';
import { requireScope } from '../../services/tokens.ts';
import type { Errors } from '../../../templates/console/forms.tsx';
import { CancelConfirmPage, ReschedulePage, RunConfirmPage } from '../../../templates/console/maintenance-actions.tsx';
import {
  MaintenancePage,
  type MaintenanceForms,
  type MaintenanceVM,
  type RescheduleValues,
  type ScheduleValues,
  type WindowValues,
} from '../../../templates/console/maintenance-page.tsx';
import { idParam } from '../http.ts';
import { attempt, consoleMeta, formCommand, list, newFormKey, optional, page, readForm, seeOther, text, utcInput, validate, type Form } from './kit.ts';
import type { ConsoleEnv } from './session.ts';

type Info = Awaited<ReturnType<typeof maintenance.maintenanceInfo>>;
type Status = 200 | 400 | 403 | 404 | 409 | 422;
const HOUR = 3_600_000;

/** A number of hours typed into a form: blank is "not given" (undefined), text that is no number is NaN. */
function hoursInput(s: string): number | undefined {
  const t = s.trim();
  if (t === '') return undefined;
  return /^\d+(\.\d+)?$/.test(t) ? Number(t) : NaN;
}

const checked = (form: Form, name: string) => text(form, name) !== '';
const planOf = (form: Form): 'time' | 'deadline' => (text(form, 'plan') === 'deadline' ? 'deadline' : 'time');

/** "environments.1" is a problem of one checkbox; it is shown beside the group. */
function foldEnvironmentErrors(errors: Errors): Errors {
  const out: Record<string, string[]> = {};
  for (const [key, messages] of Object.entries(errors)) (out[/^environments\.\d+$/.test(key) ? 'environments' : key] ??= []).push(...messages);
  return out;
}

function scheduleValues(form: Form, roles: readonly string[]): ScheduleValues {
  return {
    title: text(form, 'title'),
    message: text(form, 'message'),
    environments: list(form, 'environments'),
    modes: Object.fromEntries(roles.map((r) => [r, text(form, `modes.${r}`) || 'full'])),
    plan: planOf(form),
    scheduled_for: text(form, 'scheduled_for'),
    scheduled_until: text(form, 'scheduled_until'),
    duration: text(form, 'duration'),
    required_by: text(form, 'required_by'),
    auto_start: checked(form, 'auto_start'),
    auto_complete: checked(form, 'auto_complete'),
    notify: checked(form, 'notify'),
  };
}

/**
 * The API's body for what the form says. Only the chosen plan's fields are sent; roles left
 * "full" are left out (the maintenance does not touch them). A duration is the console's
 * shorthand for an end, so its problems are the console's own.
 */
function scheduleBody(v: ScheduleValues): { body: Record<string, unknown>; errors: Errors } {
  const modes = Object.fromEntries(Object.entries(v.modes).filter(([, m]) => m !== 'full'));
  const body: Record<string, unknown> = {
    title: v.title,
    message: v.message,
    environments: v.environments,
    modes: Object.keys(modes).length > 0 ? modes : undefined,
    auto_start: v.auto_start,
    auto_complete: v.auto_complete,
    ...(v.notify ? {} : { notify: false }),
  };
  if (v.plan === 'deadline') return { body: { ...body, required_by: utcInput(v.required_by) }, errors: {} };
  const start = utcInput(v.scheduled_for);
  let end = utcInput(v.scheduled_until);
  const errors: Record<string, string[]> = {};
  const hours = hoursInput(v.duration);
  if (hours !== undefined) {
    if (Number.isNaN(hours) || hours <= 0) errors.duration = ['must be a number of hours greater than 0'];
    else if (end !== undefined) errors.duration = ['give either an end or a duration, not both'];
    else if (start !== undefined && !Number.isNaN(Date.parse(start))) end = new Date(Date.parse(start) + hours * HOUR).toISOString();
  }
  return { body: { ...body, scheduled_for: start, scheduled_until: end }, errors };
}

function rescheduleValues(form: Form): RescheduleValues {
  return {
    plan: planOf(form),
    scheduled_for: text(form, 'scheduled_for'),
    scheduled_until: text(form, 'scheduled_until'),
    required_by: text(form, 'required_by'),
    auto_start: checked(form, 'auto_start'),
    auto_complete: checked(form, 'auto_complete'),
  };
}

function rescheduleBody(v: RescheduleValues): Record<string, unknown> {
  const plan = v.plan === 'deadline' ? { required_by: utcInput(v.required_by) } : { scheduled_for: utcInput(v.scheduled_for), scheduled_until: utcInput(v.scheduled_until) };
  return { ...plan, auto_start: v.auto_start, auto_complete: v.auto_complete };
}

const windowValuesOf = (w: Window): WindowValues => ({
  day: DAYS[w.day]!,
  time: `${String(Math.floor(w.minute / 60)).padStart(2, '0')}:${String(w.minute % 60).padStart(2, '0')}`,
  duration_hours: String(w.durationMinutes / 60),
});

const emptySchedule: ScheduleValues = {
  title: '',
  message: '',
  environments: [],
  modes: {},
  plan: 'time',
  scheduled_for: '',
  scheduled_until: '',
  duration: '',
  required_by: '',
  auto_start: true,
  auto_complete: true,
  notify: true,
};

/** /console/maintenance: the weekly window and planned maintenance, as the API's /maintenance* routes. */
export function consoleMaintenance(deps: Deps) {
  const { db, config, clock } = deps;
  const app = new Hono<ConsoleEnv>();
  /** A maintenance as the console shows it, environments by their names (retired ones too). */
  const vm = (c: Context<ConsoleEnv>, i: Info): MaintenanceVM => {
    const live = c.get('config');
    const names = new Map([...(live.retired ?? []), ...live.environments].map((e) => [e.slug, e.name]));
    return {
      id: i.id,
      title: i.title,
      status: i.status,
      scheduledFor: i.scheduled_for,
      scheduledUntil: i.scheduled_until,
      requiredBy: i.required_by,
      method: i.method,
      autoStart: i.auto_start,
      autoComplete: i.auto_complete,
      environments: i.environments.map((slug) => names.get(slug) ?? slug),
      modes: Object.entries(i.modes)
        .filter(([, mode]) => mode !== 'full')
        .map(([role, mode]) => ({ role, mode })),
      startedAt: i.started_at,
      completedAt: i.completed_at,
      cancelledAt: i.cancelled_at,
      duration: i.duration,
    };
  };

  async function findMaintenance(c: Context<ConsoleEnv>): Promise<IncidentRow> {
    const id = idParam(c, 'id', 'Maintenance');
    const row = await q.findIncident(db, id);
    if (!row || row.kind !== 'maintenance') throw new AppError('maintenance.not_found', `Maintenance ${id} was not found.`);
    return row;
  }

  async function overview(c: Context<ConsoleEnv>, forms: Partial<MaintenanceForms> = {}, status: Status = 200) {
    const now = clock.now();
    const window = await maintenance.currentWindow(deps);
    const [openRows, allRows] = await Promise.all([mq.listMaintenance(db, { limit: 100, state: 'open' }), mq.listMaintenance(db, { limit: 100 })]);
    const finished = allRows
      .filter((r) => r.resolved_at !== null)
      .sort((a, b) => b.resolved_at!.getTime() - a.resolved_at!.getTime())
      .slice(0, 10);
    // soonest first: the one to act on next is at the top
    const upcoming = [...openRows].sort((a, b) => (a.scheduled_for?.getTime() ?? Infinity) - (b.scheduled_for?.getTime() ?? Infinity));
    const [open, recent] = await Promise.all([
      Promise.all(upcoming.map((r) => maintenance.maintenanceInfo(db, now, r).then((i) => vm(c, i)))),
      Promise.all(finished.map((r) => maintenance.maintenanceInfo(db, now, r).then((i) => vm(c, i)))),
    ]);
    const allForms: MaintenanceForms = {
      window: forms.window ?? { values: windowValuesOf(window), errors: {} },
      schedule: forms.schedule ?? { values: emptySchedule, errors: {}, formKey: newFormKey() },
    };
    return page(
      c,
      <MaintenancePage
        meta={consoleMeta(c, deps, 'maintenance')}
        window={{ description: describeWindow(window), next: nextWindowStart(window, now).toISOString() }}
        open={open}
        recent={recent}
        environments={c.get('config').environments}
        roles={config.roles}
        days={DAYS}
        forms={allForms}
      />,
      status,
    );
  }

  app.get('/', (c) => overview(c));

  app.post('/window', async (c) => {
    const actor = c.get('actor');
    requireScope(actor, 'maintenance:write');
    const now = clock.now();
    const form = await readForm(c);
    const values: WindowValues = { day: text(form, 'day'), time: text(form, 'time'), duration_hours: text(form, 'duration_hours') };
    // Text that is no number is refused here, in the schema's words: the schema sees only numbers.
    const hours = hoursInput(values.duration_hours);
    const own: Errors = Number.isNaN(hours) ? { duration_hours: ['must be a number of hours'] } : {};
    const input = { day: values.day, time: values.time, duration_hours: Number.isNaN(hours) ? undefined : hours };
    if (Object.keys(own).length > 0) {
      // nothing is written; the other fields' problems are shown beside this one's
      const parsed = validate(writeSchemas(config, now).window, input);
      return overview(c, { window: { values, errors: { ...(parsed.ok ? {} : parsed.errors), ...own } } }, 400);
    }
    const done = await attempt(() => maintenance.setWindow(deps, { actor }, input));
    if (!done.ok) return overview(c, { window: { values, errors: done.errors } }, done.status);
    return seeOther(c, '/console/maintenance?done=window');
  });

  app.post('/', async (c) => {
    const actor = c.get('actor');
    requireScope(actor, 'maintenance:write');
    const now = clock.now();
    const form = await readForm(c);
    const values = scheduleValues(form, config.roles);
    const { body, errors: own } = scheduleBody(values);
    const again = (errors: Errors, status: Status) => overview(c, { schedule: { values, errors: foldEnvironmentErrors(errors), formKey: newFormKey() } }, status);
    if (Object.keys(own).length > 0) {
      // nothing is written; the other fields' problems are shown beside these
      const parsed = validate(writeSchemas(config, now).createMaintenance, body);
      return again({ ...(parsed.ok ? {} : parsed.errors), ...own }, 400);
    }
    const done = await attempt(async () => maintenance.scheduleMaintenance(deps, await formCommand(c, form), body));
    if (!done.ok) return again(done.errors, done.status);
    return seeOther(c, `/console/maintenance?done=scheduled#m-${done.value.value.id}`);
  });

  app.post('/:id/reschedule', async (c) => {
    const actor = c.get('actor');
    requireScope(actor, 'maintenance:write');
    const row = await findMaintenance(c);
    const now = clock.now();
    const form = await readForm(c);
    const values = rescheduleValues(form);
    const again = async (errors: Errors, status: Status) => {
      const [info, window] = await Promise.all([maintenance.maintenanceInfo(db, now, row), maintenance.currentWindow(deps)]);
      return page(c, <ReschedulePage meta={consoleMeta(c, deps, 'maintenance')} m={vm(c, info)} values={values} errors={errors} windowDescription={describeWindow(window)} />, status);
    };
    const done = await attempt(() => maintenance.reschedule(deps, { actor }, row.id, rescheduleBody(values)));
    if (!done.ok) return again(done.errors, done.status);
    return seeOther(c, `/console/maintenance?done=rescheduled#m-${row.id}`);
  });

  app.post('/:id/cancel', async (c) => {
    const actor = c.get('actor');
    requireScope(actor, 'maintenance:write');
    const row = await findMaintenance(c);
    const now = clock.now();
    const form = await readForm(c);
    const message = text(form, 'message');
    const show = async (errors: Errors, status: Status) =>
      page(c, <CancelConfirmPage meta={consoleMeta(c, deps, 'maintenance')} m={vm(c, await maintenance.maintenanceInfo(db, now, row))} message={message} errors={errors} formKey={newFormKey()} />, status);

    const parsed = validate(writeSchemas(config, now).cancelMaintenance, { message: optional(message) });
    if (!parsed.ok) return show(parsed.errors, 400);
    if (text(form, 'intent') !== 'confirm') {
      // Checked here only: a repeated confirmation must reach the use case, whose idempotency key answers it.
      if (row.resolved_at !== null) throw new AppError(row.state === 'completed' ? 'maintenance.already_completed' : 'maintenance.already_cancelled', `Maintenance ${row.id} is already ${row.state}.`);
      return show({}, 200);
    }
    const done = await attempt(async () => maintenance.cancel(deps, await formCommand(c, form), row.id, parsed.value));
    if (!done.ok) return show(done.errors, done.status);
    return seeOther(c, `/console/maintenance?done=cancelled#m-${row.id}`);
  });

  app.post('/:id/run', async (c) => {
    const actor = c.get('actor');
    requireScope(actor, 'maintenance:write');
    const row = await findMaintenance(c);
    const now = clock.now();
    const form = await readForm(c);
    const values = { confirm: text(form, 'confirm'), message: text(form, 'message') };
    const effects = await maintenance.runEffects(db, deps, now, row);
    const show = (errors: Errors, status: Status) =>
      page(
        c,
        <RunConfirmPage
          meta={consoleMeta(c, deps, 'maintenance')}
          m={vm(c, effects.info)}
          stops={effects.stops}
          alreadyStopped={effects.alreadyStopped}
          readOnly={effects.readOnly}
          instanceName={config.name}
          values={values}
          errors={errors}
          formKey={newFormKey()}
        />,
        status,
      );

    const parsed = validate(writeSchemas(config, now).runMaintenance, { confirm: optional(values.confirm.trim()), message: optional(values.message) });
    if (!parsed.ok) return show(parsed.errors, 400);
    if (text(form, 'intent') !== 'confirm') {
      if (row.state !== 'scheduled') throw new AppError('maintenance.not_scheduled', `Maintenance ${row.id} is ${row.state}; only a scheduled maintenance can be run.`);
      return show({}, 200);
    }
    // runNow refuses this too; saying it here puts the problem beside the field, in the console's words
    if (effects.stops.length > 0 && parsed.value.confirm !== config.name) {
      const problem = parsed.value.confirm === undefined ? `type the instance name, ${config.name}, to confirm` : `does not match; type the instance name, ${config.name}`;
      return show({ confirm: [problem] }, 400);
    }
    const done = await attempt(async () => maintenance.runNow(deps, await formCommand(c, form), row.id, parsed.value));
    if (!done.ok) return show(done.errors, done.status);
    return seeOther(c, `/console/maintenance?done=started#m-${row.id}`);
  });

  return app;
}
