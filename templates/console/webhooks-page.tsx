import { utc } from '../format.ts';
import type { ConsoleMeta } from '../view.ts';
import { ConsoleLayout } from './layout.tsx';
import { Choices, ErrorSummary, FormGuard, Select, TextArea, TextInput, type Errors } from './forms.tsx';

/** A webhook subscription as the console shows it (never its secret). */
export interface WebhookVM {
  readonly id: number;
  readonly url: string;
  readonly format: string;
  readonly events: readonly string[];
  /** null: every component. */
  readonly environments: readonly string[] | null;
  readonly description: string | null;
  readonly created_at: string;
  readonly created_by: string;
  readonly updated_at: string;
  readonly state: 'active' | 'disabled';
  readonly disabled_at: string | null;
  readonly disabled_reason: string | null;
  readonly failures: number;
  readonly failing_since: string | null;
  readonly pending: number;
  readonly previous_secret_until: string | null;
}

/** One line of the attempt log, newest first. */
export interface AttemptVM {
  readonly message_id: string;
  readonly type: string;
  readonly at: string;
  readonly status: number | null;
  readonly latency_ms: number;
  readonly error: string | null;
  readonly excerpt: string;
}

/** What the receiver said to "send a test event": null while nothing was attempted yet. */
export interface TestResultVM {
  readonly message_id: string;
  readonly attempt: Omit<AttemptVM, 'message_id' | 'type'> | null;
  readonly waitedSeconds: number;
}

/** What the add and edit forms hold: a subscription's fields, or what was typed. */
export interface WebhookValues {
  readonly url: string;
  readonly format: string;
  readonly events: readonly string[];
  /** Component slugs; none: every component. */
  readonly environments: readonly string[];
  readonly description: string;
}

/** The events, formats and components the forms offer. */
export interface WebhookChoices {
  readonly events: readonly string[];
  readonly formats: readonly string[];
  readonly components: readonly { readonly slug: string; readonly name: string }[];
}

/** Which of the detail page's forms a refused submission belongs to, with what was typed. */
export type WebhookRejected =
  | { readonly form: 'edit'; readonly errors: Errors; readonly values: WebhookValues }
  | { readonly form: 'rotate'; readonly errors: Errors; readonly overlap: string }
  | { readonly form: 'disable'; readonly errors: Errors; readonly reason: string };

const LABELS = { url: 'URL', format: 'Format', events: 'Events', environments: 'Components', description: 'Description' };
const FORMAT_WORDS: Readonly<Record<string, string>> = {
  herald: 'herald — Herald’s JSON, for your own code',
  statuspage: 'statuspage — Atlassian Statuspage’s webhook payloads',
  slack: 'slack — a message for a Slack incoming webhook',
  discord: 'discord — a message for a Discord webhook',
};
const NONE: Errors = {};

const allEvents = (w: WebhookVM, choices: WebhookChoices) => choices.events.every((e) => w.events.includes(e));
const eventsText = (w: WebhookVM, choices: WebhookChoices) => (allEvents(w, choices) ? 'all' : w.events.join(', '));
const componentsText = (w: WebhookVM) => (w.environments === null ? 'all' : w.environments.join(', '));

function StateText({ w }: { w: WebhookVM }) {
  if (w.state === 'disabled') {
    return (
      <>
        disabled{w.disabled_at && ` ${utc(w.disabled_at)}`}
        {w.disabled_reason && <>: {w.disabled_reason}</>}
      </>
    );
  }
  if (w.failures > 0) return <>failing: {w.failures} in a row{w.failing_since && ` since ${utc(w.failing_since)}`}</>;
  return <>active</>;
}

/** The add and edit forms' fields; `idPrefix` keeps ids apart when a page has both. */
function WebhookFields(props: { values: WebhookValues; errors: Errors; choices: WebhookChoices; idPrefix?: string }) {
  const { values, errors, choices } = props;
  const p = props.idPrefix ?? '';
  return (
    <>
      <TextInput
        name="url"
        idPrefix={p}
        label={LABELS.url}
        type="url"
        value={values.url}
        required
        errors={errors}
        hint="http:// or https://. Private, loopback and link-local addresses are refused (HERALD_WEBHOOK_ALLOW names exceptions)."
      />
      <Select name="format" idPrefix={p} label={LABELS.format} value={values.format} options={choices.formats.map((f) => [f, FORMAT_WORDS[f] ?? f] as const)} errors={errors} />
      <Choices name="events" idPrefix={p} label={LABELS.events} multiple values={values.events} options={choices.events.map((e) => [e, e] as const)} errors={errors} hint="At least one." />
      <Choices
        name="environments"
        idPrefix={p}
        label={LABELS.environments}
        multiple
        values={values.environments}
        options={choices.components.map((c) => [c.slug, c.name] as const)}
        errors={errors}
        hint="Only notices about these. None checked: every component, including ones added later."
      />
      <TextArea name="description" idPrefix={p} label={LABELS.description} value={values.description} rows={2} errors={errors} hint="Optional: who receives it and why (at most 500 characters)." />
    </>
  );
}

/** /console/webhooks: the subscriptions and the form to add one. */
export function WebhooksPage(props: { meta: ConsoleMeta; webhooks: readonly WebhookVM[]; choices: WebhookChoices; values: WebhookValues; errors: Errors }) {
  const { meta, choices, errors } = props;
  return (
    <ConsoleLayout meta={meta} title="Webhooks" wide>
      <h1>Webhooks</h1>
      <p class="muted">Each subscription gets the notices it asks for, signed per Standard Webhooks, in order, retried for a day before it is disabled.</p>
      <div class="split">
        <section aria-labelledby="webhooks-title">
          <h2 id="webhooks-title">Subscriptions</h2>
          {props.webhooks.length === 0 ? (
            <p>No webhooks.</p>
          ) : (
            <table class="webhooks">
              <thead>
                <tr>
                  <th scope="col">ID</th>
                  <th scope="col">URL</th>
                  <th scope="col">Format</th>
                  <th scope="col">Events</th>
                  <th scope="col">Components</th>
                  <th scope="col">State</th>
                  <th scope="col">Pending</th>
                </tr>
              </thead>
              <tbody>
                {props.webhooks.map((w) => (
                  <tr id={`webhook-${w.id}`}>
                    <td>
                      <a href={`/console/webhooks/${w.id}`}>#{w.id}</a>
                    </td>
                    <td class="wrap">
                      {w.url}
                      {w.description && <div class="muted">{w.description}</div>}
                    </td>
                    <td>{w.format}</td>
                    <td>{eventsText(w, choices)}</td>
                    <td>{componentsText(w)}</td>
                    <td>
                      <StateText w={w} />
                    </td>
                    <td>{w.pending}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </section>
        <section aria-labelledby="add-title">
          <h2 id="add-title">Add a webhook</h2>
          <ErrorSummary errors={errors} labels={LABELS} />
          <form method="post" action="/console/webhooks" class="stack">
            <FormGuard csrf={meta.csrf} />
            <WebhookFields values={props.values} errors={errors} choices={choices} />
            <div class="actions">
              <button type="submit">Add webhook</button>
            </div>
          </form>
          <p class="muted">Its signing secret is shown once, on the next page.</p>
        </section>
      </div>
    </ConsoleLayout>
  );
}

/** How a receiver checks a message, beside a secret shown once. */
function VerifyNote() {
  return (
    <section aria-labelledby="verify-title">
      <h2 id="verify-title">Verifying signatures</h2>
      <p>
        Every message carries the headers <code>webhook-id</code>, <code>webhook-timestamp</code> and <code>webhook-signature</code> (Standard Webhooks,
        standardwebhooks.com). The signature is <code>v1,</code> and the base64 HMAC-SHA256 of <code>id.timestamp.body</code>, keyed with the bytes after{' '}
        <code>whsec_</code>; any Standard Webhooks library checks it for you. Refuse a message whose timestamp is more than a few minutes off, and drop
        repeats by <code>webhook-id</code>.
      </p>
      <p>The payload of each format is described in docs/webhook-formats.md.</p>
    </section>
  );
}

function SecretField({ secret, label }: { secret: string; label: string }) {
  return (
    <div class="field">
      <label for="f-secret">{label}</label>
      <input type="text" id="f-secret" class="secret" readonly value={secret} autocomplete="off" spellcheck={false} />
    </div>
  );
}

/** After adding a webhook: its secret, this once. */
export function WebhookCreatedPage(props: { meta: ConsoleMeta; webhook: WebhookVM; secret: string }) {
  const { meta, webhook } = props;
  return (
    <ConsoleLayout meta={meta} title="Webhook added">
      <h1>Webhook #{webhook.id} added</h1>
      <p class="notice ok" role="status">
        Copy the signing secret now and give it to the receiver. It is shown only this once.
      </p>
      <p class="wrap">
        {webhook.format} messages to {webhook.url}
      </p>
      {webhook.description && <p class="muted">{webhook.description}</p>}
      <SecretField secret={props.secret} label={`Signing secret of webhook #${webhook.id}`} />
      <VerifyNote />
      <p>
        <a href={`/console/webhooks/${webhook.id}`}>Webhook #{webhook.id}</a> · <a href="/console/webhooks">Back to the webhooks</a>
      </p>
    </ConsoleLayout>
  );
}

/** After rotating: the new secret, this once, and until when the old one still signs. */
export function SecretRotatedPage(props: { meta: ConsoleMeta; webhook: WebhookVM; secret: string }) {
  const { meta, webhook } = props;
  return (
    <ConsoleLayout meta={meta} title="Secret rotated">
      <h1>New secret for webhook #{webhook.id}</h1>
      <p class="notice ok" role="status">
        Copy the new secret now. It is shown only this once.
      </p>
      <SecretField secret={props.secret} label={`New signing secret of webhook #${webhook.id}`} />
      <p>
        {webhook.previous_secret_until
          ? `Until ${utc(webhook.previous_secret_until)} every message is signed with both secrets, so the receiver can switch to the new one without losing a message.`
          : 'The old secret no longer signs: messages carry only the new signature from now on.'}
      </p>
      <VerifyNote />
      <p>
        <a href={`/console/webhooks/${webhook.id}`}>Back to webhook #{webhook.id}</a>
      </p>
    </ConsoleLayout>
  );
}

function TestResult({ result }: { result: TestResultVM }) {
  const a = result.attempt;
  return (
    <section id="test-result" class="notice" aria-labelledby="test-result-title" role="status">
      <h2 id="test-result-title">Test event {result.message_id}</h2>
      {a === null ? (
        <p>Queued, but not sent within {result.waitedSeconds} seconds (the subscription may have older messages to send first). The attempt log below shows it once it is sent.</p>
      ) : (
        <>
          <p>
            {a.status !== null ? `The receiver answered HTTP ${a.status}` : 'No answer'} after {a.latency_ms} ms, at {utc(a.at)}.
            {a.error && <> Error: {a.error}</>}
          </p>
          {a.excerpt !== '' && (
            <>
              <p>The first bytes of its answer:</p>
              <pre class="excerpt">{a.excerpt}</pre>
            </>
          )}
        </>
      )}
    </section>
  );
}

const delivered = (status: number | null) => status !== null && status >= 200 && status < 300;

function AttemptLog({ attempts }: { attempts: readonly AttemptVM[] }) {
  if (attempts.length === 0) return <p>No attempts yet.</p>;
  return (
    <table class="attempts">
      <thead>
        <tr>
          <th scope="col">Time</th>
          <th scope="col">Event</th>
          <th scope="col">Message</th>
          <th scope="col">HTTP</th>
          <th scope="col">Latency</th>
          <th scope="col">Result</th>
          <th scope="col">Answer (first bytes)</th>
        </tr>
      </thead>
      <tbody>
        {attempts.map((a) => (
          <tr>
            <td>{utc(a.at)}</td>
            <td>{a.type}</td>
            <td>
              <code>{a.message_id}</code>
            </td>
            <td>{a.status ?? '—'}</td>
            <td>{a.latency_ms} ms</td>
            <td>{delivered(a.status) ? 'delivered' : `failed${a.error ? `: ${a.error}` : ''}`}</td>
            <td>{a.excerpt !== '' && <pre class="excerpt">{a.excerpt}</pre>}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export interface WebhookPageProps {
  readonly meta: ConsoleMeta;
  readonly webhook: WebhookVM;
  readonly choices: WebhookChoices;
  /** The edit form's values: the subscription's, or what was typed. */
  readonly values: WebhookValues;
  readonly attempts: readonly AttemptVM[];
  readonly tested: TestResultVM | null;
  readonly rejected: WebhookRejected | null;
}

/** /console/webhooks/:id: details, the test button, the edit form, secret and state, the attempt log. */
export function WebhookPage(props: WebhookPageProps) {
  const { meta, webhook: w, choices, rejected } = props;
  const errorsOf = (form: WebhookRejected['form']) => (rejected?.form === form ? rejected.errors : NONE);
  const base = `/console/webhooks/${w.id}`;
  return (
    <ConsoleLayout meta={meta} title={`Webhook #${w.id}`} wide>
      <p>
        <a href="/console/webhooks">← Webhooks</a>
      </p>
      <h1>Webhook #{w.id}</h1>
      {props.tested && <TestResult result={props.tested} />}
      <div class="split">
        <div>
          <section aria-labelledby="details-title">
            <h2 id="details-title">Details</h2>
            <table class="details">
              <tbody>
                <tr>
                  <th scope="row">URL</th>
                  <td class="wrap">{w.url}</td>
                </tr>
                <tr>
                  <th scope="row">Format</th>
                  <td>{w.format}</td>
                </tr>
                <tr>
                  <th scope="row">Events</th>
                  <td>{eventsText(w, choices)}</td>
                </tr>
                <tr>
                  <th scope="row">Components</th>
                  <td>{componentsText(w)}</td>
                </tr>
                <tr>
                  <th scope="row">Description</th>
                  <td>{w.description ?? '—'}</td>
                </tr>
                <tr>
                  <th scope="row">State</th>
                  <td>
                    <StateText w={w} />
                  </td>
                </tr>
                <tr>
                  <th scope="row">Pending</th>
                  <td>{w.pending}</td>
                </tr>
                <tr>
                  <th scope="row">Created</th>
                  <td>
                    {utc(w.created_at)} by {w.created_by}
                  </td>
                </tr>
                {w.previous_secret_until && (
                  <tr>
                    <th scope="row">Previous secret</th>
                    <td>signs too until {utc(w.previous_secret_until)}</td>
                  </tr>
                )}
              </tbody>
            </table>
            {w.state === 'active' ? (
              <form method="post" action={`${base}/test`} class="stack">
                <FormGuard csrf={meta.csrf} />
                <p class="hint">Queues a sample message marked test, in this webhook’s format, behind what it still has to send, and shows what the receiver answered.</p>
                <div class="actions">
                  <button type="submit">Send a test event</button>
                </div>
              </form>
            ) : (
              <p class="muted">Enable it to send a test event.</p>
            )}
          </section>
          <section aria-labelledby="edit-title">
            <h2 id="edit-title">Edit</h2>
            <ErrorSummary errors={errorsOf('edit')} labels={LABELS} idPrefix="edit-" />
            <form method="post" action={base} class="stack">
              <FormGuard csrf={meta.csrf} />
              <WebhookFields values={props.values} errors={errorsOf('edit')} choices={choices} idPrefix="edit-" />
              <div class="actions">
                <button type="submit">Save</button>
              </div>
            </form>
          </section>
        </div>
        <aside aria-labelledby="manage-title">
          <h2 id="manage-title" class="sr-only">
            Secret and state
          </h2>
          <section aria-labelledby="rotate-title">
            <h2 id="rotate-title">Rotate the secret</h2>
            <ErrorSummary errors={errorsOf('rotate')} labels={{ overlap_hours: 'Overlap in hours' }} idPrefix="rotate-" />
            <form method="post" action={`${base}/rotate`} class="stack">
              <FormGuard csrf={meta.csrf} />
              <TextInput
                name="overlap_hours"
                idPrefix="rotate-"
                label="Overlap in hours"
                inputmode="decimal"
                value={rejected?.form === 'rotate' ? rejected.overlap : '24'}
                errors={errorsOf('rotate')}
                hint="0 to 168. The old secret keeps signing beside the new one this long."
              />
              <div class="actions">
                <button type="submit" class="secondary">
                  Rotate secret
                </button>
              </div>
            </form>
          </section>
          {w.state === 'active' ? (
            <section aria-labelledby="disable-title">
              <h2 id="disable-title">Disable</h2>
              <ErrorSummary errors={errorsOf('disable')} labels={{ reason: 'Reason' }} idPrefix="disable-" />
              <form method="post" action={`${base}/disable`} class="stack">
                <FormGuard csrf={meta.csrf} />
                <TextInput
                  name="reason"
                  idPrefix="disable-"
                  label="Reason"
                  value={rejected?.form === 'disable' ? rejected.reason : ''}
                  errors={errorsOf('disable')}
                  hint="Optional. Notices keep queueing while it is disabled and are sent when it is enabled again."
                />
                <div class="actions">
                  <button type="submit" class="secondary">
                    Disable webhook
                  </button>
                </div>
              </form>
            </section>
          ) : (
            <section aria-labelledby="enable-title">
              <h2 id="enable-title">Enable</h2>
              <p>What it still has to send ({w.pending}) goes out at once, oldest first.</p>
              <form method="post" action={`${base}/enable`} class="inline">
                <FormGuard csrf={meta.csrf} />
                <button type="submit">Enable webhook</button>
              </form>
            </section>
          )}
          <section aria-labelledby="remove-title">
            <h2 id="remove-title">Remove</h2>
            <p>Nothing more is sent to it; its attempt log stays in the database.</p>
            <form method="post" action={`${base}/remove`} class="inline">
              <FormGuard csrf={meta.csrf} />
              <button type="submit" class="danger">
                Remove webhook #{w.id}…
              </button>
            </form>
          </section>
        </aside>
      </div>
      <section aria-labelledby="attempts-title">
        <h2 id="attempts-title">Attempts</h2>
        <p class="muted">The newest 50, newest first.</p>
        <AttemptLog attempts={props.attempts} />
      </section>
    </ConsoleLayout>
  );
}

/** The first step of removing: what it means, and the button that does it. */
export function RemoveConfirmPage(props: { meta: ConsoleMeta; webhook: WebhookVM }) {
  const { meta, webhook } = props;
  return (
    <ConsoleLayout meta={meta} title={`Remove webhook #${webhook.id}?`}>
      <h1>Remove webhook #{webhook.id}?</h1>
      <p class="wrap">
        Nothing more is sent to {webhook.url}, including the {webhook.pending} message{webhook.pending === 1 ? '' : 's'} still pending. This cannot be
        undone; add it again if it is needed (with a new secret).
      </p>
      <form method="post" action={`/console/webhooks/${webhook.id}/remove`} class="stack">
        <FormGuard csrf={meta.csrf} />
        <input type="hidden" name="intent" value="confirm" />
        <div class="actions">
          <button type="submit" class="danger">
            Remove webhook #{webhook.id}
          </button>
          <a class="button secondary" href={`/console/webhooks/${webhook.id}`}>
            Cancel
          </a>
        </div>
      </form>
    </ConsoleLayout>
  );
}
