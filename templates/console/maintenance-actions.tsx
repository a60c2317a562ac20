import type { ConsoleMeta } from '../view.ts';
import { ConsoleLayout } from './layout.tsx';
import { ErrorSummary, FormGuard, TextArea, TextInput, type Errors } from './forms.tsx';
import { refusalWords } from './platform-page.tsx';
import { AutoBoxes, Facts, PlanFields, RESCHEDULE_LABELS, type MaintenanceVM, type RescheduleValues } from './maintenance-page.tsx';

/** The pages of one maintenance's actions: reschedule it, and confirm cancelling or running it. */

/** The reschedule form of one maintenance, alone, shown again with its problems. */
export function ReschedulePage(props: { meta: ConsoleMeta; m: MaintenanceVM; values: RescheduleValues; errors: Errors; windowDescription: string }) {
  const { meta, m, values, errors } = props;
  return (
    <ConsoleLayout meta={meta} title={`Reschedule ${m.title}`}>
      <h1>Reschedule #{m.id} {m.title}</h1>
      <ErrorSummary errors={errors} labels={RESCHEDULE_LABELS} />
      <Facts m={m} now={meta.page.now} />
      <form method="post" action={`/console/maintenance/${m.id}/reschedule`} class="stack">
        <FormGuard csrf={meta.csrf} />
        <PlanFields values={values} errors={errors} windowDescription={props.windowDescription} />
        <AutoBoxes autoStart={values.auto_start} autoComplete={values.auto_complete} idPrefix="" />
        <div class="actions">
          <button type="submit">Reschedule</button>
          <a href="/console/maintenance">Cancel</a>
        </div>
      </form>
    </ConsoleLayout>
  );
}

/** Nothing is written yet: cancelling (or stopping) asks first, with an optional message. */
export function CancelConfirmPage(props: { meta: ConsoleMeta; m: MaintenanceVM; message: string; errors: Errors; formKey: string }) {
  const { meta, m, errors } = props;
  const scheduled = m.status === 'scheduled';
  return (
    <ConsoleLayout meta={meta} title={`Cancel ${m.title}`}>
      <h1>
        {scheduled ? 'Cancel' : 'Stop and cancel'} #{m.id} {m.title}?
      </h1>
      <ErrorSummary errors={errors} labels={{ message: 'Message' }} />
      <Facts m={m} now={meta.page.now} />
      <p class="notice">
        {scheduled
          ? 'It will not run. The status page shows it as cancelled.'
          : 'It ends now, before it completed: the modes and statuses it declared are lifted, and the status page shows it as cancelled.'}
      </p>
      <form method="post" action={`/console/maintenance/${m.id}/cancel`} class="stack">
        <FormGuard csrf={meta.csrf} formKey={props.formKey} />
        <input type="hidden" name="intent" value="confirm" />
        <TextArea name="message" label="Message (optional)" value={props.message} rows={3} hint={scheduled ? 'Blank: "This maintenance has been cancelled."' : 'Blank: "This maintenance was stopped before it completed."'} errors={errors} />
        <div class="actions">
          <button type="submit" class="danger">
            Confirm: {scheduled ? 'cancel it' : 'stop and cancel it'}
          </button>
          <a href="/console/maintenance">Keep it</a>
        </div>
      </form>
    </ConsoleLayout>
  );
}

/**
 * Nothing is written yet: says which roles go into maintenance now. When any would be stopped the
 * commander types the instance's name, as `heroku … --confirm app-name`.
 */
export function RunConfirmPage(props: {
  meta: ConsoleMeta;
  m: MaintenanceVM;
  /** Roles it puts into maintenance that are not in maintenance already. */
  stops: readonly string[];
  /** Roles it declares maintenance for that already are. */
  alreadyStopped: readonly string[];
  readOnly: readonly string[];
  instanceName: string;
  values: { confirm: string; message: string };
  errors: Errors;
  formKey: string;
}) {
  const { meta, m, errors, stops } = props;
  return (
    <ConsoleLayout meta={meta} title={`Run ${m.title} now`}>
      <h1>
        Run #{m.id} {m.title} now?
      </h1>
      <ErrorSummary errors={errors} labels={{ confirm: 'Instance name', message: 'Message' }} />
      <Facts m={m} now={meta.page.now} />
      {stops.length > 0 ? (
        <div class="notice red">
          <p>
            Running it now puts {stops.join(' and ')} into maintenance now.
          </p>
          <ul>
            {stops.map((role) => (
              <li>{refusalWords(role, 'maintenance')}</li>
            ))}
          </ul>
        </div>
      ) : (
        <p class="notice">It puts no role into maintenance now{props.alreadyStopped.length > 0 ? ` (${props.alreadyStopped.join(' and ')} ${props.alreadyStopped.length > 1 ? 'are' : 'is'} in maintenance already)` : ''}.</p>
      )}
      {props.readOnly.length > 0 && (
        <ul>
          {props.readOnly.map((role) => (
            <li>{refusalWords(role, 'read_only')}</li>
          ))}
        </ul>
      )}
      {m.environments.length > 0 && <p>The status page shows {m.environments.join(' and ')} as under maintenance.</p>}
      <form method="post" action={`/console/maintenance/${m.id}/run`} class="stack">
        <FormGuard csrf={meta.csrf} formKey={props.formKey} />
        <input type="hidden" name="intent" value="confirm" />
        {stops.length > 0 && (
          <TextInput name="confirm" label="Instance name" value={props.values.confirm} required hint={`Type ${props.instanceName} to confirm.`} errors={errors} />
        )}
        <TextArea name="message" label="Message (optional)" value={props.values.message} rows={3} hint='Blank: "Maintenance has started."' errors={errors} />
        <div class="actions">
          <button type="submit" class={stops.length > 0 ? 'danger' : undefined}>
            Confirm: start it now
          </button>
          <a href="/console/maintenance">Cancel</a>
        </div>
      </form>
    </ConsoleLayout>
  );
}
