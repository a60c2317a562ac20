import { STATUS_WORDS, utc } from '../format.ts';
import type { ConsoleMeta } from '../view.ts';
import { ConsoleLayout } from './layout.tsx';
import { Choices, ErrorSummary, fieldId, FormGuard, Select, TextArea, TextInput, type Errors } from './forms.tsx';

/** An alert rule as the console shows it (services/alerts.ts's AlertRuleView). */
export interface AlertRuleVM {
  readonly id: number;
  readonly name: string;
  readonly position: number;
  /** null: both senders. */
  readonly source: string | null;
  readonly matchers: string;
  readonly component: { readonly label: string } | { readonly fixed: string };
  readonly status: string;
  readonly modes: Readonly<Record<string, string>>;
  readonly auto_resolve: boolean;
  readonly quiet_period_minutes: number;
  readonly templates: { readonly title: string | null; readonly opened: string | null; readonly added: string | null; readonly recovered: string | null };
  readonly enabled: boolean;
  readonly version: number;
  readonly created_at: string;
  readonly created_by: string;
  readonly updated_at: string;
}

/** A row of the rules table: the rule, whether it can move, and the keys of its one-button forms. */
export interface RuleRowVM {
  readonly rule: AlertRuleVM;
  readonly canUp: boolean;
  readonly canDown: boolean;
  readonly keys: { readonly up: string; readonly down: string };
}

export interface RuleVersionVM {
  readonly version: number;
  readonly changed_at: string;
  readonly changed_by: string;
  readonly rule: unknown;
}

/** One received notification and what it did (services/alerts.ts's InboxView). */
export interface InboxEntryVM {
  readonly id: string;
  readonly received_at: string;
  readonly source: string;
  readonly group_key: string | null;
  readonly status: string | null;
  readonly alerts: number;
  readonly rule: { readonly id: number; readonly version: number | null } | null;
  readonly outcome: string;
  readonly incident_id: number | null;
  readonly reason: string | null;
  readonly notes: readonly string[];
}

/** What the add and edit forms hold: a rule's fields, or what was typed. */
export interface RuleValues {
  readonly name: string;
  readonly matchers: string;
  /** '' for both senders. */
  readonly source: string;
  readonly component_from: 'label' | 'fixed';
  readonly component_label: string;
  readonly component: string;
  readonly status: string;
  /** Role → mode; '' leaves the role alone. */
  readonly modes: Readonly<Record<string, string>>;
  readonly auto_resolve: boolean;
  readonly quiet_period_minutes: string;
  readonly templates: { readonly title: string; readonly opened: string; readonly added: string; readonly recovered: string };
  readonly enabled: boolean;
  /** Only on the add form: '' puts it last. */
  readonly position: string;
}

/** What the forms offer. */
export interface RuleChoices {
  readonly components: readonly { readonly slug: string; readonly name: string }[];
  readonly roles: readonly string[];
  readonly statuses: readonly string[];
  readonly modes: readonly string[];
}

/** Where Alertmanager and Grafana post, from PUBLIC_URL. */
export interface IntakeUrls {
  readonly alertmanager: string;
  readonly grafana: string;
}

const TEMPLATE_KEYS = ['title', 'opened', 'added', 'recovered'] as const;
const TEMPLATE_WORDS: Readonly<Record<(typeof TEMPLATE_KEYS)[number], { label: string; hint: string }>> = {
  title: { label: 'Title template', hint: 'The new incident’s title. Blank: the alert’s name, or the rule’s.' },
  opened: { label: 'Opened template', hint: 'The first update of an incident the alerts open. Blank: the default wording.' },
  added: { label: 'Added template', hint: 'The update when more alerts of the group start firing. Blank: the default wording.' },
  recovered: { label: 'Recovered template', hint: 'The update when every alert of the group has resolved. Blank: the default wording.' },
};

/** Field labels, for the error summary's links. */
function labelsOf(roles: readonly string[]): Readonly<Record<string, string>> {
  return {
    name: 'Name',
    matchers: 'Matchers',
    source: 'Sender',
    component_from: 'Component from',
    component_label: 'Label naming the component',
    component: 'Fixed component',
    status: 'Status',
    ...Object.fromEntries(roles.map((r) => [`modes.${r}`, `Mode of ${r}`])),
    auto_resolve: 'Auto-resolve',
    quiet_period_minutes: 'Quiet period in minutes',
    ...Object.fromEntries(TEMPLATE_KEYS.map((k) => [`templates.${k}`, TEMPLATE_WORDS[k].label])),
    enabled: 'Enabled',
    position: 'Position',
  };
}

const sourceText = (source: string | null) => source ?? 'both';
const componentText = (r: AlertRuleVM) => ('fixed' in r.component ? `fixed: ${r.component.fixed}` : `label: ${r.component.label}`);
const modesText = (r: AlertRuleVM) => (Object.keys(r.modes).length === 0 ? 'none' : Object.entries(r.modes).map(([role, mode]) => `${role} ${mode}`).join(', '));
const yesNo = (b: boolean) => (b ? 'yes' : 'no');
const statusText = (s: string) => `${s} (${STATUS_WORDS[s as keyof typeof STATUS_WORDS] ?? s})`;

/** A one-button form carrying its own idempotency key (as the components page's). */
function Button(props: { action: string; csrf: string; formKey: string; label: string; hidden?: Readonly<Record<string, string>>; aria?: string }) {
  return (
    <form method="post" action={props.action} class="inline">
      <FormGuard csrf={props.csrf} formKey={props.formKey} />
      {Object.entries(props.hidden ?? {}).map(([k, v]) => (
        <input type="hidden" name={k} value={v} />
      ))}
      <button type="submit" class="link" aria-label={props.aria}>
        {props.label}
      </button>
    </form>
  );
}

/** A checkbox with its problem above it (as the components page's). */
function CheckBox(props: { name: string; idPrefix: string; label: string; checked: boolean; errors: Errors; hint?: string }) {
  const id = fieldId(props.idPrefix + props.name);
  const problems = props.errors[props.name] ?? [];
  return (
    <div class="field">
      {problems.length > 0 && (
        <p class="field-error" id={`${id}-error`}>
          <span class="sr-only">Error: </span>
          {problems.join('; ')}
        </p>
      )}
      <label for={id}>
        <input type="checkbox" id={id} name={props.name} value="on" checked={props.checked} aria-describedby={props.hint ? `${id}-hint` : undefined} /> {props.label}
      </label>
      {props.hint && (
        <p class="hint" id={`${id}-hint`}>
          {props.hint}
        </p>
      )}
    </div>
  );
}

/** The add and edit forms' fields; `idPrefix` keeps ids apart from another form's. */
function RuleFields(props: { values: RuleValues; errors: Errors; choices: RuleChoices; idPrefix?: string; withPosition?: boolean }) {
  const { values, errors, choices } = props;
  const p = props.idPrefix ?? '';
  const labels = labelsOf(choices.roles);
  return (
    <>
      <TextInput name="name" idPrefix={p} label={labels.name!} value={values.name} required errors={errors} hint="For the inbox and the audit log; never shown on the status page." />
      <TextInput
        name="matchers"
        idPrefix={p}
        label={labels.matchers!}
        value={values.matchers}
        required
        errors={errors}
        hint={'Alertmanager’s syntax, comma-separated: severity=~"critical|page", team="checkout". An alert matches when every matcher does.'}
      />
      <Select
        name="source"
        idPrefix={p}
        label={labels.source!}
        value={values.source}
        options={[
          ['', 'both Alertmanager and Grafana'],
          ['alertmanager', 'Alertmanager only'],
          ['grafana', 'Grafana only'],
        ]}
        errors={errors}
      />
      <Choices
        name="component_from"
        idPrefix={p}
        label={labels.component_from!}
        values={[values.component_from]}
        options={[
          ['label', 'an alert label (below), whose value is a component’s slug'],
          ['fixed', 'always one component (below)'],
        ]}
        errors={errors}
      />
      <TextInput name="component_label" idPrefix={p} label={labels.component_label!} value={values.component_label} errors={errors} hint="Used when the component comes from a label; usually environment." />
      <Select
        name="component"
        idPrefix={p}
        label={labels.component!}
        value={values.component}
        options={[['', '(choose one)'] as const, ...choices.components.map((c) => [c.slug, `${c.name} (${c.slug})`] as const)]}
        errors={errors}
      />
      <Select name="status" idPrefix={p} label={labels.status!} value={values.status} options={choices.statuses.map((s) => [s, statusText(s)] as const)} errors={errors} hint="What the component shows while the alerts fire." />
      <fieldset>
        <legend>Modes while the alerts fire</legend>
        <div class="grid2">
          {choices.roles.map((role) => (
            <Select
              name={`modes.${role}`}
              idPrefix={p}
              label={`Mode of ${role}`}
              value={values.modes[role] ?? ''}
              options={[['', 'leave as it is'] as const, ...choices.modes.map((m) => [m, m] as const)]}
              errors={errors}
            />
          ))}
        </div>
      </fieldset>
      <CheckBox
        name="auto_resolve"
        idPrefix={p}
        label="Resolve the incident when every alert has resolved"
        checked={values.auto_resolve}
        errors={errors}
        hint="Never when a commander has posted to it: then the recovery is posted and the incident stays open."
      />
      <TextInput
        name="quiet_period_minutes"
        idPrefix={p}
        label={labels.quiet_period_minutes!}
        inputmode="numeric"
        value={values.quiet_period_minutes}
        errors={errors}
        hint="0 to 10080. After a commander resolves an incident, its alerts open no new one for this long."
      />
      {TEMPLATE_KEYS.map((k) => (
        <TextArea name={`templates.${k}`} idPrefix={p} label={TEMPLATE_WORDS[k].label} value={values.templates[k]} rows={k === 'title' ? 2 : 4} errors={errors} hint={TEMPLATE_WORDS[k].hint} />
      ))}
      <p class="hint">
        Templates are Markdown with holes: <code>{'{{ labels.NAME }}'}</code>, <code>{'{{ annotations.NAME }}'}</code>, <code>{'{{ count }}'}</code>, <code>{'{{ alerts }}'}</code>, and{' '}
        <code>{'{{ annotations.summary | default: "no summary" }}'}</code>.
      </p>
      {props.withPosition && <TextInput name="position" idPrefix={p} label={labels.position!} inputmode="numeric" value={values.position} errors={errors} hint="1 is tried first. Blank: last." />}
      <CheckBox name="enabled" idPrefix={p} label="Enabled" checked={values.enabled} errors={errors} hint="A disabled rule is skipped; the next one that matches decides." />
    </>
  );
}

/** "opened #12", "ignored: no new information", "no rule matched": what a notification did, in words. */
export function OutcomeText({ e }: { e: InboxEntryVM }) {
  const incident = e.incident_id === null ? null : <a href={`/console/incidents/${e.incident_id}`}>#{e.incident_id}</a>;
  switch (e.outcome) {
    case 'opened':
    case 'updated':
    case 'recovered':
    case 'resolved':
      return (
        <>
          {e.outcome} {incident}
        </>
      );
    case 'unmatched':
      return <>no rule matched</>;
    default:
      return <>{e.reason ? `${e.outcome}: ${e.reason}` : e.outcome}</>;
  }
}

/** The rule an entry names: "Pages (#3 v2)", or "#3 v2 (removed)" when it is gone. */
function RuleText({ e, names }: { e: InboxEntryVM; names: Readonly<Record<number, string>> }) {
  if (e.rule === null) return <>—</>;
  const at = `#${e.rule.id}${e.rule.version === null ? '' : ` v${e.rule.version}`}`;
  const name = names[e.rule.id];
  return name === undefined ? (
    <>{at} (removed)</>
  ) : (
    <>
      <a href={`/console/alerts/rules/${e.rule.id}`}>{name}</a> ({at})
    </>
  );
}

function HowToConnect({ urls }: { urls: IntakeUrls }) {
  return (
    <section aria-labelledby="connect-title">
      <h2 id="connect-title">How to connect</h2>
      <p>Alertmanager (a webhook receiver, version 4) posts to:</p>
      <p>
        <code class="wrap">{urls.alertmanager}</code>
      </p>
      <p>Grafana (a webhook contact point) posts to:</p>
      <p>
        <code class="wrap">{urls.grafana}</code>
      </p>
      <p class="hint">
        Each sends a token with the <code>alerts:write</code> scope as its Bearer credential (<code>herald token:create --name alertmanager --scopes alerts:write</code>); Grafana may sign with{' '}
        <code>HERALD_GRAFANA_SECRET</code> instead. Receiver configuration for both is in docs/alerts.md in Herald’s repository.
      </p>
    </section>
  );
}

function RulesTable({ rows, csrf }: { rows: readonly RuleRowVM[]; csrf: string }) {
  if (rows.length === 0) return <p>No rules yet: every notification is recorded in the inbox as “no rule matched”.</p>;
  return (
    <table class="alert-rules">
      <thead>
        <tr>
          <th scope="col">Order</th>
          <th scope="col">Name</th>
          <th scope="col">Sender</th>
          <th scope="col">Matchers</th>
          <th scope="col">Component</th>
          <th scope="col">Status</th>
          <th scope="col">Modes</th>
          <th scope="col">Auto-resolve</th>
          <th scope="col">Quiet period</th>
          <th scope="col">Enabled</th>
          <th scope="col">Version</th>
          <th scope="col">Actions</th>
        </tr>
      </thead>
      <tbody>
        {rows.map(({ rule: r, canUp, canDown, keys }) => (
          <tr id={`rule-${r.id}`}>
            <td>{r.position}</td>
            <td class="wrap">
              <a href={`/console/alerts/rules/${r.id}`}>{r.name}</a>
            </td>
            <td>{sourceText(r.source)}</td>
            <td class="wrap">
              <code>{r.matchers}</code>
            </td>
            <td>{componentText(r)}</td>
            <td>{r.status}</td>
            <td>{modesText(r)}</td>
            <td>{yesNo(r.auto_resolve)}</td>
            <td>{r.quiet_period_minutes} min</td>
            <td>{yesNo(r.enabled)}</td>
            <td>v{r.version}</td>
            <td>
              <a href={`/console/alerts/rules/${r.id}`} aria-label={`Edit ${r.name}`}>
                Edit
              </a>{' '}
              {canUp && <Button action={`/console/alerts/rules/${r.id}/move`} csrf={csrf} formKey={keys.up} hidden={{ direction: 'up' }} label="Move up" aria={`Move up: ${r.name}`} />}{' '}
              {canDown && <Button action={`/console/alerts/rules/${r.id}/move`} csrf={csrf} formKey={keys.down} hidden={{ direction: 'down' }} label="Move down" aria={`Move down: ${r.name}`} />}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function InboxTable({ entries, names }: { entries: readonly InboxEntryVM[]; names: Readonly<Record<number, string>> }) {
  if (entries.length === 0) return <p>Nothing received yet.</p>;
  return (
    <table class="alert-inbox">
      <thead>
        <tr>
          <th scope="col">Received</th>
          <th scope="col">Sender</th>
          <th scope="col">Group</th>
          <th scope="col">Status</th>
          <th scope="col">Alerts</th>
          <th scope="col">Rule</th>
          <th scope="col">Outcome</th>
          <th scope="col">Details</th>
        </tr>
      </thead>
      <tbody>
        {entries.map((e) => (
          <tr id={`inbox-${e.id}`}>
            <td>{utc(e.received_at)}</td>
            <td>{e.source}</td>
            <td class="wrap">{e.group_key ?? '—'}</td>
            <td>{e.status ?? '—'}</td>
            <td>{e.alerts}</td>
            <td class="wrap">
              <RuleText e={e} names={names} />
            </td>
            <td class="wrap">
              <OutcomeText e={e} />
            </td>
            <td>
              <a href={`/console/alerts/inbox/${e.id}`}>#{e.id}</a>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export interface AlertsPageProps {
  readonly meta: ConsoleMeta;
  readonly rules: readonly RuleRowVM[];
  readonly inbox: readonly InboxEntryVM[];
  /** Rule id → name, for the inbox's rule column (live rules only). */
  readonly names: Readonly<Record<number, string>>;
  readonly older: string | null;
  readonly newer: string | null;
  readonly urls: IntakeUrls;
  readonly choices: RuleChoices;
  readonly add: { readonly values: RuleValues; readonly errors: Errors; readonly formKey: string };
}

/** /console/alerts: the rules in order, the form to add one, how to connect, and the inbox. */
export function AlertsPage(props: AlertsPageProps) {
  const { meta, choices, add } = props;
  return (
    <ConsoleLayout meta={meta} title="Alerts" wide>
      <h1>Alerts</h1>
      <p class="muted">Alertmanager and Grafana post their notifications here. The first enabled rule that matches one of a notification’s alerts decides what it does to the timeline; the inbox says what each did.</p>
      <section aria-labelledby="rules-title">
        <h2 id="rules-title">Rules</h2>
        <RulesTable rows={props.rules} csrf={meta.csrf} />
      </section>
      <div class="split">
        <section aria-labelledby="add-title">
          <h2 id="add-title">Add a rule</h2>
          <ErrorSummary errors={add.errors} labels={labelsOf(choices.roles)} />
          <form method="post" action="/console/alerts/rules" class="stack">
            <FormGuard csrf={meta.csrf} formKey={add.formKey} />
            <RuleFields values={add.values} errors={add.errors} choices={choices} withPosition />
            <div class="actions">
              <button type="submit">Add rule</button>
            </div>
          </form>
        </section>
        <aside>
          <HowToConnect urls={props.urls} />
        </aside>
      </div>
      <section aria-labelledby="inbox-title" id="inbox">
        <h2 id="inbox-title">Inbox</h2>
        <p class="muted">Every notification received, newest first, and what it did.</p>
        <InboxTable entries={props.inbox} names={props.names} />
        {(props.older || props.newer) && (
          <nav class="pages" aria-label="Inbox pages">
            {props.newer ? <a href={props.newer}>← Newer</a> : <span />}
            {props.older ? <a href={props.older}>Older →</a> : <span />}
          </nav>
        )}
      </section>
    </ConsoleLayout>
  );
}

function RuleDetails({ r }: { r: AlertRuleVM }) {
  const rows: [string, string][] = [
    ['Position', String(r.position)],
    ['Sender', sourceText(r.source)],
    ['Matchers', r.matchers],
    ['Component', componentText(r)],
    ['Status', statusText(r.status)],
    ['Modes', modesText(r)],
    ['Auto-resolve', yesNo(r.auto_resolve)],
    ['Quiet period', `${r.quiet_period_minutes} minutes`],
    ['Enabled', yesNo(r.enabled)],
    ['Version', `v${r.version}, ${utc(r.updated_at)}`],
    ['Created', `${utc(r.created_at)} by ${r.created_by}`],
  ];
  return (
    <table class="details">
      <tbody>
        {rows.map(([k, v]) => (
          <tr>
            <th scope="row">{k}</th>
            <td class="wrap">{v}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function VersionHistory({ versions }: { versions: readonly RuleVersionVM[] }) {
  if (versions.length === 0) return <p>No versions recorded.</p>;
  return (
    <table class="rule-versions">
      <thead>
        <tr>
          <th scope="col">Version</th>
          <th scope="col">When</th>
          <th scope="col">Who</th>
          <th scope="col">What it said</th>
        </tr>
      </thead>
      <tbody>
        {versions.map((v) => (
          <tr id={`version-${v.version}`}>
            <td>v{v.version}</td>
            <td>{utc(v.changed_at)}</td>
            <td class="wrap">{v.changed_by}</td>
            <td>
              <details class="more">
                <summary>Version {v.version}</summary>
                <pre class="excerpt">{JSON.stringify(v.rule, null, 2)}</pre>
              </details>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export interface RulePageProps {
  readonly meta: ConsoleMeta;
  readonly rule: AlertRuleVM;
  readonly versions: readonly RuleVersionVM[];
  readonly choices: RuleChoices;
  readonly edit: { readonly values: RuleValues; readonly errors: Errors; readonly formKey: string };
  readonly removeKey: string;
}

/** /console/alerts/rules/:id: the rule, its edit form, its versions, and removing it. */
export function RulePage(props: RulePageProps) {
  const { meta, rule: r, choices, edit } = props;
  const base = `/console/alerts/rules/${r.id}`;
  return (
    <ConsoleLayout meta={meta} title={`Rule ${r.name}`} wide>
      <p>
        <a href="/console/alerts">← Alerts</a>
      </p>
      <h1>
        Rule #{r.id}: {r.name}
      </h1>
      <div class="split">
        <section aria-labelledby="edit-title">
          <h2 id="edit-title">Edit</h2>
          <p class="muted">Saving makes version {r.version + 1}; the inbox names the version that decided each notification.</p>
          <ErrorSummary errors={edit.errors} labels={labelsOf(choices.roles)} idPrefix="edit-" />
          <form method="post" action={base} class="stack">
            <FormGuard csrf={meta.csrf} formKey={edit.formKey} />
            <RuleFields values={edit.values} errors={edit.errors} choices={choices} idPrefix="edit-" />
            <div class="actions">
              <button type="submit">Save</button>
            </div>
          </form>
        </section>
        <aside aria-labelledby="details-title">
          <h2 id="details-title">Now</h2>
          <RuleDetails r={r} />
          <section aria-labelledby="remove-title">
            <h2 id="remove-title">Remove</h2>
            <p>Notifications are no longer matched against it; its versions and the inbox entries naming it stay.</p>
            <form method="post" action={`${base}/remove`} class="inline">
              <FormGuard csrf={meta.csrf} formKey={props.removeKey} />
              <button type="submit" class="danger">
                Remove rule #{r.id}…
              </button>
            </form>
          </section>
        </aside>
      </div>
      <section aria-labelledby="versions-title">
        <h2 id="versions-title">Versions</h2>
        <p class="muted">Newest first.</p>
        <VersionHistory versions={props.versions} />
      </section>
    </ConsoleLayout>
  );
}

/** The first step of removing: what it means, and the button that does it. */
export function RemoveRuleConfirmPage(props: { meta: ConsoleMeta; rule: AlertRuleVM; formKey: string }) {
  const { meta, rule: r } = props;
  return (
    <ConsoleLayout meta={meta} title={`Remove rule #${r.id}?`}>
      <h1>Remove rule #{r.id}?</h1>
      <p class="wrap">
        “{r.name}” ({r.matchers}) will no longer be matched: notifications it would have decided go to the next rule that matches, or are recorded as “no rule matched”. Incidents it opened
        stay as they are. This cannot be undone; add it again if it is needed.
      </p>
      <form method="post" action={`/console/alerts/rules/${r.id}/remove`} class="stack">
        <FormGuard csrf={meta.csrf} formKey={props.formKey} />
        <input type="hidden" name="intent" value="confirm" />
        <div class="actions">
          <button type="submit" class="danger">
            Remove rule #{r.id}
          </button>
          <a class="button secondary" href={`/console/alerts/rules/${r.id}`}>
            Cancel
          </a>
        </div>
      </form>
    </ConsoleLayout>
  );
}

/** The body as received, indented when it is JSON (a clipped body is not, and is shown as it is). */
export function prettyPayload(payload: string): string {
  try {
    return JSON.stringify(JSON.parse(payload), null, 2);
  } catch {
    return payload;
  }
}

/** /console/alerts/inbox/:id: one notification, what it did and why, and its body. */
export function InboxEntryPage(props: { meta: ConsoleMeta; entry: InboxEntryVM & { readonly payload: string }; names: Readonly<Record<number, string>> }) {
  const { meta, entry: e } = props;
  return (
    <ConsoleLayout meta={meta} title={`Inbox entry #${e.id}`} wide>
      <p>
        <a href="/console/alerts#inbox">← Alerts</a>
      </p>
      <h1>Inbox entry #{e.id}</h1>
      <table class="details">
        <tbody>
          <tr>
            <th scope="row">Received</th>
            <td>{utc(e.received_at)}</td>
          </tr>
          <tr>
            <th scope="row">Sender</th>
            <td>{e.source}</td>
          </tr>
          <tr>
            <th scope="row">Group</th>
            <td class="wrap">{e.group_key ?? '—'}</td>
          </tr>
          <tr>
            <th scope="row">Status</th>
            <td>{e.status ?? '—'}</td>
          </tr>
          <tr>
            <th scope="row">Alerts</th>
            <td>{e.alerts}</td>
          </tr>
          <tr>
            <th scope="row">Rule</th>
            <td class="wrap">
              <RuleText e={e} names={props.names} />
            </td>
          </tr>
          <tr>
            <th scope="row">Outcome</th>
            <td class="wrap">
              <OutcomeText e={e} />
            </td>
          </tr>
          <tr>
            <th scope="row">Reason</th>
            <td class="wrap">{e.reason ?? '—'}</td>
          </tr>
        </tbody>
      </table>
      <section aria-labelledby="notes-title">
        <h2 id="notes-title">Notes</h2>
        {e.notes.length === 0 ? (
          <p>None: no alert was set aside.</p>
        ) : (
          <ul class="wrap">
            {e.notes.map((n) => (
              <li>{n}</li>
            ))}
          </ul>
        )}
      </section>
      <section aria-labelledby="payload-title">
        <h2 id="payload-title">Payload</h2>
        <p class="muted">As received (at most the first 64 KiB).</p>
        <pre class="excerpt payload">{prettyPayload(e.payload)}</pre>
      </section>
    </ConsoleLayout>
  );
}
