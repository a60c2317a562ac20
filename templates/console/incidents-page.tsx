import { stateWords } from '../format.ts';
import { Time } from '../layout.tsx';
import type { State } from '../../src/domain/vocabulary.ts';
import type { ConsoleMeta } from '../view.ts';
import { ConsoleLayout } from './layout.tsx';
import { ErrorSummary, FormGuard, TextInput, type Errors } from './forms.tsx';
import { Preview, UPDATE_LABELS, UpdateFields, type ChoicesVM, type UpdateFormVM } from './incident-forms.tsx';

export interface IncidentRowVM {
  readonly id: number;
  readonly kind: 'incident' | 'maintenance';
  readonly title: string;
  readonly state: State;
  readonly open: boolean;
  readonly startedAt: string;
  readonly resolvedAt: string | null;
  readonly updatedAt: string;
  /** "Production: Outage", "web: read-only" — what it declares now. */
  readonly impact: string;
  readonly postmortem: 'none' | 'draft' | 'published';
}

function IncidentTable({ rows, now, caption }: { rows: readonly IncidentRowVM[]; now: string; caption: string }) {
  return (
    <table>
      <caption class="sr-only">{caption}</caption>
      <thead>
        <tr>
          <th scope="col">Incident</th>
          <th scope="col">State</th>
          <th scope="col">Last update</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((r) => (
          <tr>
            <td>
              <a href={`/console/incidents/${r.id}`}>{r.title}</a>
              {r.kind === 'maintenance' ? <span class="muted"> (maintenance)</span> : null}
              {r.impact && <div class="muted">{r.impact}</div>}
            </td>
            <td>
              {stateWords(r.state)}
              {r.postmortem !== 'none' && <div class="muted">postmortem {r.postmortem}</div>}
            </td>
            <td>
              <Time iso={r.updatedAt} now={now} />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** Open incidents first (what a commander is here for), then the most recent closed ones. */
export function IncidentsPage(props: { meta: ConsoleMeta; open: readonly IncidentRowVM[]; closed: readonly IncidentRowVM[]; older: string | null; newer: string | null }) {
  const { meta } = props;
  return (
    <ConsoleLayout meta={meta} title="Incidents">
      <div class="actions">
        <h1>Incidents</h1>
        {meta.can.incidents && (
          <a class="button" href="/console/incidents/new">
            Open an incident
          </a>
        )}
      </div>
      <h2>Open</h2>
      {props.open.length === 0 ? <p class="muted">No incident is open.</p> : <IncidentTable rows={props.open} now={meta.page.now} caption="Open incidents" />}
      <h2>Closed</h2>
      {props.closed.length === 0 ? <p class="muted">No closed incidents yet.</p> : <IncidentTable rows={props.closed} now={meta.page.now} caption="Closed incidents" />}
      {(props.older || props.newer) && (
        <nav class="pages" aria-label="Closed incidents pages">
          {props.newer ? <a href={props.newer}>← Newer</a> : <span />}
          {props.older ? <a href={props.older}>Older →</a> : <span />}
        </nav>
      )}
    </ConsoleLayout>
  );
}

export function NewIncidentPage(props: { meta: ConsoleMeta; title: string; form: UpdateFormVM; choices: ChoicesVM; errors: Errors; preview: string | null }) {
  const { meta, form, choices, errors } = props;
  return (
    <ConsoleLayout meta={meta} title="Open an incident">
      <p class="muted">
        <a href="/console/incidents">← Incidents</a>
      </p>
      <h1>Open an incident</h1>
      <ErrorSummary errors={errors} labels={UPDATE_LABELS(choices)} />
      <Preview html={props.preview} label="Preview of the first update" />
      <form method="post" action="/console/incidents" class="stack">
        <FormGuard csrf={meta.csrf} formKey={form.key} />
        <TextInput name="title" label="Title" value={props.title} required hint="What users are affected by, e.g. “Elevated API error rates”." errors={errors} />
        <UpdateFields form={form} choices={choices} errors={errors} />
        <div class="actions">
          <button type="submit" name="intent" value="post">
            Open incident
          </button>
          <button type="submit" name="intent" value="preview" class="secondary">
            Preview
          </button>
        </div>
      </form>
    </ConsoleLayout>
  );
}
