import { WEBHOOK_EVENTS, WEBHOOK_FORMATS } from '../../delivery/notice.ts';
import type { WebhookView } from '../../services/webhooks.ts';
import { CliUsageError } from '../client.ts';
import type { CommandSpec, Context } from '../command.ts';
import { idArg } from '../input.ts';
import { table, when } from '../output.ts';

/**
 * Webhook subscriptions on /api/v1/webhooks (admin token): `webhooks` lists them,
 * `webhooks:add|update|remove|rotate|disable|enable` change them, `webhooks:test` sends a test
 * message and says what the receiver answered, `webhooks:attempts` shows the delivery log.
 * None sends an Idempotency-Key: the answers of add and rotate hold a secret, never stored.
 */

interface Attempt {
  readonly message_id: string;
  readonly type: string;
  readonly at: string;
  readonly status: number | null;
  readonly latency_ms: number;
  readonly error: string | null;
  readonly excerpt: string;
}

const SUBSCRIPTION_FLAGS = {
  format: { type: 'string', value: 'FORMAT', help: `${WEBHOOK_FORMATS.join(', ')} (default herald)` },
  event: { type: 'string', multiple: true, value: 'EVENT', help: `an event to send (repeat, or E,E; default all): ${WEBHOOK_EVENTS.join(', ')}` },
  component: { type: 'string', multiple: true, value: 'SLUG', help: 'only notices about this component (repeat, or S,S; default all)' },
  description: { type: 'string', value: 'TEXT', help: 'a note for whoever reads the list' },
} as const;

function subscriptionBody(ctx: Context): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  if (ctx.str('format') !== undefined) body.format = ctx.str('format');
  const events = ctx.list('event').flatMap((e) => e.split(',')).filter(Boolean);
  if (events.length) body.events = events;
  const components = ctx.list('component').flatMap((e) => e.split(',')).filter(Boolean);
  if (components.length) body.environments = components;
  if (ctx.str('description') !== undefined) body.description = ctx.str('description');
  return body;
}

const state = (w: WebhookView) => (w.state === 'disabled' ? `disabled ${when(w.disabled_at)}` : w.failures ? `failing (${w.failures} in a row)` : 'active');

function said(ctx: Context, w: WebhookView & { secret?: string }, line: string) {
  if (ctx.flag('json')) return ctx.o.json(w);
  ctx.o.out(w.secret ?? String(w.id));
  ctx.o.err(line);
}

const request = <T>(ctx: Context, method: string, path: string, body?: Record<string, unknown>) => ctx.client().request<T>(method, path, { auth: true, ...(body ? { body } : {}) });

const webhooksList: CommandSpec = {
  name: 'webhooks',
  kind: 'write', // needs an admin token; writes nothing
  withoutKey: true,
  summary: 'the webhook subscriptions and how their deliveries go',
  usage: 'webhooks [--json]',
  examples: ['herald webhooks'],
  async run(ctx) {
    const { body } = await request<WebhookView[]>(ctx, 'GET', '/api/v1/webhooks');
    if (ctx.flag('json')) return ctx.o.json(body);
    if (body.length === 0) return ctx.o.err('No webhooks. Add one: herald webhooks:add URL [--format slack]');
    const p = ctx.o.colour.stdout;
    ctx.o.out(...table(body.map((w) => [String(w.id), w.format, w.url, w.events.length === WEBHOOK_EVENTS.length ? 'all' : w.events.join(','), w.environments?.join(',') ?? 'all', state(w), String(w.pending)]), ['ID', 'FORMAT', 'URL', 'EVENTS', 'COMPONENTS', 'STATE', 'PENDING'], p));
    for (const w of body.filter((x) => x.disabled_reason)) ctx.o.err(`#${w.id}: ${w.disabled_reason}`);
  },
};

const webhooksAdd: CommandSpec = {
  name: 'webhooks:add',
  kind: 'write',
  withoutKey: true,
  args: [1, 1],
  summary: 'subscribe a URL to notices; stdout: its signing secret (shown once)',
  usage: 'webhooks:add URL [--format FORMAT] [--event EVENT]... [--component SLUG]... [--description TEXT]',
  description: [
    'Subscribes URL. Every message is signed per Standard Webhooks (webhook-id, webhook-timestamp,',
    'webhook-signature) with the secret printed on stdout, which is not shown again. A URL that',
    'resolves to a private, loopback or link-local address is refused unless HERALD_WEBHOOK_ALLOW',
    'names it. --format slack or discord posts chat messages to an incoming-webhook URL.',
  ],
  flags: SUBSCRIPTION_FLAGS,
  examples: ['herald webhooks:add https://hooks.slack.com/services/T000/B000/XXXX --format slack', 'SECRET=$(herald webhooks:add https://ops.example.com/herald --event incident.opened --event incident.resolved)'],
  async run(ctx) {
    const { body } = await request<WebhookView & { secret: string }>(ctx, 'POST', '/api/v1/webhooks', { url: ctx.args[0], ...subscriptionBody(ctx) });
    said(ctx, body, `Added webhook #${body.id} (${body.format}) for ${body.url}. Its secret is on stdout; it is not shown again.`);
  },
};

const webhooksUpdate: CommandSpec = {
  name: 'webhooks:update',
  kind: 'write',
  withoutKey: true,
  args: [1, 1],
  summary: "change a subscription's URL, format, events, components or description",
  usage: 'webhooks:update ID [--url URL] [--format FORMAT] [--event EVENT]... [--component SLUG]... [--all-components] [--description TEXT]',
  flags: { url: { type: 'string', value: 'URL', help: 'the new URL' }, ...SUBSCRIPTION_FLAGS, 'all-components': { type: 'boolean', help: 'notices about every component again' } },
  examples: ['herald webhooks:update 3 --component api --component db', 'herald webhooks:update 3 --all-components'],
  async run(ctx) {
    const id = idArg(ctx);
    const body = subscriptionBody(ctx);
    if (ctx.str('url') !== undefined) body.url = ctx.str('url');
    if (ctx.flag('all-components')) {
      if (body.environments !== undefined) throw new CliUsageError('give --component or --all-components, not both');
      body.environments = null;
    }
    if (Object.keys(body).length === 0) throw new CliUsageError('nothing to change: give at least one option (see herald webhooks:update --help)');
    const res = await request<WebhookView>(ctx, 'PATCH', `/api/v1/webhooks/${id}`, body);
    said(ctx, res.body, `Updated webhook #${res.body.id}.`);
  },
};

const webhooksRemove: CommandSpec = {
  name: 'webhooks:remove',
  kind: 'write',
  withoutKey: true,
  args: [1, 1],
  summary: 'stop sending to a subscription (its delivery log stays)',
  usage: 'webhooks:remove ID',
  examples: ['herald webhooks:remove 3'],
  async run(ctx) {
    const res = await request<WebhookView>(ctx, 'DELETE', `/api/v1/webhooks/${idArg(ctx)}`);
    said(ctx, res.body, `Removed webhook #${res.body.id}; ${res.body.pending} undelivered message(s) will not be sent.`);
  },
};

const webhooksRotate: CommandSpec = {
  name: 'webhooks:rotate',
  kind: 'write',
  withoutKey: true,
  args: [1, 1],
  summary: 'replace the signing secret; stdout: the new one',
  usage: 'webhooks:rotate ID [--overlap-hours N]',
  description: ['Messages are signed with both secrets for N hours (default 24, 0 to 168), so a receiver can switch without dropping any.'],
  flags: { 'overlap-hours': { type: 'string', value: 'N', help: 'how long the old secret keeps signing too' } },
  examples: ['herald webhooks:rotate 3 --overlap-hours 2'],
  async run(ctx) {
    const raw = ctx.str('overlap-hours');
    if (raw !== undefined && !/^\d+(\.\d+)?$/.test(raw)) throw new CliUsageError(`--overlap-hours takes a number (got ${JSON.stringify(raw)})`);
    const res = await request<WebhookView & { secret: string }>(ctx, 'POST', `/api/v1/webhooks/${idArg(ctx)}/rotate-secret`, raw !== undefined ? { overlap_hours: Number(raw) } : {});
    said(ctx, res.body, `New secret for webhook #${res.body.id} on stdout; the old one also signs until ${when(res.body.previous_secret_until)}.`);
  },
};

const webhooksDisable: CommandSpec = {
  name: 'webhooks:disable',
  kind: 'write',
  withoutKey: true,
  args: [1, 1],
  summary: 'pause a subscription (messages wait for webhooks:enable)',
  usage: 'webhooks:disable ID [--reason TEXT]',
  flags: { reason: { type: 'string', value: 'TEXT', help: 'why, for the list' } },
  examples: ['herald webhooks:disable 3 --reason "receiver being migrated"'],
  async run(ctx) {
    const res = await request<WebhookView>(ctx, 'POST', `/api/v1/webhooks/${idArg(ctx)}/disable`, ctx.str('reason') !== undefined ? { reason: ctx.str('reason') } : {});
    said(ctx, res.body, `Disabled webhook #${res.body.id}; ${res.body.pending} message(s) wait.`);
  },
};

const webhooksEnable: CommandSpec = {
  name: 'webhooks:enable',
  kind: 'write',
  withoutKey: true,
  args: [1, 1],
  summary: 'resume a subscription: what is still due is sent now',
  usage: 'webhooks:enable ID',
  examples: ['herald webhooks:enable 3'],
  async run(ctx) {
    const res = await request<WebhookView>(ctx, 'POST', `/api/v1/webhooks/${idArg(ctx)}/enable`);
    said(ctx, res.body, `Enabled webhook #${res.body.id}; sending ${res.body.pending} waiting message(s).`);
  },
};

const webhooksTest: CommandSpec = {
  name: 'webhooks:test',
  kind: 'write',
  withoutKey: true,
  args: [1, 1],
  summary: 'send a test message and show what the receiver answered',
  usage: 'webhooks:test ID',
  description: ['A sample notice marked test, in the subscription\'s format, signed, queued behind what it already has to send. Exit 1 if the receiver did not accept it.'],
  examples: ['herald webhooks:test 3'],
  async run(ctx) {
    const res = await request<{ message_id: string; attempt: Omit<Attempt, 'message_id' | 'type'> | null }>(ctx, 'POST', `/api/v1/webhooks/${idArg(ctx)}/test`);
    if (ctx.flag('json')) ctx.o.json(res.body);
    const a = res.body.attempt;
    if (!a) {
      ctx.o.err(`Queued ${res.body.message_id}; not tried yet (an earlier message may be waiting for a retry). See herald webhooks:attempts.`);
      return 1;
    }
    const ok = a.status !== null && a.status >= 200 && a.status < 300;
    ctx.o.err(ok ? `Delivered ${res.body.message_id}: HTTP ${a.status} in ${a.latency_ms} ms.` : `Not delivered (${a.error ?? `HTTP ${a.status}`}); it will be retried.`);
    if (!ok && a.excerpt) ctx.o.err(`The receiver said: ${a.excerpt.slice(0, 300)}`);
    return ok ? undefined : 1;
  },
};

const webhooksAttempts: CommandSpec = {
  name: 'webhooks:attempts',
  kind: 'write',
  withoutKey: true,
  args: [1, 1],
  summary: "a subscription's delivery log, newest first",
  usage: 'webhooks:attempts ID [--limit N]',
  flags: { limit: { type: 'string', value: 'N', help: 'how many (default 20, at most 500)' } },
  examples: ['herald webhooks:attempts 3 --limit 5'],
  async run(ctx) {
    const limit = ctx.str('limit') ?? '20';
    const { body } = await ctx.client().request<Attempt[]>('GET', `/api/v1/webhooks/${idArg(ctx)}/attempts`, { auth: true, query: { limit } });
    if (ctx.flag('json')) return ctx.o.json(body);
    if (body.length === 0) return ctx.o.err('No attempts yet.');
    const p = ctx.o.colour.stdout;
    ctx.o.out(...table(body.map((a) => [when(a.at), a.type, a.message_id, a.status === null ? '-' : String(a.status), `${a.latency_ms} ms`, a.error ?? 'ok']), ['AT', 'EVENT', 'MESSAGE', 'HTTP', 'TOOK', 'RESULT'], p));
  },
};

export const webhookCommands: readonly CommandSpec[] = [webhooksList, webhooksAdd, webhooksUpdate, webhooksRemove, webhooksRotate, webhooksDisable, webhooksEnable, webhooksTest, webhooksAttempts];
