import type { AlertRuleView, InboxView } from '../../services/alerts.ts';
import { CliUsageError } from '../client.ts';
import type { CommandSpec, Context } from '../command.ts';
import { idArg, need, pairs } from '../input.ts';
import { keyValues, oneLine, paintMode, paintStatus, table, when } from '../output.ts';

/**
 * Alert rules on /api/v1/alert-rules and the intake's inbox on /api/v1/alerts/inbox (admin token):
 * `alert-rules` lists the rules in the order they are tried, `alert-rule:add|update|remove`
 * change them (each change a new version), `alert-rule:show` shows one with its versions;
 * `alerts:inbox` lists what Alertmanager and Grafana sent and what each notification did,
 * `alerts:inbox:show` one of them with its notes and body. The rule routes take no
 * Idempotency-Key, so none is sent.
 */

type RuleWithVersions = AlertRuleView & { readonly versions: readonly { version: number; changed_at: string; changed_by: string }[] };
type InboxEntry = InboxView & { readonly payload: string };

const TEMPLATE_KEYS = ['title', 'opened', 'added', 'recovered'] as const;

const RULE_FLAGS = {
  name: { type: 'string', value: 'NAME', help: 'what the inbox and the audit log call it (1 to 200 characters)' },
  matchers: { type: 'string', value: 'MATCHERS', help: 'Alertmanager\'s syntax, comma-separated: \'severity=~"critical|page",team="checkout"\'' },
  source: { type: 'string', value: 'SENDER', help: 'alertmanager, grafana or both (default both)' },
  'component-label': { type: 'string', value: 'LABEL', help: 'the alert label whose value is the component\'s slug (default environment)' },
  component: { type: 'string', value: 'SLUG', help: 'always this component, whatever the labels say' },
  status: { type: 'string', value: 'STATUS', help: 'the component\'s status while the alerts fire: yellow, orange, red or blue (default red)' },
  mode: { type: 'string', multiple: true, value: 'ROLE=MODE', help: 'a role\'s mode while they fire: full, read_only or maintenance (repeat, or R=M,R=M)' },
  'auto-resolve': { type: 'boolean', help: 'resolve the incident when every alert has resolved (never one a commander posted to)' },
  'quiet-minutes': { type: 'string', value: 'N', help: 'after a commander resolves an incident, its alerts open none for N minutes (0 to 10080; default 30)' },
  'title-template': { type: 'string', value: 'TEXT', help: 'the incident\'s title: {{ labels.NAME }}, {{ annotations.NAME }}, {{ count }} ("" for the default)' },
  'opened-template': { type: 'string', value: 'TEXT', help: 'the first update (Markdown; {{ alerts }} lists them; "" for the default)' },
  'added-template': { type: 'string', value: 'TEXT', help: 'the update when more alerts start firing ("" for the default)' },
  'recovered-template': { type: 'string', value: 'TEXT', help: 'the update when every alert has resolved ("" for the default)' },
  position: { type: 'string', value: 'N', help: '1-based place in the order rules are tried; the others move down' },
  disabled: { type: 'boolean', help: 'keep it, but skip it when matching' },
} as const;

function whole(ctx: Context, flag: string, min: number): number | undefined {
  const raw = ctx.str(flag);
  if (raw === undefined) return undefined;
  if (!/^\d{1,6}$/.test(raw) || Number(raw) < min) throw new CliUsageError(`--${flag} takes a whole number, ${min} or more (got ${JSON.stringify(raw)})`);
  return Number(raw);
}

/** The body of an add or update from the flags given (a flag not given is left out). */
function ruleBody(ctx: Context): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  if (ctx.str('name') !== undefined) body.name = ctx.str('name');
  if (ctx.str('matchers') !== undefined) body.matchers = ctx.str('matchers');
  const source = ctx.str('source');
  if (source !== undefined) body.source = source === 'both' ? null : source;
  const label = ctx.str('component-label');
  const fixed = ctx.str('component');
  if (label !== undefined && fixed !== undefined) throw new CliUsageError('give --component-label or --component, not both');
  if (label !== undefined) body.component_label = label;
  if (fixed !== undefined) body.component = fixed;
  if (ctx.str('status') !== undefined) body.status = ctx.str('status');
  const modes = pairs(ctx, 'mode');
  if (modes) body.modes = modes;
  if (ctx.flag('auto-resolve')) body.auto_resolve = true;
  const quiet = whole(ctx, 'quiet-minutes', 0);
  if (quiet !== undefined) body.quiet_period_minutes = quiet;
  const templates = Object.fromEntries(TEMPLATE_KEYS.filter((k) => ctx.str(`${k}-template`) !== undefined).map((k) => [k, ctx.str(`${k}-template`)]));
  if (Object.keys(templates).length > 0) body.templates = templates;
  const position = whole(ctx, 'position', 1);
  if (position !== undefined) body.position = position;
  if (ctx.flag('disabled')) body.enabled = false;
  return body;
}

const componentText = (r: AlertRuleView) => ('fixed' in r.component ? r.component.fixed : `label ${r.component.label}`);
const modesText = (r: AlertRuleView) => Object.entries(r.modes).map(([role, mode]) => `${role}=${mode}`).join(',') || '-';

function said(ctx: Context, r: AlertRuleView, line: string) {
  if (ctx.flag('json')) return ctx.o.json(r);
  ctx.o.out(String(r.id));
  ctx.o.err(line);
}

const request = <T>(ctx: Context, method: string, path: string, body?: Record<string, unknown>) => ctx.client().request<T>(method, path, { auth: true, ...(body ? { body } : {}) });

const rulesList: CommandSpec = {
  name: 'alert-rules',
  kind: 'write', // needs an admin token; writes nothing
  withoutKey: true,
  summary: 'the alert rules, in the order they are tried',
  usage: 'alert-rules [--json]',
  description: ['Lists the rules that decide what Alertmanager\'s and Grafana\'s notifications do: the first enabled rule that matches one of a notification\'s alerts decides.'],
  examples: ['herald alert-rules'],
  async run(ctx) {
    const { body } = await request<AlertRuleView[]>(ctx, 'GET', '/api/v1/alert-rules');
    if (ctx.flag('json')) return ctx.o.json(body);
    if (body.length === 0) return ctx.o.err('No alert rules: every notification is recorded as "no rule matched". Add one: herald alert-rule:add --name Pages --matchers \'severity="page"\'');
    const p = ctx.o.colour.stdout;
    ctx.o.out(
      ...table(
        body.map((r) => [String(r.id), String(r.position), r.name, r.source ?? 'both', r.matchers, componentText(r), paintStatus(p, r.status), modesText(r), r.auto_resolve ? 'yes' : 'no', `${r.quiet_period_minutes}m`, r.enabled ? 'yes' : 'no', `v${r.version}`]),
        ['ID', 'POS', 'NAME', 'SENDER', 'MATCHERS', 'COMPONENT', 'STATUS', 'MODES', 'AUTO-RESOLVE', 'QUIET', 'ENABLED', 'VERSION'],
        p,
      ),
    );
  },
};

const ruleAdd: CommandSpec = {
  name: 'alert-rule:add',
  kind: 'write',
  withoutKey: true,
  summary: 'add an alert rule; stdout: its id',
  usage:
    'alert-rule:add --name NAME --matchers MATCHERS [--component-label LABEL | --component SLUG] [--status STATUS] [--mode ROLE=MODE]... [--auto-resolve] [--quiet-minutes N] [--title-template TEXT] [--opened-template TEXT] [--added-template TEXT] [--recovered-template TEXT] [--source SENDER] [--position N] [--disabled]',
  description: [
    'Adds a rule, last in the order unless --position says where. A notification whose alerts it',
    'matches opens an incident on the component the label names (or --component), with --status',
    'and --mode, and posts updates as alerts start and resolve. Every problem is listed at once;',
    'nothing is saved unless the whole rule is right.',
  ],
  flags: RULE_FLAGS,
  examples: ['herald alert-rule:add --name Pages --matchers \'severity=~"critical|page"\' --mode web=read_only --auto-resolve', 'herald alert-rule:add --name "Checkout DB" --matchers \'team="db"\' --component production --status orange --source grafana'],
  async run(ctx) {
    need(ctx, [ctx.str('name') === undefined ? '--name' : '', ctx.str('matchers') === undefined ? '--matchers' : ''].filter(Boolean));
    const { body } = await request<AlertRuleView>(ctx, 'POST', '/api/v1/alert-rules', ruleBody(ctx));
    said(ctx, body, `Added alert rule #${body.id} "${body.name}" (position ${body.position}${body.enabled ? '' : ', disabled'}).`);
  },
};

const ruleUpdate: CommandSpec = {
  name: 'alert-rule:update',
  kind: 'write',
  withoutKey: true,
  args: [1, 1],
  summary: 'change an alert rule (a new version)',
  usage: 'alert-rule:update ID [--name NAME] [--matchers MATCHERS] [--component-label LABEL | --component SLUG] [--status STATUS] [--mode ROLE=MODE]... [--no-modes] [--auto-resolve | --no-auto-resolve] [--quiet-minutes N] [--title-template TEXT] [--opened-template TEXT] [--added-template TEXT] [--recovered-template TEXT] [--source SENDER] [--position N] [--enabled | --disabled]',
  description: ['Changes what the flags say and nothing else; each change is a new version (herald alert-rule:show ID lists them). --mode replaces the rule\'s modes.'],
  flags: {
    ...RULE_FLAGS,
    'no-modes': { type: 'boolean', help: 'set no role\'s mode' },
    'no-auto-resolve': { type: 'boolean', help: 'leave incidents open when the alerts resolve' },
    enabled: { type: 'boolean', help: 'match notifications against it again' },
  },
  examples: ['herald alert-rule:update 3 --status orange --quiet-minutes 60', 'herald alert-rule:update 3 --disabled'],
  async run(ctx) {
    const id = idArg(ctx);
    const body = ruleBody(ctx);
    const both = (a: string, b: string) => ctx.flag(a) && (ctx.flag(b) || ctx.str(b) !== undefined || ctx.list(b).length > 0);
    if (both('enabled', 'disabled')) throw new CliUsageError('give --enabled or --disabled, not both');
    if (both('no-auto-resolve', 'auto-resolve')) throw new CliUsageError('give --auto-resolve or --no-auto-resolve, not both');
    if (both('no-modes', 'mode')) throw new CliUsageError('give --mode or --no-modes, not both');
    if (ctx.flag('enabled')) body.enabled = true;
    if (ctx.flag('no-auto-resolve')) body.auto_resolve = false;
    if (ctx.flag('no-modes')) body.modes = {};
    if (Object.keys(body).length === 0) throw new CliUsageError('nothing to change: give at least one option (see herald alert-rule:update --help)');
    const res = await request<AlertRuleView>(ctx, 'PATCH', `/api/v1/alert-rules/${id}`, body);
    said(ctx, res.body, `Updated alert rule #${res.body.id} "${res.body.name}": now version ${res.body.version}.`);
  },
};

const ruleRemove: CommandSpec = {
  name: 'alert-rule:remove',
  kind: 'write',
  withoutKey: true,
  args: [1, 1],
  summary: 'remove an alert rule (its versions and inbox entries stay)',
  usage: 'alert-rule:remove ID',
  examples: ['herald alert-rule:remove 3'],
  async run(ctx) {
    const res = await request<AlertRuleView>(ctx, 'DELETE', `/api/v1/alert-rules/${idArg(ctx)}`);
    said(ctx, res.body, `Removed alert rule #${res.body.id} "${res.body.name}"; its versions and the inbox entries naming it stay.`);
  },
};

const ruleShow: CommandSpec = {
  name: 'alert-rule:show',
  kind: 'write', // needs an admin token; writes nothing
  withoutKey: true,
  args: [1, 1],
  summary: 'one alert rule, its templates and its versions',
  usage: 'alert-rule:show ID [--json]',
  examples: ['herald alert-rule:show 3'],
  async run(ctx) {
    const { body: r } = await request<RuleWithVersions>(ctx, 'GET', `/api/v1/alert-rules/${idArg(ctx)}`);
    if (ctx.flag('json')) return ctx.o.json(r);
    const p = ctx.o.colour.stdout;
    ctx.o.out(
      ...keyValues(
        [
          ['Rule', `#${r.id} ${r.name}`],
          ['Position', String(r.position)],
          ['Sender', r.source ?? 'both'],
          ['Matchers', r.matchers],
          ['Component', 'fixed' in r.component ? r.component.fixed : `from label ${r.component.label}`],
          ['Status', paintStatus(p, r.status)],
          ['Modes', Object.entries(r.modes).map(([role, mode]) => `${role} ${paintMode(p, mode)}`).join(', ') || 'none'],
          ['Auto-resolve', r.auto_resolve ? 'yes' : 'no'],
          ['Quiet period', `${r.quiet_period_minutes} minutes`],
          ['Enabled', r.enabled ? 'yes' : 'no'],
          ['Version', `${r.version} (${when(r.updated_at)})`],
          ['Created', `${when(r.created_at)} by ${r.created_by}`],
          ...TEMPLATE_KEYS.map((k): [string, string] => [`${k.charAt(0).toUpperCase()}${k.slice(1)} template`, r.templates[k] === null ? '(default)' : oneLine(r.templates[k]!)]),
        ],
        p,
      ),
      '',
      ...table(r.versions.map((v) => [`v${v.version}`, when(v.changed_at), v.changed_by]), ['VERSION', 'WHEN', 'WHO'], p),
    );
  },
};

/** What a notification did, in words: "opened", "ignored", "no rule matched". */
const outcomeWords = (e: InboxView) => (e.outcome === 'unmatched' ? 'no rule matched' : e.outcome);

const inboxList: CommandSpec = {
  name: 'alerts:inbox',
  kind: 'write', // needs an admin token; writes nothing
  withoutKey: true,
  summary: 'the notifications received, newest first, and what each did',
  usage: 'alerts:inbox [--limit N] [--before ID] [--json]',
  flags: {
    limit: { type: 'string', value: 'N', help: 'how many (default 20, at most 500)' },
    before: { type: 'string', value: 'ID', help: 'only entries older than this one (the next page)' },
  },
  examples: ['herald alerts:inbox --limit 5', 'herald alerts:inbox:show 42'],
  async run(ctx) {
    const limit = String(whole(ctx, 'limit', 1) ?? 20);
    const before = ctx.str('before');
    if (before !== undefined && !/^\d{1,18}$/.test(before)) throw new CliUsageError(`--before takes an inbox entry's id (got ${JSON.stringify(before)})`);
    const { body } = await ctx.client().request<InboxView[]>('GET', '/api/v1/alerts/inbox', { auth: true, query: { limit, before } });
    if (ctx.flag('json')) return ctx.o.json(body);
    if (body.length === 0) return ctx.o.err('Nothing received yet.');
    const p = ctx.o.colour.stdout;
    ctx.o.out(...table(body.map((e) => [e.id, when(e.received_at), e.source, outcomeWords(e), e.incident_id === null ? '-' : `#${e.incident_id}`, e.reason === null ? '-' : oneLine(e.reason)]), ['ID', 'TIME', 'SENDER', 'OUTCOME', 'INCIDENT', 'REASON'], p));
  },
};

/** The body as received, indented when it is JSON (a clipped body is shown as it is). */
function pretty(payload: string): string {
  try {
    return JSON.stringify(JSON.parse(payload), null, 2);
  } catch {
    return payload;
  }
}

const inboxShow: CommandSpec = {
  name: 'alerts:inbox:show',
  kind: 'write', // needs an admin token; writes nothing
  withoutKey: true,
  args: [1, 1],
  summary: 'one received notification: what it did and why, its notes and its body',
  usage: 'alerts:inbox:show ID [--json]',
  examples: ['herald alerts:inbox:show 42'],
  async run(ctx) {
    const raw = ctx.args[0]!;
    if (!/^\d{1,18}$/.test(raw)) throw new CliUsageError(`ID must be a positive number (got ${JSON.stringify(raw)})`);
    const { body: e } = await request<InboxEntry>(ctx, 'GET', `/api/v1/alerts/inbox/${raw}`);
    if (ctx.flag('json')) return ctx.o.json(e);
    const p = ctx.o.colour.stdout;
    ctx.o.out(
      ...keyValues(
        [
          ['Entry', `#${e.id}`],
          ['Received', when(e.received_at)],
          ['Sender', e.source],
          ['Group', e.group_key ?? '-'],
          ['Status', e.status ?? '-'],
          ['Alerts', String(e.alerts)],
          ['Rule', e.rule === null ? '-' : `#${e.rule.id}${e.rule.version === null ? '' : ` v${e.rule.version}`}`],
          ['Outcome', outcomeWords(e)],
          ['Incident', e.incident_id === null ? '-' : `#${e.incident_id}`],
          ['Reason', e.reason ?? '-'],
        ],
        p,
      ),
      '',
      p.bold('Notes:'),
      ...(e.notes.length === 0 ? ['  none'] : e.notes.map((n) => `  - ${n}`)),
      '',
      p.bold('Payload:'),
      pretty(e.payload),
    );
  },
};

export const alertCommands: readonly CommandSpec[] = [rulesList, ruleAdd, ruleUpdate, ruleRemove, ruleShow, inboxList, inboxShow];
