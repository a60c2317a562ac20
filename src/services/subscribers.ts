import * as z from 'zod';
import { loadCatalog } from '../db/queries/environments.ts';
import * as q from '../db/queries/subscribers.ts';
import type { SubscriberRow } from '../db/schema.ts';
import { liveComponents } from '../domain/components.ts';
import { AppError } from '../errors.ts';
import { keyedHash, linkToken, newHandle, readLinkToken, type LinkPurpose } from '../subscribers/links.ts';
import { operator, type Deps } from './deps.ts';
import { problemsOf } from './schemas.ts';
import { inTransaction, type Command, type Work } from './unit-of-work.ts';

/**
 * Email subscribers (docs/subscribers.md): double opt-in from the status page, per component,
 * managed and left through links in every mail. Nothing is mailed before the address is
 * confirmed; the answer to a sign-up never says whether the address was already subscribed; an
 * unsubscribed address is removed (the audit says that it happened, not who). Mails are queued
 * here, in the same transaction, and sent by the mail dispatcher (src/mail/dispatcher.ts).
 */

/** Sign-ups allowed per address and per client in RATE_WINDOW_MS. */
export const RATE_LIMITS = { address: 3, client: 20 } as const;
const RATE_WINDOW_MS = 60 * 60 * 1000;
/** The confirmation link's life. */
export const CONFIRM_VALID_MS = 7 * 86_400_000;

/** Who the audit names for a visitor's own actions (no address: the subscriber's id is the target). */
const VISITOR = operator('subscriber');

export interface SubscriberView {
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

export function subscriberView(row: SubscriberRow): SubscriberView {
  return {
    id: row.id,
    email: row.email ?? '',
    components: row.components,
    state: row.bounced_at ? 'bounced' : row.confirmed_at ? 'confirmed' : 'pending',
    source: row.source,
    created_at: row.created_at.toISOString(),
    confirmed_at: row.confirmed_at?.toISOString() ?? null,
    bounced_at: row.bounced_at?.toISOString() ?? null,
    bounce_reason: row.bounce_reason,
  };
}

/** An address as people type them: trimmed; refused when it cannot be one (no @, spaces, no dot in the domain…). */
const email = z
  .string({ message: 'must be an email address' })
  .trim()
  .max(254, 'must be at most 254 characters')
  .pipe(z.email({ message: 'is not an email address (such as ops@example.com)' }));

function componentsSchema(live: readonly string[]) {
  return z
    .array(z.string({ message: 'must be a component' }), { message: 'must be a list of components' })
    .superRefine((list, ctx) => {
      list.forEach((c, i) => {
        if (!live.includes(c)) ctx.addIssue({ code: 'custom', path: [i], message: `unknown component "${c}" (known: ${live.join(', ')})` });
      });
    })
    // None chosen, or all of them: every component, including those added later.
    .transform((list) => (list.length === 0 || live.every((c) => list.includes(c)) ? null : [...new Set(list)]));
}

async function liveSlugs(w: Work | Deps): Promise<string[]> {
  return liveComponents(await loadCatalog(w.db)).map((c) => c.slug);
}

function parse<S extends z.ZodType>(schema: S, body: unknown): z.output<S> {
  const result = schema.safeParse(body, { reportInput: true });
  if (!result.success) throw new AppError('subscriber.invalid_input', 'The request is not valid.', problemsOf(result.error));
  return result.data;
}

/**
 * A visitor asks to be told: `{email, components?}`. Queues a confirmation (or, for an address
 * already confirmed, a mail with its manage link) and says nothing of which. Rate-limited per
 * address and per client (`client`: the visitor's IP as the route reads it).
 */
export async function subscribe(deps: Deps, body: unknown, client: string): Promise<void> {
  const now = deps.clock.now();
  const live = await liveSlugs(deps);
  const input = parse(z.object({ email, components: componentsSchema(live).prefault([]) }), body);
  const emailKey = input.email.toLowerCase();
  await inTransaction(deps, { actor: VISITOR }, now, async (w) => {
    const since = new Date(now.getTime() - RATE_WINDOW_MS);
    const addressKey = await keyedHash(w.db, now, `address:${emailKey}`);
    const clientKey = await keyedHash(w.db, now, `client:${client}`);
    if ((await q.attemptsSince(w.db, 'client', clientKey, since)) >= RATE_LIMITS.client || (await q.attemptsSince(w.db, 'address', addressKey, since)) >= RATE_LIMITS.address) {
      throw new AppError('subscriber.rate_limited', 'Too many sign-ups from here or for this address. Please try again in an hour.');
    }
    await q.recordAttempt(w.db, 'address', addressKey, now);
    await q.recordAttempt(w.db, 'client', clientKey, now);
    await q.pruneAttempts(w.db, since);
    await q.lockAddress(w.db, emailKey);
    const existing = await q.findByEmail(w.db, emailKey);
    const components = input.components === null ? null : JSON.stringify(input.components);
    if (!existing) {
      const row = await q.insertSubscriber(w.db, { handle: newHandle(), email: input.email, email_key: emailKey, components, source: 'page', created_at: now, confirmed_at: null });
      await w.audit('subscriber.create', `subscriber:${row.id}`, { after: { components: input.components, source: 'page' } });
      await q.queueMail(w.db, { subscriber_id: row.id, kind: 'confirm', notice_id: null, created_at: now, next_attempt_at: now });
    } else if (existing.confirmed_at && !existing.bounced_at) {
      // Already subscribed: an unconfirmed request changes nothing; the owner gets the manage link.
      await q.queueMail(w.db, { subscriber_id: existing.id, kind: 'welcome', notice_id: null, created_at: now, next_attempt_at: now });
    } else {
      await q.updateSubscriber(w.db, existing.id, { components, confirmed_at: null, bounced_at: null, bounce_reason: null });
      await q.queueMail(w.db, { subscriber_id: existing.id, kind: 'confirm', notice_id: null, created_at: now, next_attempt_at: now });
    }
  });
  deps.queued?.();
}

/** The subscriber a link names, for `purpose`, locked; a wrong, expired or spent link is a 404. */
async function byLink(w: Work, token: string, purposes: readonly LinkPurpose[]): Promise<SubscriberRow> {
  for (const purpose of purposes) {
    const handle = await readLinkToken(w.db, w.now, token, purpose);
    if (handle === undefined) continue;
    const row = await q.findByHandle(w.db, handle, { lock: true });
    if (row && row.email !== null) return row;
  }
  throw new AppError('subscriber.link_invalid', 'This link is not valid: it may have expired, or the subscription was removed.');
}

/** The confirmation link: the subscription starts. Confirming twice is not an error. Answers the manage token. */
export async function confirm(deps: Deps, token: string): Promise<{ readonly manage: string; readonly subscriber: SubscriberView }> {
  const now = deps.clock.now();
  const { value } = await inTransaction(deps, { actor: VISITOR }, now, async (w) => {
    const row = await byLink(w, token, ['confirm']);
    const confirmed = row.confirmed_at ? row : await q.updateSubscriber(w.db, row.id, { confirmed_at: now });
    if (!row.confirmed_at) await w.audit('subscriber.confirm', `subscriber:${row.id}`);
    return { manage: await linkToken(w.db, now, row.handle, 'manage'), subscriber: subscriberView(confirmed) };
  });
  return value;
}

/** What the manage page shows. */
export async function managed(deps: Deps, token: string): Promise<{ readonly subscriber: SubscriberView; readonly components: readonly { slug: string; name: string }[] }> {
  const now = deps.clock.now();
  const { value } = await inTransaction(deps, { actor: VISITOR }, now, async (w) => {
    const row = await byLink(w, token, ['manage']);
    return { subscriber: subscriberView(row), components: w.config.environments.map((e) => ({ slug: e.slug, name: e.name })) };
  });
  return value;
}

/** The manage page's form: the components to follow (none or all: every one). */
export async function changeComponents(deps: Deps, token: string, body: unknown): Promise<SubscriberView> {
  const now = deps.clock.now();
  const { value } = await inTransaction(deps, { actor: VISITOR }, now, async (w) => {
    const row = await byLink(w, token, ['manage']);
    const { components } = parse(z.object({ components: componentsSchema(w.config.environments.map((e) => e.slug)) }), body);
    const after = await q.updateSubscriber(w.db, row.id, { components: components === null ? null : JSON.stringify(components) });
    await w.audit('subscriber.update', `subscriber:${row.id}`, { before: { components: row.components }, after: { components } });
    return subscriberView(after);
  });
  return value;
}

/** Removes the address; mails not yet sent are dropped. From the manage page, a mail's link, or RFC 8058's one-click POST. */
export async function unsubscribe(deps: Deps, token: string): Promise<void> {
  const now = deps.clock.now();
  await inTransaction(deps, { actor: VISITOR }, now, async (w) => {
    const row = await byLink(w, token, ['unsubscribe', 'manage']);
    await forget(w, row, 'subscriber.unsubscribe');
  });
}

async function forget(w: Work, row: SubscriberRow, action: string): Promise<void> {
  await q.updateSubscriber(w.db, row.id, { email: null, email_key: null, unsubscribed_at: w.now });
  await q.dropPending(w.db, row.id, w.now, 'unsubscribed');
  await w.audit(action, `subscriber:${row.id}`, { before: { state: subscriberView(row).state, components: row.components } });
}

// ---- commanders ----------------------------------------------------------------------------

export async function listSubscribers(deps: Deps): Promise<{ readonly count: number; readonly confirmed: number; readonly subscribers: readonly SubscriberView[] }> {
  const rows = (await q.listSubscribers(deps.db)).map(subscriberView);
  return { count: rows.length, confirmed: rows.filter((r) => r.state === 'confirmed').length, subscribers: rows };
}

/** One subscriber with an address (a removed one is not found). */
export async function getSubscriber(deps: Deps, id: number): Promise<SubscriberView> {
  const row = await q.findById(deps.db, id);
  if (!row || row.email === null) throw new AppError('subscriber.not_found', `Subscriber ${id} was not found.`);
  return subscriberView(row);
}

/** CSV (RFC 4180) of every subscriber: email, state, components (space-separated; empty: all), dates. */
export async function exportCsv(deps: Deps): Promise<string> {
  const cell = (v: string) => (/[",\r\n]/.test(v) || /^[=+\-@]/.test(v) ? `"${(/^[=+\-@]/.test(v) ? `'${v}` : v).replace(/"/g, '""')}"` : v);
  const lines = [['email', 'state', 'components', 'created_at', 'confirmed_at'].join(',')];
  for (const s of (await listSubscribers(deps)).subscribers) {
    lines.push([s.email, s.state, (s.components ?? []).join(' '), s.created_at, s.confirmed_at ?? ''].map(cell).join(','));
  }
  return `${lines.join('\r\n')}\r\n`;
}

/**
 * Imports confirmed addresses (a list moving from another status page): `{subscribers: [{email,
 * components?}]}`, or CSV text with an `email` column (and optionally `components`). No
 * confirmation mail is sent. All or nothing: one 400 lists every bad row. Addresses already
 * subscribed are counted and left as they are.
 */
export async function importSubscribers(deps: Deps, command: Command, body: unknown): Promise<{ readonly imported: number; readonly existing: number }> {
  const now = deps.clock.now();
  const { value } = await inTransaction(deps, command, now, async (w) => {
    const live = w.config.environments.map((e) => e.slug);
    const rows = typeof body === 'string' ? csvRows(body) : body;
    const input = parse(
      z.strictObject({ subscribers: z.array(z.strictObject({ email, components: componentsSchema(live).prefault([]) }), { message: 'must be a list of {email, components?}' }).max(100_000, 'at most 100,000 at once') }),
      rows,
    );
    let imported = 0;
    let existing = 0;
    const seen = new Set<string>();
    for (const s of input.subscribers) {
      const key = s.email.toLowerCase();
      if (seen.has(key)) continue;
      seen.add(key);
      await q.lockAddress(w.db, key);
      const found = await q.findByEmail(w.db, key);
      if (found) {
        existing++;
        continue;
      }
      await q.insertSubscriber(w.db, { handle: newHandle(), email: s.email, email_key: key, components: s.components === null ? null : JSON.stringify(s.components), source: 'import', created_at: now, confirmed_at: now });
      imported++;
    }
    await w.audit('subscriber.import', 'subscribers', { after: { imported, existing } });
    return { imported, existing };
  });
  return value;
}

/** CSV with a header row naming `email` (and optionally `components`, space-separated) into the import's shape. */
function csvRows(text: string): unknown {
  const records = parseCsv(text);
  const [header, ...rest] = records;
  const names = (header ?? []).map((h) => h.trim().toLowerCase());
  const at = names.indexOf('email');
  const comp = names.indexOf('components');
  if (at === -1) throw new AppError('subscriber.invalid_input', 'The request is not valid.', [{ path: 'subscribers', message: 'the CSV needs a header row naming an "email" column (and optionally "components"): email,components' }]);
  return {
    subscribers: rest
      .filter((r) => r.some((c) => c.trim() !== ''))
      .map((r) => ({ email: r[at] ?? '', ...(comp !== -1 && (r[comp] ?? '').trim() !== '' ? { components: (r[comp] ?? '').trim().split(/\s+/) } : {}) })),
  };
}

/** RFC 4180: quoted fields, doubled quotes, CRLF or LF. */
function parseCsv(text: string): string[][] {
  const out: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      row.push(field);
      field = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      out.push(row);
      row = [];
      field = '';
    } else field += ch;
  }
  if (field !== '' || row.length > 0) {
    row.push(field);
    out.push(row);
  }
  return out;
}

/** A commander removes a subscriber: the address is gone, the audit says who removed whom (by id). */
export async function removeSubscriber(deps: Deps, command: Command, id: number): Promise<void> {
  await inTransaction(deps, command, deps.clock.now(), async (w) => {
    const row = await q.findById(w.db, id, { lock: true });
    if (!row || row.email === null) throw new AppError('subscriber.not_found', `Subscriber ${id} was not found.`);
    await forget(w, row, 'subscriber.remove');
  });
}

/** The links a subscriber's mails carry. */
export async function linksOf(deps: Pick<Deps, 'db' | 'config'>, now: Date, handle: string) {
  const base = deps.config.publicUrl.replace(/\/+$/, '');
  const manage = await linkToken(deps.db, now, handle, 'manage');
  const unsubscribe = await linkToken(deps.db, now, handle, 'unsubscribe');
  return {
    manageUrl: `${base}/subscriptions/${manage}`,
    unsubscribeUrl: `${base}/subscriptions/unsubscribe/${unsubscribe}`,
    oneClickUrl: `${base}/subscriptions/unsubscribe/${unsubscribe}`,
  };
}

/** The confirmation link of a sign-up queued at `queuedAt` (valid 7 days from then, the same on every retry). */
export async function confirmUrlOf(deps: Pick<Deps, 'db' | 'config'>, now: Date, handle: string, queuedAt: Date): Promise<string> {
  const token = await linkToken(deps.db, now, handle, 'confirm', new Date(queuedAt.getTime() + CONFIRM_VALID_MS));
  return `${deps.config.publicUrl.replace(/\/+$/, '')}/subscriptions/confirm/${token}`;
}
