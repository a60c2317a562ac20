import * as z from 'zod';
import { loadCatalog } from '../db/queries/environments.ts';
import * as q from '../db/queries/webhooks.ts';
import { liveComponents } from '../domain/components.ts';
import type { WebhookSubscriptionRow } from '../db/schema.ts';
import { WEBHOOK_EVENTS, WEBHOOK_FORMATS, type Notice, type WebhookEvent } from '../delivery/notice.ts';
import { isSecret, newSecret } from '../delivery/signing.ts';
import { AppError } from '../errors.ts';
import type { Deps } from './deps.ts';
import { problemsOf } from './schemas.ts';
import { inTransaction, type Command, type Work } from './unit-of-work.ts';

/**
 * Webhook subscriptions: a URL, the notices it wants, optionally the components it follows, and
 * a format (Herald's JSON, Statuspage's payloads, Slack, Discord). Each has a Standard Webhooks
 * secret, shown once at creation and at rotation; a rotated secret keeps signing beside the new
 * one for an overlap, so receivers can switch without losing a message. A URL that is not a
 * public address is refused (HERALD_WEBHOOK_ALLOW names the exceptions). Removing one marks it:
 * its deliveries and attempts stay in the log.
 */

/** Checks that a URL may receive webhooks: null, or why not (in words). Node resolves DNS; Workers check the name. */
export type DestinationCheck = (url: string) => Promise<string | null>;

export type WebhookDeps = Deps & { readonly checkDestination: DestinationCheck };

export interface WebhookView {
  readonly id: number;
  readonly url: string;
  readonly format: WebhookSubscriptionRow['format'];
  readonly events: readonly string[];
  /** null: every component. */
  readonly environments: readonly string[] | null;
  readonly description: string | null;
  readonly created_at: string;
  readonly created_by: string;
  readonly updated_at: string;
  /** `active`, or `disabled` (see disabled_reason: after a day of failures, or by hand). */
  readonly state: 'active' | 'disabled';
  readonly disabled_at: string | null;
  readonly disabled_reason: string | null;
  /** Failed attempts in a row, and since when. */
  readonly failures: number;
  readonly failing_since: string | null;
  /** Deliveries not yet accepted by the receiver. */
  readonly pending: number;
  /** Until when the previous secret still signs beside the current one. */
  readonly previous_secret_until: string | null;
}

const events = z
  .array(z.enum(WEBHOOK_EVENTS, { message: `must be one of ${WEBHOOK_EVENTS.join(', ')}` }), { message: 'must be a list of event names' })
  .min(1, { message: 'name at least one event' });
const fields = {
  url: z
    .string({ message: 'must be a URL' })
    .max(2000, { message: 'must be at most 2000 characters' })
    .refine((u) => URL.canParse(u) && /^https?:$/.test(new URL(u).protocol), { message: 'must be an http:// or https:// URL' }),
  format: z.enum(WEBHOOK_FORMATS, { message: `must be one of ${WEBHOOK_FORMATS.join(', ')}` }),
  events,
  environments: z.array(z.string(), { message: 'must be a list of components' }).nullable(),
  description: z.string({ message: 'must be a string' }).max(500, { message: 'must be at most 500 characters' }).nullable(),
};

function schemas(known: readonly string[]) {
  const environments = fields.environments.superRefine((list, ctx) => {
    list?.forEach((e, i) => {
      if (!known.includes(e)) ctx.addIssue({ code: 'custom', path: [i], message: `unknown component "${e}" (known: ${known.join(', ')})` });
    });
  });
  return {
    create: z.strictObject({
      url: fields.url,
      format: fields.format.default('herald'),
      events: events.default([...WEBHOOK_EVENTS]),
      environments: environments.default(null),
      description: fields.description.default(null),
      secret: z
        .string({ message: 'must be a string' })
        .refine(isSecret, { message: 'must be a Standard Webhooks secret: whsec_ and base64 of 24 to 64 bytes' })
        .optional(),
    }),
    update: z
      .strictObject({ url: fields.url.optional(), format: fields.format.optional(), events: events.optional(), environments: environments.optional(), description: fields.description.optional() })
      .refine((v) => Object.keys(v).length > 0, { message: 'give at least one of url, format, events, environments, description' }),
    rotate: z.strictObject({
      overlap_hours: z.number({ message: 'must be a number of hours' }).min(0, { message: 'must be 0 to 168' }).max(168, { message: 'must be 0 to 168' }).default(24),
    }),
    disable: z.strictObject({ reason: z.string({ message: 'must be a string' }).min(1).max(500).default('disabled by hand') }),
  };
}

/**
 * Parses a body against the live components and checks its URL (DNS, outside any transaction):
 * one 400 lists the body's problems and the URL's refusal together.
 */
async function parse<K extends keyof ReturnType<typeof schemas>>(deps: WebhookDeps, kind: K, body: unknown): Promise<z.output<ReturnType<typeof schemas>[K]>> {
  // The components a subscription may follow are the database's now, not the start-up list.
  const known = liveComponents(await loadCatalog(deps.db)).map((c) => c.slug);
  const result = schemas(known)[kind].safeParse(body, { reportInput: true });
  const url = (body as { url?: unknown } | null)?.url;
  const refused = typeof url === 'string' && URL.canParse(url) && /^https?:$/.test(new URL(url).protocol) ? await deps.checkDestination(url) : null;
  const problems = [...(result.success ? [] : problemsOf(result.error)), ...(refused ? [{ path: 'url', message: refused }] : [])];
  if (problems.length) throw new AppError('webhook.invalid_input', 'The request body is not valid.', problems);
  return result.data as z.output<ReturnType<typeof schemas>[K]>;
}

export async function listWebhooks(deps: Deps): Promise<WebhookView[]> {
  const rows = await q.listSubscriptions(deps.db);
  const pending = await q.pendingCounts(deps.db, rows.map((r) => r.id));
  return rows.map((r) => webhookView(r, pending.get(r.id) ?? 0));
}

export async function getWebhook(deps: Deps, id: number): Promise<WebhookView> {
  const row = await q.findSubscription(deps.db, id);
  if (!row) throw notFound(id);
  return webhookView(row, (await q.pendingCounts(deps.db, [id])).get(id) ?? 0);
}

/** The answer holds the secret, shown this once. */
export async function createWebhook(deps: WebhookDeps, command: Command, body: unknown) {
  const now = deps.clock.now();
  const input = await parse(deps, 'create', body);
  const { value } = await inTransaction(deps, { actor: command.actor }, now, async (w) => {
    const secret = input.secret ?? newSecret();
    const row = await q.insertSubscription(w.db, { url: input.url, format: input.format, events: input.events, environments: input.environments, description: input.description, secret, created_at: now, created_by: w.actor.name });
    await w.audit('webhook.create', `webhook:${row.id}`, { after: auditable(row) });
    w.emit({ name: 'webhook.created', webhook: row.id });
    return { ...webhookView(row, 0), secret };
  });
  return value;
}

export async function updateWebhook(deps: WebhookDeps, command: Command, id: number, body: unknown): Promise<WebhookView> {
  const now = deps.clock.now();
  const input = await parse(deps, 'update', body);
  const { value } = await inTransaction(deps, { actor: command.actor }, now, async (w) => {
    const before = await locked(w, id);
    const row = await q.updateSubscription(w.db, id, { ...input, updated_at: now });
    await w.audit('webhook.update', `webhook:${id}`, { before: auditable(before), after: auditable(row) });
    w.emit({ name: 'webhook.updated', webhook: id });
    return webhookView(row, await pendingOf(w, id));
  });
  return value;
}

/** A new secret, shown once; the old one keeps signing beside it for `overlap_hours`. */
export async function rotateSecret(deps: WebhookDeps, command: Command, id: number, body: unknown) {
  const now = deps.clock.now();
  const { overlap_hours } = await parse(deps, 'rotate', body ?? {});
  const { value } = await inTransaction(deps, { actor: command.actor }, now, async (w) => {
    const before = await locked(w, id);
    const secret = newSecret();
    const until = overlap_hours > 0 ? new Date(now.getTime() + overlap_hours * 3_600_000) : null;
    const row = await q.updateSubscription(w.db, id, { secret, previous_secret: until ? before.secret : null, previous_secret_until: until, updated_at: now });
    await w.audit('webhook.rotate_secret', `webhook:${id}`, { after: { previous_secret_until: until } });
    w.emit({ name: 'webhook.secret_rotated', webhook: id });
    return { ...webhookView(row, await pendingOf(w, id)), secret };
  });
  return value;
}

export async function disableWebhook(deps: WebhookDeps, command: Command, id: number, body: unknown): Promise<WebhookView> {
  const now = deps.clock.now();
  const { reason } = await parse(deps, 'disable', body ?? {});
  const { value } = await inTransaction(deps, { actor: command.actor }, now, async (w) => {
    const before = await locked(w, id);
    const row = before.disabled_at ? before : await q.updateSubscription(w.db, id, { disabled_at: now, disabled_reason: `${reason} (by ${w.actor.name})`, updated_at: now });
    if (row !== before) {
      await w.audit('webhook.disable', `webhook:${id}`, { after: { reason } });
      w.emit({ name: 'webhook.disabled', webhook: id });
    }
    return webhookView(row, await pendingOf(w, id));
  });
  return value;
}

/** Enables a subscription again: what is still due is sent now, oldest first. */
export async function enableWebhook(deps: WebhookDeps, command: Command, id: number): Promise<WebhookView> {
  const now = deps.clock.now();
  const { value } = await inTransaction(deps, { actor: command.actor }, now, async (w) => {
    await locked(w, id);
    const row = await q.updateSubscription(w.db, id, { disabled_at: null, disabled_reason: null, failures: 0, failing_since: null, updated_at: now });
    await q.dueNow(w.db, id, now);
    await w.audit('webhook.enable', `webhook:${id}`);
    w.emit({ name: 'webhook.enabled', webhook: id });
    return webhookView(row, await pendingOf(w, id));
  });
  deps.queued?.();
  return value;
}

/** Removes a subscription: nothing more is sent to it; its log stays. */
export async function removeWebhook(deps: WebhookDeps, command: Command, id: number): Promise<WebhookView> {
  const now = deps.clock.now();
  const { value } = await inTransaction(deps, { actor: command.actor }, now, async (w) => {
    const before = await locked(w, id);
    const row = await q.updateSubscription(w.db, id, { removed_at: now, updated_at: now });
    await w.audit('webhook.remove', `webhook:${id}`, { before: auditable(before) });
    w.emit({ name: 'webhook.removed', webhook: id });
    return webhookView(row, await pendingOf(w, id));
  });
  return value;
}

/**
 * Queues a test notice for this one subscription, behind what it already has to send: a sample
 * incident update marked `test: true`, in the subscription's format and signed like the rest.
 */
export async function queueTestEvent(deps: Deps, command: Command, id: number): Promise<{ readonly message_id: string }> {
  const now = deps.clock.now();
  const { value } = await inTransaction(deps, { actor: command.actor }, now, async (w) => {
    const row = await locked(w, id);
    const notice = sampleNotice(deps, row.events[0] as WebhookEvent | undefined, now);
    const messageId = await q.insertTestDelivery(w.db, id, notice, now);
    await w.audit('webhook.test', `webhook:${id}`, { after: { message_id: messageId } });
    w.emit({ name: 'webhook.tested', webhook: id });
    return { message_id: messageId };
  });
  deps.queued?.();
  return value;
}

/** The attempt log of a subscription, newest first. */
export async function webhookAttempts(deps: Deps, id: number, limit = 50) {
  if (!(await q.findSubscription(deps.db, id))) throw notFound(id);
  const rows = await q.attemptsOf(deps.db, id, limit);
  return rows.map((a) => ({ message_id: a.message_id, type: a.type, at: a.at.toISOString(), status: a.status, latency_ms: a.latency_ms, error: a.error, excerpt: a.excerpt, sender: a.sender }));
}

function sampleNotice(deps: Deps, type: WebhookEvent = 'incident.updated', now: Date): Notice {
  const at = now.toISOString();
  const component = deps.config.environments[0] ?? { slug: 'api', name: 'API' };
  return {
    type,
    occurred_at: at,
    page: { id: 'test', name: deps.config.name, url: deps.config.publicUrl, status: { indicator: 'minor', description: 'Partially Degraded Service' } },
    incident: {
      id: 0,
      kind: type.startsWith('maintenance.') ? 'maintenance' : 'incident',
      title: 'Test message from Herald',
      state: type.startsWith('maintenance.') ? 'scheduled' : 'investigating',
      impact: 'minor',
      url: deps.config.publicUrl,
      started_at: at,
      resolved_at: null,
      updated_at: at,
      scheduled_for: null,
      scheduled_until: null,
      components: [{ slug: component.slug, name: component.name, status: 'yellow' }],
      postmortem_published_at: null,
    },
    update: { id: 0, state: 'investigating', message: 'This is a test message: your webhook receives Herald’s notices.', at, author: 'Herald' },
    component: type === 'component.status_changed' ? { slug: component.slug, name: component.name, old_status: 'green', new_status: 'yellow' } : undefined,
    mode: type === 'mode.changed' ? { role: deps.config.roles[0] ?? 'web', from: 'full', to: 'read_only', at, cause: 'test' } : undefined,
    test: true,
  };
}

async function locked(w: Work, id: number): Promise<WebhookSubscriptionRow> {
  const row = await q.findSubscription(w.db, id, { lock: true });
  if (!row) throw notFound(id);
  return row;
}

const pendingOf = async (w: Work, id: number) => (await q.pendingCounts(w.db, [id])).get(id) ?? 0;

const notFound = (id: number) => new AppError('webhook.not_found', `Webhook ${id} was not found.`);

/** What the audit keeps of a subscription: never its secret. */
const auditable = ({ secret: _s, previous_secret: _p, lease_owner: _o, lease_until: _u, ...rest }: WebhookSubscriptionRow) => rest;

export function webhookView(r: WebhookSubscriptionRow, pending: number): WebhookView {
  return {
    id: r.id,
    url: r.url,
    format: r.format,
    events: r.events,
    environments: r.environments,
    description: r.description,
    created_at: r.created_at.toISOString(),
    created_by: r.created_by,
    updated_at: r.updated_at.toISOString(),
    state: r.disabled_at ? 'disabled' : 'active',
    disabled_at: r.disabled_at?.toISOString() ?? null,
    disabled_reason: r.disabled_reason,
    failures: r.failures,
    failing_since: r.failing_since?.toISOString() ?? null,
    pending,
    previous_secret_until: r.previous_secret_until?.toISOString() ?? null,
  };
}
