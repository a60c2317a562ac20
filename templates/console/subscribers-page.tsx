import { utc } from '../format.ts';
import type { ConsoleMeta } from '../view.ts';
import { ConsoleLayout } from './layout.tsx';
import { ErrorSummary, fieldId, FormGuard, TextArea, type Errors } from './forms.tsx';

/** An email subscriber as the console shows it (services/subscribers.ts's SubscriberView). */
export interface SubscriberVM {
  readonly id: number;
  readonly email: string;
  /** null: every component. */
  readonly components: readonly string[] | null;
  readonly state: 'pending' | 'confirmed' | 'bounced';
  readonly source: 'page' | 'import';
  readonly created_at: string;
  readonly confirmed_at: string | null;
  readonly bounced_at: string | null;
  readonly bounce_reason: string | null;
}

/** What the import form holds: what was pasted, and its problems. */
export interface ImportForm {
  readonly csv: string;
  readonly errors: Errors;
  readonly formKey: string;
}

const LABELS: Readonly<Record<string, string>> = { csv: 'CSV', file: 'CSV file' };

const componentsText = (s: SubscriberVM) => (s.components === null ? 'all' : s.components.join(', '));
const sourceText = (s: SubscriberVM) => (s.source === 'page' ? 'status page' : 'import');

function StateText({ s }: { s: SubscriberVM }) {
  if (s.state !== 'bounced') return <>{s.state}</>;
  return (
    <>
      bounced{s.bounced_at ? ` ${utc(s.bounced_at)}` : ''}
      {s.bounce_reason && <div class="muted">{s.bounce_reason}</div>}
    </>
  );
}

function SubscribersTable({ rows, csrf }: { rows: readonly SubscriberVM[]; csrf: string }) {
  if (rows.length === 0) return <p>No subscribers yet. People sign up on the status page’s /subscribe; a list can be imported below.</p>;
  return (
    <table class="subscribers">
      <thead>
        <tr>
          <th scope="col">ID</th>
          <th scope="col">Email</th>
          <th scope="col">State</th>
          <th scope="col">Components</th>
          <th scope="col">Source</th>
          <th scope="col">Created</th>
          <th scope="col">Confirmed</th>
          <th scope="col">Actions</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((s) => (
          <tr id={`subscriber-${s.id}`}>
            <td>#{s.id}</td>
            <td class="wrap">{s.email}</td>
            <td>
              <StateText s={s} />
            </td>
            <td class="wrap">{componentsText(s)}</td>
            <td>{sourceText(s)}</td>
            <td>{utc(s.created_at)}</td>
            <td>{s.confirmed_at ? utc(s.confirmed_at) : '—'}</td>
            <td>
              <form method="post" action={`/console/subscribers/${s.id}/remove`} class="inline">
                <FormGuard csrf={csrf} />
                <button type="submit" class="link" aria-label={`Remove ${s.email}`}>
                  Remove…
                </button>
              </form>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** The import form: CSV pasted, or a file chosen (multipart, so it works without JavaScript). */
function ImportSection({ form, csrf }: { form: ImportForm; csrf: string }) {
  const fileId = fieldId('file');
  const fileProblems = form.errors.file ?? [];
  return (
    <section aria-labelledby="import-title" id="import">
      <h2 id="import-title">Import a list</h2>
      <p class="muted">
        For a list moving from another status page: the addresses are taken as confirmed and sent no confirmation mail. Addresses already subscribed are counted and left as they are. All or
        nothing: if any row is wrong, nothing is imported and every problem is listed.
      </p>
      <ErrorSummary errors={form.errors} labels={LABELS} />
      <form method="post" action="/console/subscribers/import" enctype="multipart/form-data" class="stack">
        <FormGuard csrf={csrf} formKey={form.formKey} />
        <TextArea
          name="csv"
          label={LABELS.csv!}
          value={form.csv}
          rows={8}
          errors={form.errors}
          hint="A header row, then one address a row: email,components. Components are slugs separated by spaces; empty means every component. Rows are counted after the header row."
        />
        <div class="field">
          <label for={fileId}>{LABELS.file}</label>
          <p class="hint" id={`${fileId}-hint`}>
            Or choose a .csv file of the same shape (used instead of the text above).
          </p>
          {fileProblems.length > 0 && (
            <p class="field-error" id={`${fileId}-error`}>
              <span class="sr-only">Error: </span>
              {fileProblems.join('; ')}
            </p>
          )}
          <input type="file" id={fileId} name="file" accept=".csv,text/csv" aria-describedby={`${fileId}-hint`} />
        </div>
        <div class="actions">
          <button type="submit">Import</button>
        </div>
      </form>
    </section>
  );
}

export interface SubscribersPageProps {
  readonly meta: ConsoleMeta;
  readonly count: number;
  readonly confirmed: number;
  readonly subscribers: readonly SubscriberVM[];
  readonly importForm: ImportForm;
}

/** /console/subscribers: how many, the table, the CSV download, and the import form. */
export function SubscribersPage(props: SubscribersPageProps) {
  const { meta, count, confirmed } = props;
  return (
    <ConsoleLayout meta={meta} title="Subscribers" wide>
      <h1>Subscribers</h1>
      <p class="muted">People told by email of incidents and maintenance on the components they chose. Nothing is mailed to an address before it is confirmed.</p>
      <p id="subscriber-counts">
        {count} subscriber{count === 1 ? '' : 's'}, {confirmed} confirmed.
      </p>
      <p>
        <a href="/console/subscribers/export.csv" download="subscribers.csv">
          Download CSV
        </a>
      </p>
      <section aria-labelledby="list-title">
        <h2 id="list-title">Everyone</h2>
        <SubscribersTable rows={props.subscribers} csrf={meta.csrf} />
      </section>
      <ImportSection form={props.importForm} csrf={meta.csrf} />
    </ConsoleLayout>
  );
}

/** The first step of removing: what it means, and the button that does it. */
export function RemoveConfirmPage(props: { meta: ConsoleMeta; subscriber: SubscriberVM }) {
  const { meta, subscriber: s } = props;
  return (
    <ConsoleLayout meta={meta} title={`Remove subscriber #${s.id}?`}>
      <h1>Remove subscriber #{s.id}?</h1>
      <p class="wrap">
        {s.email} ({s.state}, {componentsText(s)}) will be sent nothing more, including any mail still queued, and the address is forgotten: the audit log keeps only that subscriber #{s.id} was
        removed, and by whom. This cannot be undone; they can subscribe again from the status page.
      </p>
      <form method="post" action={`/console/subscribers/${s.id}/remove`} class="stack">
        <FormGuard csrf={meta.csrf} />
        <input type="hidden" name="intent" value="confirm" />
        <div class="actions">
          <button type="submit" class="danger">
            Remove subscriber #{s.id}
          </button>
          <a class="button secondary" href="/console/subscribers">
            Cancel
          </a>
        </div>
      </form>
    </ConsoleLayout>
  );
}
