import { STATUS_WORDS } from '../format.ts';
import { Time } from '../layout.tsx';
import type { ConsoleMeta } from '../view.ts';
import { ConsoleLayout } from './layout.tsx';
import { ErrorSummary, FormGuard, Select, TextArea, TextInput, type Errors } from './forms.tsx';

/** The idempotency keys of one row's buttons (each form its own: a double click writes once). */
export interface RowKeys {
  readonly up: string;
  readonly down: string;
  readonly retire: string;
  readonly restore: string;
}

export interface ComponentVM {
  readonly slug: string;
  readonly name: string;
  readonly description: string | null;
  readonly group: string | null;
  readonly only_show_if_degraded: boolean;
  readonly showcase: boolean;
  readonly start_date: string | null;
  readonly status: keyof typeof STATUS_WORDS;
  readonly retired_at: string | null;
  /** Not first / not last among its siblings. */
  readonly canUp: boolean;
  readonly canDown: boolean;
  readonly keys: RowKeys;
}

export interface GroupVM {
  readonly slug: string;
  readonly name: string;
  readonly description: string | null;
  readonly status: keyof typeof STATUS_WORDS;
  readonly retired_at: string | null;
  readonly members: readonly ComponentVM[];
  readonly canUp: boolean;
  readonly canDown: boolean;
  readonly keys: RowKeys;
}

/** A top-level item of the page, in page order. */
export type ItemVM = { readonly group: GroupVM } | { readonly component: ComponentVM };

export interface ComponentValues {
  readonly slug: string;
  readonly name: string;
  readonly description: string;
  readonly group: string;
  readonly only_show_if_degraded: boolean;
  readonly start_date: string;
}

export interface GroupValues {
  readonly slug: string;
  readonly name: string;
  readonly description: string;
}

export interface ComponentsPageProps {
  readonly meta: ConsoleMeta;
  readonly items: readonly ItemVM[];
  readonly retired: { readonly components: readonly ComponentVM[]; readonly groups: readonly GroupVM[] };
  /** Live groups a component may join: [slug, name]. */
  readonly groups: readonly (readonly [string, string])[];
  /** May this session change components (components:write or admin)? */
  readonly canWrite: boolean;
  /** Problems of a row's button (a group that still has members …). */
  readonly errors: Errors;
  readonly add: { readonly values: ComponentValues; readonly errors: Errors; readonly formKey: string };
  readonly addGroup: { readonly values: GroupValues; readonly errors: Errors; readonly formKey: string };
}

const COMPONENT_LABELS = { slug: 'Slug', name: 'Name', description: 'Description', group: 'Group', only_show_if_degraded: 'Only show if degraded', start_date: 'Start date', position: 'Position' };
const GROUP_LABELS = { slug: 'Slug', name: 'Name', description: 'Description', position: 'Position' };
const SLUG_HINT = 'Lowercase letters, digits, - or _ (at most 40). It never changes, and components and groups share one set of slugs.';
const groupOptions = (groups: ComponentsPageProps['groups']) => [['', 'No group (top level)'] as const, ...groups.map(([slug, name]) => [slug, `${name} (${slug})`] as const)];

function Status({ status }: { status: keyof typeof STATUS_WORDS }) {
  return <span class={`status ${status}`}>{STATUS_WORDS[status]}</span>;
}

/** A one-button form carrying its own idempotency key. */
function Button(props: { action: string; csrf: string; formKey: string; label: string; hidden?: Readonly<Record<string, string>>; class?: string; aria?: string }) {
  return (
    <form method="post" action={props.action} class="inline">
      <FormGuard csrf={props.csrf} formKey={props.formKey} />
      {Object.entries(props.hidden ?? {}).map(([k, v]) => (
        <input type="hidden" name={k} value={v} />
      ))}
      <button type="submit" class={props.class ?? 'link'} aria-label={props.aria}>
        {props.label}
      </button>
    </form>
  );
}

function Actions(props: { base: string; name: string; csrf: string; item: { canUp: boolean; canDown: boolean; keys: RowKeys; retired_at: string | null }; editHref: string }) {
  const { base, name, csrf, item } = props;
  if (item.retired_at !== null) return <Button action={`${base}/restore`} csrf={csrf} formKey={item.keys.restore} label="Restore" aria={`Restore ${name}`} />;
  return (
    <>
      <a href={props.editHref} aria-label={`Edit ${name}`}>
        Edit
      </a>{' '}
      {item.canUp && <Button action={`${base}/move`} csrf={csrf} formKey={item.keys.up} hidden={{ direction: 'up' }} label="Move up" aria={`Move up: ${name}`} />}{' '}
      {item.canDown && <Button action={`${base}/move`} csrf={csrf} formKey={item.keys.down} hidden={{ direction: 'down' }} label="Move down" aria={`Move down: ${name}`} />}{' '}
      <Button action={`${base}/retire`} csrf={csrf} formKey={item.keys.retire} label="Retire" aria={`Retire ${name}`} />
    </>
  );
}

function notes(c: ComponentVM): string {
  return [c.only_show_if_degraded ? 'only shown if degraded' : '', c.showcase ? '' : 'no bars'].filter(Boolean).join(', ');
}

function ComponentRow({ c, csrf, canWrite, member, now }: { c: ComponentVM; csrf: string; canWrite: boolean; member?: boolean; now: string }) {
  return (
    <tr id={`component-${c.slug}`}>
      <th scope="row" class={member ? 'member' : undefined}>
        {member ? '↳ ' : ''}
        {c.name} <code>{c.slug}</code>
        {c.description && <div class="muted">{c.description}</div>}
      </th>
      <td>
        <Status status={c.status} />
      </td>
      <td>{c.start_date ?? '—'}</td>
      <td>{c.retired_at ? <>retired <Time iso={c.retired_at} now={now} /></> : notes(c)}</td>
      {canWrite && (
        <td>
          <Actions base={`/console/components/${c.slug}`} name={c.name} csrf={csrf} item={c} editHref={`/console/components/${c.slug}/edit`} />
        </td>
      )}
    </tr>
  );
}

function GroupRow({ g, csrf, canWrite, now }: { g: GroupVM; csrf: string; canWrite: boolean; now: string }) {
  return (
    <tr id={`group-${g.slug}`} class="group">
      <th scope="row">
        <strong>{g.name}</strong> <code>{g.slug}</code> (group)
        {g.description && <div class="muted">{g.description}</div>}
      </th>
      <td>{g.retired_at === null && <Status status={g.status} />}</td>
      <td></td>
      <td>{g.retired_at ? <>retired <Time iso={g.retired_at} now={now} /></> : g.members.length === 0 ? 'empty: not shown on the page' : ''}</td>
      {canWrite && (
        <td>
          <Actions base={`/console/component-groups/${g.slug}`} name={g.name} csrf={csrf} item={g} editHref={`/console/component-groups/${g.slug}/edit`} />
        </td>
      )}
    </tr>
  );
}

function Head({ canWrite }: { canWrite: boolean }) {
  return (
    <thead>
      <tr>
        <th scope="col">Component</th>
        <th scope="col">Status</th>
        <th scope="col">Start date</th>
        <th scope="col">Notes</th>
        {canWrite && (
          <th scope="col">
            <span class="sr-only">Actions</span>
          </th>
        )}
      </tr>
    </thead>
  );
}

/** /console/components: the page's components and groups in page order, and the forms to change them. */
export function ComponentsPage(props: ComponentsPageProps) {
  const { meta, canWrite } = props;
  const now = meta.page.now;
  const csrf = meta.csrf;
  const retiredCount = props.retired.components.length + props.retired.groups.length;
  return (
    <ConsoleLayout meta={meta} title="Components" wide>
      <h1>Components</h1>
      <p class="muted">In the order the status page lists them: groups and ungrouped components by position together, each group's members under it. Renaming shows everywhere at once; retiring keeps a component's incidents and bars.</p>
      <ErrorSummary errors={props.errors} labels={{}} />
      {props.items.length === 0 ? (
        <p>No components.</p>
      ) : (
        <table class="components">
          <Head canWrite={canWrite} />
          <tbody>
            {props.items.flatMap((item) =>
              'group' in item
                ? [<GroupRow g={item.group} csrf={csrf} canWrite={canWrite} now={now} />, ...item.group.members.map((c) => <ComponentRow c={c} csrf={csrf} canWrite={canWrite} member now={now} />)]
                : [<ComponentRow c={item.component} csrf={csrf} canWrite={canWrite} now={now} />],
            )}
          </tbody>
        </table>
      )}
      {retiredCount > 0 && (
        <section aria-labelledby="retired-title">
          <h2 id="retired-title">Retired</h2>
          <table>
            <Head canWrite={canWrite} />
            <tbody>
              {props.retired.groups.map((g) => (
                <GroupRow g={g} csrf={csrf} canWrite={canWrite} now={now} />
              ))}
              {props.retired.components.map((c) => (
                <ComponentRow c={c} csrf={csrf} canWrite={canWrite} now={now} />
              ))}
            </tbody>
          </table>
        </section>
      )}
      {canWrite ? (
        <div class="split">
          <section aria-labelledby="add-title">
            <h2 id="add-title">Add a component</h2>
            <ErrorSummary errors={props.add.errors} labels={COMPONENT_LABELS} />
            <form method="post" action="/console/components" class="stack">
              <FormGuard csrf={csrf} formKey={props.add.formKey} />
              <TextInput name="slug" label={COMPONENT_LABELS.slug} value={props.add.values.slug} required errors={props.add.errors} hint={SLUG_HINT} />
              <ComponentFields values={props.add.values} errors={props.add.errors} groups={props.groups} startHint="Its bars and uptime count from this day (UTC). Blank: today." />
              <div class="actions">
                <button type="submit">Add component</button>
              </div>
            </form>
          </section>
          <section aria-labelledby="add-group-title">
            <h2 id="add-group-title">Add a group</h2>
            <ErrorSummary errors={props.addGroup.errors} labels={GROUP_LABELS} idPrefix="group-" />
            <form method="post" action="/console/component-groups" class="stack">
              <FormGuard csrf={csrf} formKey={props.addGroup.formKey} />
              <TextInput name="slug" idPrefix="group-" label={GROUP_LABELS.slug} value={props.addGroup.values.slug} required errors={props.addGroup.errors} hint={SLUG_HINT} />
              <TextInput name="name" idPrefix="group-" label={GROUP_LABELS.name} value={props.addGroup.values.name} required errors={props.addGroup.errors} hint="e.g. Apps, Data, Tools" />
              <TextArea name="description" idPrefix="group-" label={GROUP_LABELS.description} value={props.addGroup.values.description} rows={2} errors={props.addGroup.errors} />
              <div class="actions">
                <button type="submit">Add group</button>
              </div>
            </form>
            <p class="muted">A group goes last among the top-level items; the page shows it once it has a component (edit a component to put it in).</p>
          </section>
        </div>
      ) : (
        <p class="muted">Your token cannot change components: that takes the components:write or admin scope.</p>
      )}
    </ConsoleLayout>
  );
}

function ComponentFields(props: { values: ComponentValues; errors: Errors; groups: ComponentsPageProps['groups']; startHint: string }) {
  const { values, errors } = props;
  return (
    <>
      <TextInput name="name" label={COMPONENT_LABELS.name} value={values.name} required errors={errors} />
      <TextArea name="description" label={COMPONENT_LABELS.description} value={values.description} rows={2} errors={errors} hint="Optional; at most 1000 characters." />
      <Select name="group" label={COMPONENT_LABELS.group} value={values.group} options={groupOptions(props.groups)} errors={errors} />
      <div class="field">
        {(errors.only_show_if_degraded ?? []).length > 0 && <p class="field-error">{errors.only_show_if_degraded!.join('; ')}</p>}
        <label>
          <input type="checkbox" name="only_show_if_degraded" value="on" checked={values.only_show_if_degraded} /> Only show on the status page while it is not operational
        </label>
      </div>
      <TextInput name="start_date" type="date" label={COMPONENT_LABELS.start_date} value={values.start_date} errors={errors} hint={props.startHint} placeholder="YYYY-MM-DD" />
    </>
  );
}

/** /console/components/:slug/edit */
export function ComponentEditPage(props: { meta: ConsoleMeta; slug: string; values: ComponentValues; errors: Errors; groups: ComponentsPageProps['groups']; formKey: string }) {
  const { meta, errors } = props;
  return (
    <ConsoleLayout meta={meta} title={`Edit ${props.slug}`}>
      <p>
        <a href="/console/components">← Components</a>
      </p>
      <h1>
        Edit component <code>{props.slug}</code>
      </h1>
      <ErrorSummary errors={errors} labels={COMPONENT_LABELS} />
      <form method="post" action={`/console/components/${props.slug}`} class="stack">
        <FormGuard csrf={meta.csrf} formKey={props.formKey} />
        <ComponentFields values={props.values} errors={errors} groups={props.groups} startHint="Its bars and uptime count from this day (UTC). Blank: as far back as there is history." />
        <div class="actions">
          <button type="submit">Save</button>
        </div>
      </form>
      <p class="muted">A new name shows everywhere at once, on past incidents too. Moving it to another group puts it last there.</p>
    </ConsoleLayout>
  );
}

/** /console/component-groups/:slug/edit */
export function GroupEditPage(props: { meta: ConsoleMeta; slug: string; values: GroupValues; errors: Errors; formKey: string }) {
  const { meta, errors } = props;
  return (
    <ConsoleLayout meta={meta} title={`Edit group ${props.slug}`}>
      <p>
        <a href="/console/components">← Components</a>
      </p>
      <h1>
        Edit group <code>{props.slug}</code>
      </h1>
      <ErrorSummary errors={errors} labels={GROUP_LABELS} />
      <form method="post" action={`/console/component-groups/${props.slug}`} class="stack">
        <FormGuard csrf={meta.csrf} formKey={props.formKey} />
        <TextInput name="name" label={GROUP_LABELS.name} value={props.values.name} required errors={errors} />
        <TextArea name="description" label={GROUP_LABELS.description} value={props.values.description} rows={2} errors={errors} />
        <div class="actions">
          <button type="submit">Save</button>
        </div>
      </form>
    </ConsoleLayout>
  );
}
