import type { Child } from 'hono/jsx';
import { Time } from '../layout.tsx';
import { MODE_WORDS, stateWords } from '../format.ts';
import type { ConsoleMeta } from '../view.ts';
import { ConsoleLayout } from './layout.tsx';
import { ButtonForm, Choices, ErrorSummary, FormGuard, NotifyBox, Select, TextArea, TextInput, type Errors } from './forms.tsx';


export interface WindowVM {
  /** "Sundays 14:30 UTC for 4 hours" */
  readonly description: string;
  readonly next: string;
}

/** One maintenance as `maintenances:info` describes it, environments by display name. */
export interface MaintenanceVM {
  readonly id: number;
  readonly title: string;
  readonly status: string;
  readonly scheduledFor: string | null;
  readonly scheduledUntil: string | null;
  readonly requiredBy: string | null;
  readonly method: string | null;
  readonly autoStart: boolean;
  readonly autoComplete: boolean;
  readonly environments: readonly string[];
  readonly modes: readonly { readonly role: string; readonly mode: string }[];
  readonly startedAt: string | null;
  readonly completedAt: string | null;
  readonly cancelledAt: string | null;
  readonly duration: string | null;
}

export interface WindowValues {
  readonly day: string;
  readonly time: string;
  readonly duration_hours: string;
}

export interface ScheduleValues {
  readonly title: string;
  readonly message: string;
  readonly environments: readonly string[];
  /** Per role; "full" means the maintenance leaves the role alone. */
  readonly modes: Readonly<Record<string, string>>;
  readonly plan: 'time' | 'deadline';
  readonly scheduled_for: string;
  readonly scheduled_until: string;
  readonly duration: string;
  readonly required_by: string;
  readonly auto_start: boolean;
  readonly auto_complete: boolean;
  /** Send the announcement to subscribers (webhooks). */
  readonly notify: boolean;
}

export interface RescheduleValues {
  readonly plan: 'time' | 'deadline';
  readonly scheduled_for: string;
  readonly scheduled_until: string;
  readonly required_by: string;
  readonly auto_start: boolean;
  readonly auto_complete: boolean;
}

/** The page's forms: what each holds, its problems, and the idempotency key of the schedule form. */
export interface MaintenanceForms {
  readonly window: { readonly values: WindowValues; readonly errors: Errors };
  readonly schedule: { readonly values: ScheduleValues; readonly errors: Errors; readonly formKey: string };
}

const METHOD_WORDS: Readonly<Record<string, string>> = {
  explicit: 'at a time set by hand',
  window: 'in the last weekly window before its deadline',
  run: 'run by hand',
};

const MODE_OPTIONS = [
  ['full', 'Full (left alone)'],
  ['read_only', 'Read-only'],
  ['maintenance', 'Maintenance'],
] as const;

const PLAN_OPTIONS = [
  ['time', 'At a time I choose'],
  ['deadline', 'By a deadline: Herald picks the last window before it'],
] as const;

const SCHEDULE_LABELS: Readonly<Record<string, string>> = {
  title: 'Title',
  message: 'Message',
  environments: 'Environments',
  plan: 'Plan',
  scheduled_for: 'Start (UTC)',
  scheduled_until: 'End (UTC)',
  duration: 'Duration in hours',
  required_by: 'Deadline (UTC)',
};
const WINDOW_LABELS: Readonly<Record<string, string>> = { day: 'Day', time: 'Start time (UTC)', duration_hours: 'Length in hours' };
export const RESCHEDULE_LABELS: Readonly<Record<string, string>> = { plan: 'Plan', scheduled_for: 'Start (UTC)', scheduled_until: 'End (UTC)', required_by: 'Deadline (UTC)' };

const when = (iso: string | null, now: string) => (iso ? <Time iso={iso} now={now} /> : <span class="muted">—</span>);

export function Facts({ m, now }: { m: MaintenanceVM; now: string }) {
  const rows: [string, Child][] = [
    ['Status', stateWords(m.status)],
    ['Scheduled for', when(m.scheduledFor, now)],
    ['Scheduled until', when(m.scheduledUntil, now)],
    ...(m.requiredBy ? [['Required by', when(m.requiredBy, now)] as [string, Child]] : []),
    ...(m.method ? [['How it was scheduled', METHOD_WORDS[m.method] ?? m.method] as [string, Child]] : []),
    ['Environments', m.environments.length ? m.environments.join(', ') : 'none'],
    ['Modes while it runs', m.modes.length ? m.modes.map((x) => `${x.role} ${MODE_WORDS[x.mode] ?? x.mode}`).join(', ') : 'none (every role stays fully available)'],
    ['Starts and completes', `${m.autoStart ? 'starts automatically' : 'started by hand'}; ${m.autoComplete ? 'completes automatically' : 'completed by hand'}`],
    ['Started', when(m.startedAt, now)],
  ];
  if (m.completedAt) rows.push(['Completed', when(m.completedAt, now)]);
  if (m.cancelledAt) rows.push(['Cancelled', when(m.cancelledAt, now)]);
  if (m.duration) rows.push(['Duration', m.duration]);
  return (
    <table>
      <tbody>
        {rows.map(([label, value]) => (
          <tr>
            <th scope="row">{label}</th>
            <td>{value}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** Compact reschedule form of one maintenance; its ids carry the maintenance's id so many fit on a page. */
function CompactReschedule({ m, csrf }: { m: MaintenanceVM; csrf: string }) {
  const id = (name: string) => `m${m.id}-${name}`;
  const byDeadline = m.method === 'window';
  return (
    <details class="more">
      <summary>Reschedule</summary>
      <form method="post" action={`/console/maintenance/${m.id}/reschedule`} class="stack">
        <FormGuard csrf={csrf} />
        <fieldset>
          <legend>Plan</legend>
          <div class="choices">
            {PLAN_OPTIONS.map(([value, label]) => (
              <label>
                <input type="radio" name="plan" value={value} checked={(value === 'deadline') === byDeadline} />
                {label}
              </label>
            ))}
          </div>
        </fieldset>
        <div class="grid2">
          <div class="field">
            <label for={id('scheduled_for')}>Start (UTC)</label>
            <input type="datetime-local" id={id('scheduled_for')} name="scheduled_for" value={localValue(m.scheduledFor)} />
          </div>
          <div class="field">
            <label for={id('scheduled_until')}>End (UTC)</label>
            <input type="datetime-local" id={id('scheduled_until')} name="scheduled_until" value={localValue(m.scheduledUntil)} />
          </div>
          <div class="field">
            <label for={id('required_by')}>Deadline (UTC)</label>
            <input type="datetime-local" id={id('required_by')} name="required_by" value={localValue(m.requiredBy)} />
          </div>
        </div>
        <AutoBoxes autoStart={m.autoStart} autoComplete={m.autoComplete} idPrefix={`m${m.id}-`} />
        <div class="actions">
          <button type="submit">Reschedule</button>
        </div>
      </form>
    </details>
  );
}

/** An ISO instant as the value of a datetime-local field, read as UTC (see kit.utcInput). */
const localValue = (iso: string | null) => (iso ? iso.slice(0, 16) : '');

export function AutoBoxes(props: { autoStart: boolean; autoComplete: boolean; idPrefix: string }) {
  return (
    <fieldset id={`${props.idPrefix}auto`}>
      <legend>Scheduler</legend>
      <div class="choices">
        <label>
          <input type="checkbox" name="auto_start" value="true" checked={props.autoStart} />
          Start it automatically at the start time
        </label>
        <label>
          <input type="checkbox" name="auto_complete" value="true" checked={props.autoComplete} />
          Complete it automatically at the end time
        </label>
      </div>
    </fieldset>
  );
}

function MaintenanceItem({ m, meta }: { m: MaintenanceVM; meta: ConsoleMeta }) {
  return (
    <article id={`m-${m.id}`} aria-labelledby={`m-${m.id}-title`}>
      <h3 id={`m-${m.id}-title`}>
        #{m.id} <a href={`/console/incidents/${m.id}`}>{m.title}</a>
      </h3>
      <Facts m={m} now={meta.page.now} />
      <p>
        <a href={`/console/incidents/${m.id}`}>Timeline and updates</a> · <a href={`/incidents/${m.id}`}>Public page</a>
      </p>
      {meta.can.maintenance && (
        <>
          {m.status === 'scheduled' && <CompactReschedule m={m} csrf={meta.csrf} />}
          <div class="actions">
            {m.status === 'scheduled' && <ButtonForm action={`/console/maintenance/${m.id}/run`} csrf={meta.csrf} label="Run now…" hidden={{ intent: 'review' }} />}
            <ButtonForm action={`/console/maintenance/${m.id}/cancel`} csrf={meta.csrf} label={m.status === 'scheduled' ? 'Cancel…' : 'Stop and cancel…'} class="secondary" hidden={{ intent: 'review' }} />
          </div>
        </>
      )}
    </article>
  );
}

function WindowSection({ meta, window, form, days }: { meta: ConsoleMeta; window: WindowVM; form: MaintenanceForms['window']; days: readonly string[] }) {
  return (
    <section aria-labelledby="window-title">
      <h2 id="window-title">Weekly window</h2>
      <p>
        {window.description}. Next: <Time iso={window.next} now={meta.page.now} />
      </p>
      {meta.can.maintenance && (
        <details class="more" open={Object.keys(form.errors).length > 0}>
          <summary>Change the window</summary>
          <form method="post" action="/console/maintenance/window" class="stack">
            <FormGuard csrf={meta.csrf} />
            <div class="grid2">
              <Select name="day" label="Day" value={form.values.day} options={days.map((d) => [d, d] as const)} errors={form.errors} />
              <TextInput name="time" label="Start time (UTC)" type="time" value={form.values.time} hint="HH:MM" errors={form.errors} />
              <TextInput name="duration_hours" label="Length in hours" inputmode="decimal" value={form.values.duration_hours} hint="Blank: 4 hours" errors={form.errors} />
            </div>
            <div class="actions">
              <button type="submit">Save the window</button>
            </div>
          </form>
        </details>
      )}
    </section>
  );
}

function ScheduleForm(props: { meta: ConsoleMeta; form: MaintenanceForms['schedule']; environments: readonly { slug: string; name: string }[]; roles: readonly string[]; windowDescription: string }) {
  const { meta, form } = props;
  const { values, errors } = form;
  return (
    <section aria-labelledby="schedule-title">
      <h2 id="schedule-title">Schedule maintenance</h2>
      <form method="post" action="/console/maintenance" class="stack">
        <FormGuard csrf={meta.csrf} formKey={form.formKey} />
        <TextInput name="title" label="Title" value={values.title} required errors={errors} />
        <TextArea name="message" label="Message" value={values.message} rows={4} required hint="Markdown. Shown on the status page when it is announced." errors={errors} />
        <Choices name="environments" label="Environments" multiple values={values.environments} options={props.environments.map((e) => [e.slug, e.name] as const)} hint="Shown as under maintenance while it runs." errors={errors} />
        <fieldset>
          <legend>Modes while it runs</legend>
          <div class="grid2">
            {props.roles.map((role) => (
              <Select name={`modes.${role}`} label={role} value={values.modes[role] ?? 'full'} options={MODE_OPTIONS} errors={errors} />
            ))}
          </div>
        </fieldset>
        <PlanFields values={values} errors={errors} windowDescription={props.windowDescription} withDuration />
        <AutoBoxes autoStart={values.auto_start} autoComplete={values.auto_complete} idPrefix="new-" />
        <NotifyBox checked={values.notify} />
        <div class="actions">
          <button type="submit">Schedule maintenance</button>
        </div>
      </form>
    </section>
  );
}

/** The window, open maintenance with their actions, the schedule form, and recent past ones. */
export function MaintenancePage(props: {
  meta: ConsoleMeta;
  window: WindowVM;
  open: readonly MaintenanceVM[];
  recent: readonly MaintenanceVM[];
  environments: readonly { slug: string; name: string }[];
  roles: readonly string[];
  /** Day names, Sunday first, for the window's day. */
  days: readonly string[];
  forms: MaintenanceForms;
}) {
  const { meta, forms } = props;
  return (
    <ConsoleLayout meta={meta} title="Maintenance" wide>
      <h1>Maintenance</h1>
      <ErrorSummary errors={{ ...forms.window.errors, ...forms.schedule.errors }} labels={{ ...WINDOW_LABELS, ...SCHEDULE_LABELS, ...modeLabels(props.roles) }} />
      {!meta.can.maintenance && <p class="notice">Your token lacks the maintenance:write scope, so you can look but not schedule or change maintenance.</p>}
      <div class="split">
        <div>
          <section aria-labelledby="open-title">
            <h2 id="open-title">Scheduled and running</h2>
            {props.open.length === 0 ? (
              <p class="muted">No maintenance is scheduled or running.</p>
            ) : (
              props.open.map((m) => <MaintenanceItem m={m} meta={meta} />)
            )}
          </section>
          {meta.can.maintenance && <ScheduleForm meta={meta} form={forms.schedule} environments={props.environments} roles={props.roles} windowDescription={props.window.description} />}
        </div>
        <div>
          <WindowSection meta={meta} window={props.window} form={forms.window} days={props.days} />
          <section aria-labelledby="recent-title">
            <h2 id="recent-title">Recently finished</h2>
            {props.recent.length === 0 ? (
              <p class="muted">None yet.</p>
            ) : (
              <ul>
                {props.recent.map((m) => (
                  <li>
                    <a href={`/incidents/${m.id}`}>{m.title}</a>: {stateWords(m.status)}
                    {(m.completedAt ?? m.cancelledAt) && (
                      <>
                        {' '}
                        <Time iso={(m.completedAt ?? m.cancelledAt)!} now={meta.page.now} />
                      </>
                    )}
                    {m.duration && <> ({m.duration})</>}
                  </li>
                ))}
              </ul>
            )}
          </section>
        </div>
      </div>
    </ConsoleLayout>
  );
}

const modeLabels = (roles: readonly string[]) => Object.fromEntries(roles.map((r) => [`modes.${r}`, `Mode of ${r}`]));

/** When it runs: at a time (start, and an end or, for a new one, a duration) or by a deadline. */
export function PlanFields(props: { values: RescheduleValues & { duration?: string }; errors: Errors; windowDescription: string; withDuration?: boolean }) {
  const { values, errors } = props;
  return (
    <>
      <Choices name="plan" label="Plan" values={[values.plan]} options={PLAN_OPTIONS} errors={errors} />
      <fieldset>
        <legend>At a time</legend>
        {props.withDuration && <p class="hint">Give an end or a duration; with neither it lasts as long as the window.</p>}
        <div class="grid2">
          <TextInput name="scheduled_for" label="Start (UTC)" type="datetime-local" value={values.scheduled_for} errors={errors} />
          <TextInput name="scheduled_until" label="End (UTC)" type="datetime-local" value={values.scheduled_until} errors={errors} />
          {props.withDuration && <TextInput name="duration" label="Duration in hours" inputmode="decimal" value={values.duration ?? ''} errors={errors} />}
        </div>
      </fieldset>
      <fieldset>
        <legend>By a deadline</legend>
        <TextInput name="required_by" label="Deadline (UTC)" type="datetime-local" value={values.required_by} hint={`The window is ${props.windowDescription}.`} errors={errors} />
      </fieldset>
    </>
  );
}
