import { Hono, type Context } from 'hono';
import { MODES, STATUSES } from '../../domain/vocabulary.ts';
import * as alerts from '../../services/alerts.ts';
import type { Deps } from '../../services/deps.ts';
import { requireScope } from '../../services/tokens.ts';
import type { Errors } from '../../../templates/console/forms.tsx';
import {
  AlertsPage,
  InboxEntryPage,
  RemoveRuleConfirmPage,
  RulePage,
  type AlertRuleVM,
  type RuleChoices,
  type RuleValues,
} from '../../../templates/console/alerts-page.tsx';
import { idParam } from '../http.ts';
import { attempt, consoleMeta, formCommand, newFormKey, page, readForm, seeOther, text, type Form } from './kit.ts';
import type { ConsoleEnv } from './session.ts';

type Status = 200 | 400 | 403 | 404 | 409 | 422;

/** Inbox entries per page of /console/alerts. */
const INBOX_PER_PAGE = 50;

const NOTICES: Readonly<Record<string, string>> = {
  'rule-added': 'Rule added. Notifications are matched against it from now on.',
  'rule-saved': 'Rule saved as a new version.',
  'rule-moved': 'Rule moved.',
  'rule-removed': 'Rule removed. Its versions and the inbox entries naming it stay.',
};

const TEMPLATE_KEYS = ['title', 'opened', 'added', 'recovered'] as const;

const emptyValues = (): RuleValues => ({
  name: '',
  matchers: '',
  source: '',
  component_from: 'label',
  component_label: 'environment',
  component: '',
  status: 'red',
  modes: {},
  auto_resolve: false,
  quiet_period_minutes: '30',
  templates: { title: '', opened: '', added: '', recovered: '' },
  enabled: true,
  position: '',
});

function valuesOf(form: Form, roles: readonly string[]): RuleValues {
  return {
    name: text(form, 'name'),
    matchers: text(form, 'matchers'),
    source: text(form, 'source'),
    component_from: text(form, 'component_from') === 'fixed' ? 'fixed' : 'label',
    component_label: text(form, 'component_label').trim(),
    component: text(form, 'component'),
    status: text(form, 'status'),
    modes: Object.fromEntries(roles.map((r) => [r, text(form, `modes.${r}`)])),
    auto_resolve: text(form, 'auto_resolve') !== '',
    quiet_period_minutes: text(form, 'quiet_period_minutes'),
    templates: { title: text(form, 'templates.title'), opened: text(form, 'templates.opened'), added: text(form, 'templates.added'), recovered: text(form, 'templates.recovered') },
    enabled: text(form, 'enabled') !== '',
    position: text(form, 'position'),
  };
}

function valuesOfRule(r: AlertRuleVM): RuleValues {
  return {
    name: r.name,
    matchers: r.matchers,
    source: r.source ?? '',
    component_from: 'fixed' in r.component ? 'fixed' : 'label',
    component_label: 'label' in r.component ? r.component.label : 'environment',
    component: 'fixed' in r.component ? r.component.fixed : '',
    status: r.status,
    modes: r.modes,
    auto_resolve: r.auto_resolve,
    quiet_period_minutes: String(r.quiet_period_minutes),
    templates: { title: r.templates.title ?? '', opened: r.templates.opened ?? '', added: r.templates.added ?? '', recovered: r.templates.recovered ?? '' },
    enabled: r.enabled,
    position: String(r.position),
  };
}

/** Text that is no number reaches the schema as NaN, which it refuses in its own words; blank is "not given". */
const numberOf = (s: string) => (s.trim() === '' ? undefined : Number(s.trim()));

/**
 * The API's body for what a form says: the component from one of its two fields, the roles left
 * alone left out, a blank template none (the default wording).
 */
function bodyOf(v: RuleValues, kind: 'create' | 'update'): Record<string, unknown> {
  const quiet = numberOf(v.quiet_period_minutes);
  const position = kind === 'create' ? numberOf(v.position) : undefined;
  return {
    name: v.name,
    matchers: v.matchers,
    source: v.source === '' ? null : v.source,
    ...(v.component_from === 'fixed' ? { component: v.component } : { component_label: v.component_label }),
    status: v.status,
    modes: Object.fromEntries(Object.entries(v.modes).filter(([, mode]) => mode !== '')),
    auto_resolve: v.auto_resolve,
    ...(quiet !== undefined && { quiet_period_minutes: quiet }),
    templates: Object.fromEntries(TEMPLATE_KEYS.map((k) => [k, v.templates[k]])),
    enabled: v.enabled,
    ...(position !== undefined && { position }),
  };
}

/**
 * /console/alerts (admin, as the API's /api/v1/alert-rules and inbox): the rules in the order
 * they are tried, adding, editing (each save a new version), moving and removing one; the inbox
 * of received notifications and what each did; and where Alertmanager and Grafana post. The same
 * use cases as the API.
 */
export function consoleAlerts(deps: Deps) {
  const app = new Hono<ConsoleEnv>();

  /** Every handler checks the scope itself (a 403 page from the console's error handler). */
  const admin = (c: Context<ConsoleEnv>) => requireScope(c.get('actor'), 'admin');
  /** Components are checked against the database's list now, as the form offered them. */
  const live = (c: Context<ConsoleEnv>): Deps => ({ ...deps, config: c.get('config') });
  const meta = (c: Context<ConsoleEnv>) => ({ ...consoleMeta(c, deps, 'alerts'), notice: NOTICES[c.req.query('done') ?? ''] });
  const choices = (c: Context<ConsoleEnv>): RuleChoices => ({
    components: c.get('config').environments,
    roles: c.get('config').roles,
    statuses: STATUSES.filter((s) => s !== 'green'),
    modes: MODES,
  });
  const rulesOf = async () => alerts.listRules(deps);
  const namesOf = (rules: readonly AlertRuleVM[]) => Object.fromEntries(rules.map((r) => [r.id, r.name]));

  async function listPage(c: Context<ConsoleEnv>, add: { values: RuleValues; errors: Errors } = { values: emptyValues(), errors: {} }, status: Status = 200) {
    const before = c.req.query('before');
    const cursor = before !== undefined && /^\d{1,18}$/.test(before) ? before : undefined;
    const [rules, inbox] = await Promise.all([rulesOf(), alerts.listInbox(deps, { limit: INBOX_PER_PAGE + 1, before: cursor })]);
    const shown = inbox.slice(0, INBOX_PER_PAGE);
    const last = shown.at(-1);
    const base = c.get('config').publicUrl.replace(/\/+$/, '');
    return page(
      c,
      <AlertsPage
        meta={meta(c)}
        rules={rules.map((rule, i) => ({ rule, canUp: i > 0, canDown: i < rules.length - 1, keys: { up: newFormKey(), down: newFormKey() } }))}
        inbox={shown}
        names={namesOf(rules)}
        older={inbox.length > INBOX_PER_PAGE && last ? `/console/alerts?before=${last.id}#inbox` : null}
        newer={cursor !== undefined ? '/console/alerts#inbox' : null}
        urls={{ alertmanager: `${base}/api/v1/alerts/alertmanager`, grafana: `${base}/api/v1/alerts/grafana` }}
        choices={choices(c)}
        add={{ ...add, formKey: newFormKey() }}
      />,
      status,
    );
  }

  async function rulePage(c: Context<ConsoleEnv>, id: number, rejected: { values: RuleValues; errors: Errors } | null = null, status: Status = 200) {
    const { versions, ...rule } = await alerts.getRule(deps, id);
    const edit = { values: rejected?.values ?? valuesOfRule(rule), errors: rejected?.errors ?? {}, formKey: newFormKey() };
    return page(c, <RulePage meta={meta(c)} rule={rule} versions={versions} choices={choices(c)} edit={edit} removeKey={newFormKey()} />, status);
  }

  app.get('/', (c) => {
    admin(c);
    return listPage(c);
  });

  app.post('/rules', async (c) => {
    admin(c);
    const form = await readForm(c);
    const values = valuesOf(form, c.get('config').roles);
    const made = await attempt(async () => alerts.createRule(live(c), await formCommand(c, form), bodyOf(values, 'create')));
    if (!made.ok) return listPage(c, { values, errors: made.errors }, made.status);
    return seeOther(c, `/console/alerts?done=rule-added#rule-${made.value.id}`);
  });

  app.get('/rules/:id', (c) => {
    admin(c);
    return rulePage(c, idParam(c, 'id', 'Rule'));
  });

  app.post('/rules/:id', async (c) => {
    admin(c);
    const id = idParam(c, 'id', 'Rule');
    const form = await readForm(c);
    const values = valuesOf(form, c.get('config').roles);
    const saved = await attempt(async () => alerts.updateRule(live(c), await formCommand(c, form), id, bodyOf(values, 'update')));
    if (!saved.ok) return rulePage(c, id, { values, errors: saved.errors }, saved.status);
    return seeOther(c, `/console/alerts/rules/${id}?done=rule-saved`);
  });

  /** One place up or down in the order the rules are tried. */
  app.post('/rules/:id/move', async (c) => {
    admin(c);
    const id = idParam(c, 'id', 'Rule');
    const form = await readForm(c);
    const current = await alerts.getRule(deps, id);
    const position = Math.max(1, current.position + (text(form, 'direction') === 'up' ? -1 : 1));
    await alerts.updateRule(live(c), await formCommand(c, form), id, { position });
    return seeOther(c, `/console/alerts?done=rule-moved#rule-${id}`);
  });

  /** First POST asks ("Remove rule #N?"); the second, with intent=confirm, removes. */
  app.post('/rules/:id/remove', async (c) => {
    admin(c);
    const id = idParam(c, 'id', 'Rule');
    const form = await readForm(c);
    if (text(form, 'intent') !== 'confirm') return page(c, <RemoveRuleConfirmPage meta={meta(c)} rule={await alerts.getRule(deps, id)} formKey={newFormKey()} />);
    // Confirmed twice (a double click, or another commander first): it is removed either way.
    const removed = await attempt(async () => alerts.removeRule(deps, await formCommand(c, form), id));
    if (!removed.ok && removed.status !== 404) return rulePage(c, id, null, removed.status);
    return seeOther(c, '/console/alerts?done=rule-removed');
  });

  app.get('/inbox/:id', async (c) => {
    admin(c);
    const [entry, rules] = await Promise.all([alerts.getInboxEntry(deps, c.req.param('id')), rulesOf()]);
    return page(c, <InboxEntryPage meta={meta(c)} entry={entry} names={namesOf(rules)} />);
  });

  return app;
}
