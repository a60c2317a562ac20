import * as z from 'zod';
import * as q from '../db/queries/alerts.ts';
import { findIncident, visibleUpdatesOf } from '../db/queries/incidents.ts';
import type { AlertGroupRow, AlertInboxRow, AlertRuleRow, UpdateRow } from '../db/schema.ts';
import { MODES, STATUSES, type Mode, type Status } from '../domain/vocabulary.ts';
import { AppError, type FieldProblem } from '../errors.ts';
import type { AlertRule, AlertSource, ReceivedNotification } from '../intake/alert.ts';
import { decide, type Decision, type KnownAlert } from '../intake/decide.ts';
import { formatMatchers, matches, parseMatchers } from '../intake/matchers.ts';
import { readAlertmanager, readGrafana } from '../intake/payloads.ts';
import { parseTemplate } from '../intake/wording.ts';
import { actorLabel, type Actor, type Deps } from './deps.ts';
import { appendUpdate, lockIncident, startIncident } from './incidents.ts';
import { problemsOf } from './schemas.ts';
import { inTransaction, type Command, type Work } from './unit-of-work.ts';

/**
 * Alert intake (docs/alerts.md): Alertmanager and Grafana post notifications; the first enabled
 * rule that matches one of a notification's alerts decides what it does to the timeline
 * (intake/decide.ts), and the change, the group's memory and the inbox row are written in one
 * transaction. The group's row is locked first, so notifications of one group apply one after
 * another whatever order they race in. Every notification, even an invalid one, leaves a row in
 * the inbox saying what it did.
 */

export interface AlertRuleView {
  readonly id: number;
  readonly name: string;
  readonly position: number;
  /** Which sender's alerts it reads; null: both. */
  readonly source: AlertSource | null;
  /** Alertmanager's matcher syntax, normalized: `{severity=~"critical|page"}`. */
  readonly matchers: string;
  /** Where the component comes from: `{ "label": "environment" }` or `{ "fixed": "production" }`. */
  readonly component: { readonly label: string } | { readonly fixed: string };
  readonly status: Status;
  readonly modes: Readonly<Record<string, Mode>>;
  readonly auto_resolve: boolean;
  readonly quiet_period_minutes: number;
  readonly templates: { readonly title: string | null; readonly opened: string | null; readonly added: string | null; readonly recovered: string | null };
  readonly enabled: boolean;
  readonly version: number;
  readonly created_at: string;
  readonly created_by: string;
  readonly updated_at: string;
}

export type IntakeOutcome = 'opened' | 'updated' | 'recovered' | 'resolved' | 'ignored' | 'unmatched' | 'invalid' | 'refused';

export interface InboxView {
  readonly id: string;
  readonly received_at: string;
  readonly source: string;
  readonly group_key: string | null;
  readonly status: string | null;
  readonly alerts: number;
  readonly rule: { readonly id: number; readonly version: number | null } | null;
  readonly outcome: IntakeOutcome;
  readonly incident_id: number | null;
  readonly reason: string | null;
  readonly notes: readonly string[];
}

/** What the sender is told: what its notification did. */
export interface IntakeResult {
  readonly inbox_id: string;
  readonly outcome: IntakeOutcome;
  readonly incident_id: number | null;
  readonly rule_id: number | null;
  readonly reason: string | null;
  readonly notes: readonly string[];
}

/** The inbox keeps this much of a body: enough to read a notification of a few hundred alerts. */
const PAYLOAD_KEPT = 64 * 1024;
const NOTES_KEPT = 50;

// ---------------------------------------------------------------------------------------------
// Rules

const TEMPLATE_KEYS = ['title', 'opened', 'added', 'recovered'] as const;

function ruleSchemas(roles: readonly string[], components: readonly string[]) {
  const name = z.string({ message: 'must be a string' }).trim().min(1, 'must not be empty').max(200, 'must be at most 200 characters');
  const matchers = z.union([z.string(), z.array(z.string())], { message: 'must be matchers in Alertmanager syntax, e.g. severity=~"critical|page"' }).transform((value, ctx) => {
    const text = Array.isArray(value) ? value.join(',') : value;
    const parsed = parseMatchers(text);
    if ('error' in parsed) {
      ctx.addIssue({ code: 'custom', message: parsed.error });
      return z.NEVER;
    }
    return formatMatchers(parsed);
  });
  const template = z
    .string({ message: 'must be a string or null' })
    .max(20_000, 'must be at most 20000 characters')
    .nullable()
    .transform((value, ctx) => {
      if (value === null || value.trim() === '') return null;
      const parsed = parseTemplate(value);
      if (!parsed.ok) for (const e of parsed.errors) ctx.addIssue({ code: 'custom', message: `line ${e.line}, column ${e.column}: ${e.message}` });
      return value;
    });
  const templates = z.strictObject(Object.fromEntries(TEMPLATE_KEYS.map((k) => [k, template.optional()])) as Record<(typeof TEMPLATE_KEYS)[number], z.ZodOptional<typeof template>>, {
    message: `must be an object with any of ${TEMPLATE_KEYS.join(', ')}`,
  });
  const componentFixed = z.string({ message: 'must be a component slug' }).refine((c) => components.includes(c), {
    error: (issue) => `unknown component "${String(issue.input)}" (known: ${components.join(', ')})`,
  });
  const componentLabel = z.string({ message: 'must be a label name' }).regex(/^[a-zA-Z_][a-zA-Z0-9_]*$/, 'must be a label name such as environment');
  const roleKey = z.string().refine((r) => roles.includes(r), { error: (issue) => `unknown role "${String(issue.input)}" (known: ${roles.join(', ')})` });
  const fields = {
    name,
    position: z.number({ message: 'must be a whole number from 1' }).int('must be a whole number from 1').min(1, 'must be a whole number from 1'),
    source: z.enum(['alertmanager', 'grafana'], { message: 'must be alertmanager, grafana or null (both)' }).nullable(),
    matchers,
    component_label: componentLabel,
    component: componentFixed,
    status: z.enum(STATUSES.filter((s) => s !== 'green') as [Status, ...Status[]], { message: `must be one of ${STATUSES.filter((s) => s !== 'green').join(', ')}` }),
    modes: z.record(roleKey, z.enum(MODES, { message: `must be one of ${MODES.join(', ')}` }), { message: `must be an object mapping roles to one of ${MODES.join(', ')}` }),
    auto_resolve: z.boolean({ message: 'must be true or false' }),
    quiet_period_minutes: z.number({ message: 'must be a whole number of minutes, 0 to 10080' }).int('must be a whole number of minutes, 0 to 10080').min(0, 'must be 0 to 10080').max(10_080, 'must be 0 to 10080'),
    templates,
    enabled: z.boolean({ message: 'must be true or false' }),
  };
  const oneComponent = (v: { component?: unknown; component_label?: unknown }, ctx: z.RefinementCtx) => {
    if (v.component !== undefined && v.component_label !== undefined) ctx.addIssue({ code: 'custom', path: ['component'], message: 'give component (fixed) or component_label, not both' });
  };
  return {
    create: z
      .strictObject({
        name: fields.name,
        position: fields.position.optional(),
        source: fields.source.default(null),
        matchers: fields.matchers,
        component_label: fields.component_label.optional(),
        component: fields.component.optional(),
        status: fields.status.default('red'),
        modes: fields.modes.default({}),
        auto_resolve: fields.auto_resolve.default(false),
        quiet_period_minutes: fields.quiet_period_minutes.default(30),
        templates: fields.templates.default({}),
        enabled: fields.enabled.default(true),
      })
      .superRefine(oneComponent),
    update: z
      .strictObject({
        name: fields.name.optional(),
        position: fields.position.optional(),
        source: fields.source.optional(),
        matchers: fields.matchers.optional(),
        component_label: fields.component_label.optional(),
        component: fields.component.optional(),
        status: fields.status.optional(),
        modes: fields.modes.optional(),
        auto_resolve: fields.auto_resolve.optional(),
        quiet_period_minutes: fields.quiet_period_minutes.optional(),
        templates: fields.templates.optional(),
        enabled: fields.enabled.optional(),
      })
      .superRefine(oneComponent)
      .refine((v) => Object.keys(v).length > 0, { message: 'give at least one field to change' }),
  };
}

function parseRule<K extends 'create' | 'update'>(w: Work, kind: K, body: unknown) {
  const schema = ruleSchemas(w.config.roles, w.config.environments.map((e) => e.slug))[kind];
  const result = schema.safeParse(body, { reportInput: true });
  // Postgres text cannot hold NUL: refused here, not failed in the database.
  if (JSON.stringify(body ?? null).includes('\\u0000')) throw new AppError('rule.invalid_input', 'The request body is not valid.', [{ path: '(body)', message: 'must not contain NUL characters' }]);
  if (!result.success) throw new AppError('rule.invalid_input', 'The request body is not valid.', problemsOf(result.error));
  return result.data as z.output<ReturnType<typeof ruleSchemas>[K]>;
}

export function ruleView(row: AlertRuleRow): AlertRuleView {
  return {
    id: row.id,
    name: row.name,
    position: row.position,
    source: row.source,
    matchers: row.matchers,
    component: row.component_fixed !== null ? { fixed: row.component_fixed } : { label: row.component_label ?? 'environment' },
    status: row.status as Status,
    modes: row.modes as Record<string, Mode>,
    auto_resolve: row.auto_resolve,
    quiet_period_minutes: row.quiet_period_minutes,
    templates: { title: row.title_template, opened: row.opened_template, added: row.added_template, recovered: row.recovered_template },
    enabled: row.enabled,
    version: row.version,
    created_at: row.created_at.toISOString(),
    created_by: row.created_by,
    updated_at: row.updated_at.toISOString(),
  };
}

export async function listRules(deps: Deps): Promise<AlertRuleView[]> {
  return (await q.listRules(deps.db)).map(ruleView);
}

export async function getRule(deps: Deps, id: number): Promise<AlertRuleView & { readonly versions: readonly { version: number; changed_at: string; changed_by: string; rule: unknown }[] }> {
  const row = await q.findRule(deps.db, id);
  if (!row) throw ruleNotFound(id);
  const versions = await q.versionsOf(deps.db, id);
  return { ...ruleView(row), versions: versions.map((v) => ({ version: v.version, changed_at: v.changed_at.toISOString(), changed_by: v.changed_by, rule: v.rule })) };
}

/** The rule's versions are numbered from 1; each is kept whole, and audited. */
async function recordVersion(w: Work, row: AlertRuleRow, action: string, before: AlertRuleView | undefined): Promise<AlertRuleView> {
  const view = ruleView(row);
  await q.insertVersion(w.db, row.id, row.version, view, w.now, actorLabel(w.actor));
  await w.audit(action, `alert_rule:${row.id}`, { before, after: view });
  return view;
}

export async function createRule(deps: Deps, command: Command, body: unknown): Promise<AlertRuleView> {
  const now = deps.clock.now();
  const { value } = await inTransaction(deps, command, now, async (w) => {
    const input = parseRule(w, 'create', body);
    await q.lockRules(w.db);
    const last = (await q.listRules(w.db)).length;
    const row = await q.insertRule(w.db, {
      name: input.name,
      position: last + 1,
      source: input.source,
      matchers: input.matchers,
      component_label: input.component === undefined ? (input.component_label ?? 'environment') : null,
      component_fixed: input.component ?? null,
      status: input.status,
      modes: JSON.stringify(input.modes),
      auto_resolve: input.auto_resolve,
      quiet_period_minutes: input.quiet_period_minutes,
      title_template: input.templates.title ?? null,
      opened_template: input.templates.opened ?? null,
      added_template: input.templates.added ?? null,
      recovered_template: input.templates.recovered ?? null,
      enabled: input.enabled,
      version: 1,
      created_at: now,
      created_by: w.actor.name,
      updated_at: now,
    });
    if (input.position !== undefined && input.position <= last) await q.renumber(w.db, row.id, input.position);
    return recordVersion(w, (await q.findRule(w.db, row.id))!, 'alert_rule.create', undefined);
  });
  return value;
}

export async function updateRule(deps: Deps, command: Command, id: number, body: unknown): Promise<AlertRuleView> {
  const now = deps.clock.now();
  const { value } = await inTransaction(deps, command, now, async (w) => {
    const input = parseRule(w, 'update', body);
    await q.lockRules(w.db);
    const before = await q.findRule(w.db, id, { lock: true });
    if (!before) throw ruleNotFound(id);
    const templates = input.templates ?? {};
    const placed =
      input.component !== undefined ? { component_fixed: input.component, component_label: null } : input.component_label !== undefined ? { component_fixed: null, component_label: input.component_label } : {};
    await q.updateRule(w.db, id, {
      ...(input.name !== undefined && { name: input.name }),
      ...(input.source !== undefined && { source: input.source }),
      ...(input.matchers !== undefined && { matchers: input.matchers }),
      ...placed,
      ...(input.status !== undefined && { status: input.status }),
      ...(input.modes !== undefined && { modes: JSON.stringify(input.modes) }),
      ...(input.auto_resolve !== undefined && { auto_resolve: input.auto_resolve }),
      ...(input.quiet_period_minutes !== undefined && { quiet_period_minutes: input.quiet_period_minutes }),
      ...(templates.title !== undefined && { title_template: templates.title }),
      ...(templates.opened !== undefined && { opened_template: templates.opened }),
      ...(templates.added !== undefined && { added_template: templates.added }),
      ...(templates.recovered !== undefined && { recovered_template: templates.recovered }),
      ...(input.enabled !== undefined && { enabled: input.enabled }),
      version: before.version + 1,
      updated_at: now,
    });
    if (input.position !== undefined) await q.renumber(w.db, id, input.position);
    return recordVersion(w, (await q.findRule(w.db, id))!, 'alert_rule.update', ruleView(before));
  });
  return value;
}

/** Marks the rule removed: its versions and the inbox rows naming it stay. */
export async function removeRule(deps: Deps, command: Command, id: number): Promise<AlertRuleView> {
  const now = deps.clock.now();
  const { value } = await inTransaction(deps, command, now, async (w) => {
    await q.lockRules(w.db);
    const before = await q.findRule(w.db, id, { lock: true });
    if (!before) throw ruleNotFound(id);
    const row = await q.updateRule(w.db, id, { removed_at: now, updated_at: now, enabled: false });
    await q.renumber(w.db, id, 0);
    await w.audit('alert_rule.remove', `alert_rule:${id}`, { before: ruleView(before) });
    return ruleView(row);
  });
  return value;
}

function ruleNotFound(id: number) {
  return new AppError('rule.not_found', `Alert rule ${id} was not found.`);
}

/** A stored rule as decide() reads it; null if its matchers no longer parse (they did when saved). */
function asRule(row: AlertRuleRow): AlertRule | null {
  const matchers = parseMatchers(row.matchers);
  if ('error' in matchers) return null;
  return {
    id: row.id,
    name: row.name,
    matchers,
    component: row.component_fixed !== null ? { fixed: row.component_fixed } : { label: row.component_label ?? 'environment' },
    status: row.status as Status,
    modes: row.modes as Record<string, Mode>,
    autoResolve: row.auto_resolve,
    quietPeriodMinutes: row.quiet_period_minutes,
    templates: { title: row.title_template, opened: row.opened_template, added: row.added_template, recovered: row.recovered_template },
  };
}

// ---------------------------------------------------------------------------------------------
// Intake

/**
 * Who writes the automatic updates: the sender's name is their author, as a commander sees it on
 * the timeline; the audit log names the token (or signature) that let it in.
 */
export function intakeActor(source: AlertSource, via: Actor | null): Actor {
  const label = via ? `${source} (${actorLabel(via)})` : `${source} (signed)`;
  return { tokenId: via?.tokenId ?? 0, name: source, scopes: ['alerts:write'], label };
}

/** Reads the body; an unreadable or invalid one is recorded in the inbox and refused with every problem listed. */
export async function receiveAlerts(deps: Deps, source: AlertSource, body: string, via: Actor | null): Promise<IntakeResult> {
  const now = deps.clock.now();
  const problems = readProblems(source, body);
  if ('problems' in problems) {
    const reason = problems.problems.map((p) => `${p.path}: ${p.message}`).join('; ');
    await q.insertInbox(deps.db, { received_at: now, source, group_key: null, status: null, alerts: 0, rule_id: null, rule_version: null, outcome: 'invalid', incident_id: null, reason: clip(reason, 2000), notes: '[]', payload: clip(body, PAYLOAD_KEPT) });
    throw new AppError('alert.invalid_payload', `The body is not a valid ${source === 'alertmanager' ? 'Alertmanager (webhook version 4)' : 'Grafana webhook'} notification.`, problems.problems.slice(0, 100));
  }
  const { notification } = problems;
  const { value } = await inTransaction(deps, { actor: intakeActor(source, via) }, now, (w) => intake(w, notification, body));
  return value;
}

function readProblems(source: AlertSource, body: string): { notification: ReceivedNotification } | { problems: FieldProblem[] } {
  // Postgres text and jsonb cannot hold NUL: refused here, not failed in the database.
  if (body.includes('\u0000') || /\\u0000/i.test(body)) return { problems: [{ path: '(body)', message: 'must not contain NUL characters' }] };
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return { problems: [{ path: '(body)', message: 'is not valid JSON' }] };
  }
  const reading = source === 'alertmanager' ? readAlertmanager(json) : readGrafana(json);
  return reading.ok ? { notification: reading.notification } : { problems: reading.problems };
}

async function intake(w: Work, n: ReceivedNotification, body: string): Promise<IntakeResult> {
  const base = { received_at: w.now, source: n.source, group_key: n.groupKey, status: n.status, alerts: n.alerts.length, payload: clip(body, PAYLOAD_KEPT) };
  const rules = (await q.listRules(w.db)).filter((r) => r.enabled && (r.source === null || r.source === n.source));
  let chosen: { row: AlertRuleRow; rule: AlertRule } | undefined;
  for (const row of rules) {
    const rule = asRule(row);
    if (rule && n.alerts.some((a) => matches(rule.matchers, a.labels))) {
      chosen = { row, rule };
      break;
    }
  }
  if (!chosen) {
    const reason = rules.length === 0 ? 'no alert rule is enabled for this sender' : 'no rule matches any of its alerts';
    const inbox_id = await q.insertInbox(w.db, { ...base, rule_id: null, rule_version: null, outcome: 'unmatched', incident_id: null, reason, notes: '[]' });
    return { inbox_id, outcome: 'unmatched', incident_id: null, rule_id: null, reason, notes: [] };
  }
  const { row, rule } = chosen;
  const group = await q.lockGroup(w.db, row.id, n.source, n.groupKey, w.now);
  const posted = new Set(group.posted);
  const incident = group.incident_id === null ? undefined : await findIncident(w.db, group.incident_id);
  const updates = incident ? await visibleUpdatesOf(w.db, [incident.id]) : [];
  const known = new Map<string, KnownAlert>(
    Object.entries(group.known).map(([fingerprint, k]) => [fingerprint, { status: k.status, startsAt: new Date(k.startsAt), endsAt: k.endsAt === null ? null : new Date(k.endsAt), component: k.component }]),
  );
  const outcome = decide({
    rule,
    notification: n,
    state: {
      incident: incident
        ? {
            id: incident.id,
            state: incident.state,
            humanPosted: updates.some((u) => !posted.has(u.id)),
            resolvedAt: incident.resolved_at,
            resolvedByHuman: incident.state === 'resolved' && !resolvedByIntake(updates, posted),
          }
        : null,
      known,
    },
    now: w.now,
    matches,
    components: w.config.environments.map((e) => e.slug),
  });
  const notes = [...outcome.notes];
  let result: { outcome: IntakeOutcome; incident_id: number | null; reason: string | null };
  let groupIncident = group.incident_id;
  let groupPosted = [...posted];
  try {
    const applied = await apply(w, outcome.decision, rule, updates);
    result = applied.result;
    if (applied.update !== null) {
      if (outcome.decision.kind === 'open') {
        groupIncident = applied.result.incident_id;
        groupPosted = [];
      }
      groupPosted.push(applied.update);
    }
  } catch (error) {
    // The timeline refused the change (a commander's later update conflicts): say why, change nothing.
    if (!(error instanceof AppError) || !error.code.startsWith('timeline.')) throw error;
    result = { outcome: 'ignored', incident_id: group.incident_id, reason: error.message };
  }
  await q.saveGroup(w.db, {
    rule_id: row.id,
    source: n.source,
    group_key: n.groupKey,
    incident_id: groupIncident,
    known: JSON.stringify(remembered(outcome.known, group.known, n, w.now)),
    posted: JSON.stringify(groupPosted),
    updated_at: w.now,
  });
  const kept = notes.slice(0, NOTES_KEPT);
  if (notes.length > NOTES_KEPT) kept.push(`and ${notes.length - NOTES_KEPT} more`);
  const inbox_id = await q.insertInbox(w.db, {
    ...base,
    rule_id: row.id,
    rule_version: row.version,
    outcome: result.outcome,
    incident_id: result.incident_id,
    reason: result.reason === null ? null : clip(result.reason, 2000),
    notes: JSON.stringify(kept),
  });
  return { inbox_id, ...result, rule_id: row.id, notes: kept };
}

/** How long a resolved alert not seen again is remembered: long enough for any retry of an old notification. */
const FORGET_RESOLVED_MS = 7 * 86_400_000;

type StoredKnown = AlertGroupRow['known'][string];

/**
 * What the group remembers after this notification: every alert decide() knows, with when it was
 * last reported; a resolved one not reported for a week is forgotten, so a group that lives for
 * months does not carry every alert it ever had.
 */
function remembered(known: ReadonlyMap<string, KnownAlert>, before: AlertGroupRow['known'], n: ReceivedNotification, now: Date): Record<string, StoredKnown> {
  const reported = new Set(n.alerts.map((a) => a.fingerprint));
  const out: Record<string, StoredKnown> = {};
  for (const [fingerprint, k] of known) {
    const seen = reported.has(fingerprint) ? now.toISOString() : (before[fingerprint]?.seen ?? now.toISOString());
    if (k.status === 'resolved' && now.getTime() - Date.parse(seen) > FORGET_RESOLVED_MS) continue;
    out[fingerprint] = { status: k.status, startsAt: k.startsAt.toISOString(), endsAt: k.endsAt?.toISOString() ?? null, component: k.component, seen };
  }
  return out;
}

/** Whether the update that resolved the incident (the last `resolved` one in timeline order) was the intake's. */
function resolvedByIntake(updates: readonly UpdateRow[], posted: ReadonlySet<number>): boolean {
  const resolving = [...updates].sort((a, b) => a.at.getTime() - b.at.getTime() || a.id - b.id).filter((u) => u.state === 'resolved');
  const last = resolving.at(-1);
  return last !== undefined && posted.has(last.id);
}

async function apply(w: Work, d: Decision, rule: AlertRule, updates: readonly UpdateRow[]): Promise<{ result: { outcome: IntakeOutcome; incident_id: number | null; reason: string | null }; update: number | null }> {
  const roles = new Set(w.config.roles);
  const modesOf = (modes: Readonly<Record<string, Mode>>) => Object.fromEntries(Object.entries(modes).filter(([role]) => roles.has(role)));
  // Alerts arrive late: an update lands no earlier than the timeline's last, which keeps it in order.
  const lastAt = Math.max(0, ...updates.map((u) => u.at.getTime()));
  const clamp = (at: Date) => new Date(Math.max(at.getTime(), lastAt));
  switch (d.kind) {
    case 'ignore':
      return { result: { outcome: 'ignored', incident_id: null, reason: d.reason }, update: null };
    case 'open': {
      const { incident, update } = await startIncident(w, {
        title: d.title,
        impact: null,
        state: 'investigating',
        at: d.at,
        message: d.message,
        statuses: d.statuses,
        modes: modesOf(d.modes),
        audit: { rule: rule.id },
      });
      return { result: { outcome: 'opened', incident_id: incident.id, reason: null }, update: update.id };
    }
    case 'update':
    case 'recover': {
      const incident = await lockIncident(w, d.incidentId);
      const resolve = d.kind === 'recover' && d.resolve;
      const { update } = await appendUpdate(w, incident, { message: d.message, statuses: d.statuses, modes: modesOf(d.modes), at: clamp(d.at), state: resolve ? 'resolved' : undefined });
      const outcome: IntakeOutcome = d.kind === 'update' ? 'updated' : resolve ? 'resolved' : 'recovered';
      return { result: { outcome, incident_id: incident.id, reason: null }, update: update.id };
    }
  }
}

export function inboxView(row: AlertInboxRow): InboxView {
  return {
    id: String(row.id),
    received_at: row.received_at.toISOString(),
    source: row.source,
    group_key: row.group_key,
    status: row.status,
    alerts: row.alerts,
    rule: row.rule_id === null ? null : { id: row.rule_id, version: row.rule_version },
    outcome: row.outcome as IntakeOutcome,
    incident_id: row.incident_id,
    reason: row.reason,
    notes: row.notes,
  };
}

export async function listInbox(deps: Deps, options: { readonly limit: number; readonly before?: string | undefined }): Promise<InboxView[]> {
  return (await q.listInbox(deps.db, options)).map(inboxView);
}

/** One inbox row with the body as received. */
export async function getInboxEntry(deps: Deps, id: string): Promise<InboxView & { readonly payload: string }> {
  const row = /^\d{1,18}$/.test(id) ? await q.findInbox(deps.db, id) : undefined;
  if (!row) throw new AppError('request.no_route', `Inbox entry ${id} was not found.`);
  return { ...inboxView(row), payload: row.payload };
}

/** Removes inbox rows older than HERALD_ALERT_INBOX_DAYS; how many. */
export function pruneInbox(deps: Deps): Promise<number> {
  return q.pruneInbox(deps.db, new Date(deps.clock.now().getTime() - deps.config.alertInboxDays * 86_400_000));
}

/** At most `limit` characters, and none that Postgres text cannot hold (NUL). */
function clip(text: string, limit: number): string {
  const kept = text.replaceAll('\u0000', '\uFFFD');
  return kept.length <= limit ? kept : `${kept.slice(0, limit - 1)}…`;
}
