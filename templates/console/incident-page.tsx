import { raw } from 'hono/html';
import { MODE_WORDS, STATUS_WORDS, stateWords } from '../format.ts';
import { Scope } from '../components.tsx';
import { Time } from '../layout.tsx';
import type { ConsoleMeta, IncidentVM } from '../view.ts';
import { ConsoleLayout } from './layout.tsx';
import { ErrorSummary, FormGuard, NotifyBox, TextArea, TextInput, type Errors } from './forms.tsx';
import { Preview, UPDATE_LABELS, UpdateFields, type ChoicesVM, type UpdateFormVM } from './incident-forms.tsx';

/** Which of the page's forms a rejected submission belongs to, with its errors and typed values. */
export type Rejected =
  | { readonly form: 'update'; readonly errors: Errors }
  | { readonly form: 'resolve'; readonly errors: Errors; readonly message: string; readonly notify: boolean }
  | { readonly form: 'title'; readonly errors: Errors; readonly title: string }
  | { readonly form: 'hide'; readonly errors: Errors; readonly updateId: number; readonly reason: string };

export interface ConsoleIncidentVM {
  readonly incident: IncidentVM;
  readonly authors: Readonly<Record<number, string>>;
  readonly choices: ChoicesVM;
  readonly update: UpdateFormVM;
  /** Idempotency key of the resolve form. */
  readonly resolveKey: string;
  readonly preview: string | null;
  readonly rejected: Rejected | null;
  readonly postmortem: 'none' | 'draft' | 'published';
}

const NONE: Errors = {};

export function ConsoleIncidentPage({ meta, vm }: { meta: ConsoleMeta; vm: ConsoleIncidentVM }) {
  const { incident, choices, rejected } = vm;
  const errorsOf = (form: Rejected['form']) => (rejected?.form === form ? rejected.errors : NONE);
  const base = `/console/incidents/${incident.id}`;
  return (
    <ConsoleLayout meta={meta} title={incident.title} wide>
      <p class="muted">
        <a href={incident.kind === 'maintenance' ? '/console/maintenance' : '/console/incidents'}>← {incident.kind === 'maintenance' ? 'Maintenance' : 'Incidents'}</a> ·{' '}
        <a href={`/incidents/${incident.id}`}>Public page</a>
      </p>
      <h1>{incident.title}</h1>
      <p>
        <strong>{stateWords(incident.state)}</strong> · began <Time iso={incident.startedAt} now={meta.page.now} />
        {incident.resolvedAt && (
          <>
            {' '}
            · {incident.kind === 'maintenance' ? 'ended' : 'resolved'} <Time iso={incident.resolvedAt} now={meta.page.now} />
          </>
        )}
      </p>
      {/* On a phone: the update form, then resolve / scope / title, then the timeline. */}
      <div class="incident-grid">
        <div class="grid-form">
          {meta.can.incidents ? (
            <section aria-labelledby="post-title">
              <h2 id="post-title">Post an update</h2>
              <ErrorSummary errors={errorsOf('update')} labels={UPDATE_LABELS(choices)} />
              <Preview html={vm.preview} label="Preview" />
              <form method="post" action={`${base}/updates`} class="stack">
                <FormGuard csrf={meta.csrf} formKey={vm.update.key} />
                <UpdateFields form={vm.update} choices={choices} errors={errorsOf('update')} />
                <div class="actions">
                  <button type="submit" name="intent" value="post">
                    Post update
                  </button>
                  <button type="submit" name="intent" value="preview" class="secondary">
                    Preview
                  </button>
                </div>
              </form>
            </section>
          ) : (
            <p class="notice">Your token cannot post updates (it lacks the incidents:write scope).</p>
          )}
        </div>
        <section class="grid-timeline" aria-labelledby="timeline-title">
          <h2 id="timeline-title">Timeline</h2>
          <ol class="timeline">
            {incident.updates.map((u) => (
              <li id={`update-${u.id}`}>
                <span class="state">{stateWords(u.state)}</span> — <Time iso={u.at} now={meta.page.now} />
                {vm.authors[u.id] ? <span class="muted"> by {vm.authors[u.id]}</span> : null}
                {/* Sanitized by renderMarkdown before it reached the view model. */}
                <div class="message">{raw(u.html)}</div>
                {(u.statuses.length > 0 || u.modes.length > 0) && (
                  <p class="tags">
                    {[...u.statuses.map((s) => `${s.name}: ${STATUS_WORDS[s.status]}`), ...u.modes.map((m) => `${m.role}: ${MODE_WORDS[m.mode] ?? m.mode}`)].join(' · ')}
                  </p>
                )}
                {meta.can.incidents && incident.updates.length > 1 && (
                  <HideForm meta={meta} base={base} updateId={u.id} rejected={rejected?.form === 'hide' && rejected.updateId === u.id ? rejected : null} />
                )}
              </li>
            ))}
          </ol>
        </section>
        <aside class="grid-side" aria-labelledby="side-title">
          <h2 id="side-title" class="sr-only">
            About this incident
          </h2>
          {meta.can.incidents && incident.kind === 'incident' && incident.open && (
            <section aria-labelledby="resolve-title">
              <h2 id="resolve-title">Resolve</h2>
              <ErrorSummary errors={errorsOf('resolve')} labels={{ message: 'Resolution message' }} idPrefix="resolve-" />
              <form method="post" action={`${base}/resolve`} class="stack">
                <FormGuard csrf={meta.csrf} formKey={vm.resolveKey} />
                <TextArea
                  idPrefix="resolve-"
                  name="message"
                  label="Resolution message"
                  rows={3}
                  value={rejected?.form === 'resolve' ? rejected.message : 'This incident has been resolved.'}
                  errors={errorsOf('resolve')}
                />
                <NotifyBox idPrefix="resolve-" checked={rejected?.form === 'resolve' ? rejected.notify : true} />
                <div class="actions">
                  <button type="submit">Resolve incident</button>
                </div>
              </form>
            </section>
          )}
          <h2>Scope of impact</h2>
          <Scope incident={incident} />
          {incident.kind === 'incident' && (
            <p>
              <a href={`${base}/postmortem`}>
                {vm.postmortem === 'published' ? 'Edit the published postmortem' : vm.postmortem === 'draft' ? 'Continue the postmortem draft' : 'Write the postmortem'}
              </a>
            </p>
          )}
          {meta.can.incidents && (
            <section aria-labelledby="title-title">
              <h2 id="title-title">Title</h2>
              <ErrorSummary errors={errorsOf('title')} labels={{ title: 'Title' }} idPrefix="edit-" />
              <form method="post" action={`${base}/title`} class="stack">
                <FormGuard csrf={meta.csrf} />
                <TextInput idPrefix="edit-" name="title" label="Title" value={rejected?.form === 'title' ? rejected.title : incident.title} required errors={errorsOf('title')} />
                <div class="actions">
                  <button type="submit" class="secondary">
                    Save title
                  </button>
                </div>
              </form>
            </section>
          )}
        </aside>
      </div>
    </ConsoleLayout>
  );
}

/** Hiding a wrong update keeps it (and the reason) in the audit log; the timeline drops it. */
function HideForm({ meta, base, updateId, rejected }: { meta: ConsoleMeta; base: string; updateId: number; rejected: { errors: Errors; reason: string } | null }) {
  return (
    <details class="more" open={rejected !== null}>
      <summary>Hide this update…</summary>
      <form method="post" action={`${base}/updates/${updateId}/hide`} class="stack">
        <FormGuard csrf={meta.csrf} />
        <TextInput idPrefix={`hide-${updateId}-`} name="reason" label={`Why hide update ${updateId}?`} value={rejected?.reason ?? ''} required errors={rejected?.errors ?? NONE} />
        <div class="actions">
          <button type="submit" class="danger">
            Hide update
          </button>
        </div>
      </form>
    </details>
  );
}
