import { sql, type Kysely, type Selectable } from 'kysely';
import type { Drafted } from '../../delivery/notices-of.ts';
import type { Database, WebhookAttemptRow, WebhookDeliveriesTable, WebhookSubscriptionRow } from '../schema.ts';

type Db = Kysely<Database>;

/** The notices a write sends: one insert, in the write's transaction. */
export async function insertNotices(db: Db, at: Date, drafted: readonly Drafted[]): Promise<void> {
  if (drafted.length === 0) return;
  await db
    .insertInto('outbox_notices')
    .values(drafted.map((d) => ({ created_at: at, type: d.draft.type, environments: JSON.stringify(d.environments), notice: JSON.stringify(d.draft), fanned_out_at: null })))
    .execute();
}

export interface NewSubscription {
  readonly url: string;
  readonly format: WebhookSubscriptionRow['format'];
  readonly events: readonly string[];
  readonly environments: readonly string[] | null;
  readonly description: string | null;
  readonly secret: string;
  readonly created_at: Date;
  readonly created_by: string;
}

export function insertSubscription(db: Db, s: NewSubscription): Promise<WebhookSubscriptionRow> {
  return db
    .insertInto('webhook_subscriptions')
    .values({ ...s, events: JSON.stringify(s.events), environments: s.environments === null ? null : JSON.stringify(s.environments), updated_at: s.created_at })
    .returningAll()
    .executeTakeFirstOrThrow();
}

export function listSubscriptions(db: Db): Promise<WebhookSubscriptionRow[]> {
  return db.selectFrom('webhook_subscriptions').selectAll().where('removed_at', 'is', null).orderBy('id').execute();
}

export function findSubscription(db: Db, id: number, options: { readonly lock?: boolean } = {}): Promise<WebhookSubscriptionRow | undefined> {
  let q = db.selectFrom('webhook_subscriptions').selectAll().where('id', '=', id).where('removed_at', 'is', null);
  if (options.lock) q = q.forUpdate();
  return q.executeTakeFirst();
}

export type SubscriptionChange = Partial<Omit<WebhookSubscriptionRow, 'id' | 'events' | 'environments'>> & { readonly events?: readonly string[]; readonly environments?: readonly string[] | null };

export function updateSubscription(db: Db, id: number, change: SubscriptionChange): Promise<WebhookSubscriptionRow> {
  const { events, environments, ...rest } = change;
  return db
    .updateTable('webhook_subscriptions')
    .set({
      ...rest,
      ...(events !== undefined ? { events: JSON.stringify(events) } : {}),
      ...(environments !== undefined ? { environments: environments === null ? null : JSON.stringify(environments) } : {}),
    })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** How many deliveries of each subscription are still to send. */
export async function pendingCounts(db: Db, ids: readonly number[]): Promise<Map<number, number>> {
  if (ids.length === 0) return new Map();
  const rows = await db
    .selectFrom('webhook_deliveries')
    .select(['subscription_id', (eb) => eb.fn.countAll<string | number>().as('n')])
    .where('subscription_id', 'in', ids)
    .where('delivered_at', 'is', null)
    .groupBy('subscription_id')
    .execute();
  return new Map(rows.map((r) => [r.subscription_id, Number(r.n)]));
}

/** Re-enabling: what is still due is sent now, from the oldest. */
export async function dueNow(db: Db, subscriptionId: number, now: Date): Promise<void> {
  await db.updateTable('webhook_deliveries').set({ next_attempt_at: now }).where('subscription_id', '=', subscriptionId).where('delivered_at', 'is', null).execute();
}

export interface AttemptLine extends WebhookAttemptRow {
  readonly message_id: string;
  readonly type: string;
}

/** The newest attempts of a subscription's deliveries, newest first. */
export function attemptsOf(db: Db, subscriptionId: number, limit: number): Promise<AttemptLine[]> {
  return db
    .selectFrom('webhook_attempts as a')
    .innerJoin('webhook_deliveries as d', 'd.id', 'a.delivery_id')
    .innerJoin('outbox_notices as n', 'n.id', 'd.notice_id')
    .selectAll('a')
    .select(['d.message_id', 'n.type'])
    .where('d.subscription_id', '=', subscriptionId)
    .orderBy('a.id', 'desc')
    .limit(limit)
    .execute();
}

// ---- the dispatcher's side ----

/**
 * The oldest notices not fanned out yet, locked. Not SKIP LOCKED: the mail dispatcher locks these
 * rows too while it marks them, and skipping one it holds would fan a later notice out first.
 * Fan-outs of one reader take turns (tryFanOutLock), so this waits only for the other reader.
 */
export function lockUnfannedNotices(db: Db, limit: number) {
  return db.selectFrom('outbox_notices').select(['id', 'created_at', 'type', 'environments', 'notice']).where('fanned_out_at', 'is', null).orderBy('id').limit(limit).forUpdate().execute();
}

/**
 * One delivery per subscription that wants this notice: not removed, made before the notice,
 * asking for its type, and following one of its components (or all; a notice that concerns no
 * component in particular goes to every subscription of its type). The notice gets its page.
 */
export async function fanOut(db: Db, notice: { readonly id: number; readonly created_at: Date; readonly type: string; readonly environments: readonly string[] }, page: unknown, now: Date): Promise<void> {
  const environments = JSON.stringify(notice.environments);
  await sql`
    insert into webhook_deliveries (message_id, subscription_id, notice_id, created_at, next_attempt_at)
    select 'msg_' || replace(gen_random_uuid()::text, '-', ''), s.id, ${notice.id}, ${now}, ${now}
    from webhook_subscriptions s
    where s.removed_at is null
      and s.created_at <= ${notice.created_at}
      and s.events ? ${notice.type}
      and (s.environments is null
        or jsonb_array_length(${environments}::jsonb) = 0
        or exists (select 1 from jsonb_array_elements_text(${environments}::jsonb) e where s.environments ? e))
    order by s.id
    on conflict (subscription_id, notice_id) do nothing`.execute(db);
  await sql`update outbox_notices set fanned_out_at = ${now}, notice = notice || jsonb_build_object('page', ${JSON.stringify(page)}::jsonb) where id = ${notice.id}`.execute(db);
}

/**
 * Leases up to `limit` subscriptions whose oldest undelivered delivery is due, so this sender
 * alone sends them (in order) until `until`; another instance skips them. The heads come from the
 * index of undelivered deliveries (empty when all is sent), longest waiting first, so under a
 * backlog every subscription gets its turn.
 */
export async function leaseDue(db: Db, now: Date, until: Date, sender: string, limit: number): Promise<WebhookSubscriptionRow[]> {
  const { rows } = await sql<WebhookSubscriptionRow>`
    update webhook_subscriptions s set lease_until = ${until}, lease_owner = ${sender}
    where s.id in (
      select c.id
      from webhook_subscriptions c
      join (select distinct on (d.subscription_id) d.subscription_id, d.next_attempt_at
            from webhook_deliveries d where d.delivered_at is null
            order by d.subscription_id, d.id) head on head.subscription_id = c.id
      where head.next_attempt_at <= ${now}
        and c.removed_at is null and c.disabled_at is null
        and (c.lease_until is null or c.lease_until < ${now})
      order by head.next_attempt_at, c.id
      limit ${limit}
      for update of c skip locked)
    returning s.*`.execute(db);
  return rows;
}

/**
 * When the next pass has something to do: the earliest head of a live subscription's queue (or
 * the end of another sender's lease on it, if later); now, if a notice is still to be fanned out
 * (another instance is at it); null if nothing is queued.
 */
export async function nextDue(db: Db): Promise<Date | null> {
  const { rows } = await sql<{ due: Date | null; unfanned: boolean }>`
    select (select min(greatest(head.next_attempt_at, coalesce(c.lease_until, head.next_attempt_at)))
            from webhook_subscriptions c
            join (select distinct on (d.subscription_id) d.subscription_id, d.next_attempt_at
                  from webhook_deliveries d where d.delivered_at is null
                  order by d.subscription_id, d.id) head on head.subscription_id = c.id
            where c.removed_at is null and c.disabled_at is null) as due,
           exists (select 1 from outbox_notices where fanned_out_at is null) as unfanned`.execute(db);
  const row = rows[0]!;
  return row.unfanned ? new Date(0) : row.due && new Date(row.due);
}

export function releaseLease(db: Db, id: number, sender: string) {
  return db.updateTable('webhook_subscriptions').set({ lease_until: null, lease_owner: null }).where('id', '=', id).where('lease_owner', '=', sender).execute();
}

export type Delivery = Selectable<WebhookDeliveriesTable> & { readonly notice: unknown };

/** A subscription's oldest undelivered deliveries, with their notices, oldest first. */
export function nextDeliveries(db: Db, subscriptionId: number, limit: number): Promise<Delivery[]> {
  return db
    .selectFrom('webhook_deliveries as d')
    .innerJoin('outbox_notices as n', 'n.id', 'd.notice_id')
    .selectAll('d')
    .select('n.notice')
    .where('d.subscription_id', '=', subscriptionId)
    .where('d.delivered_at', 'is', null)
    .orderBy('d.id')
    .limit(limit)
    .execute();
}

export interface AttemptRecord {
  readonly at: Date;
  readonly status: number | null;
  readonly latencyMs: number;
  readonly error: string | null;
  readonly excerpt: string;
  readonly sender: string;
}

/** What an attempt does to its subscription's run of failures (undefined: nothing). */
export interface FailureRun {
  readonly failures: number;
  readonly failing_since: Date | null;
  readonly disabled_reason: string | null;
}

/**
 * Logs one attempt, moves its delivery on (delivered, or due again at `retryAt`) and, when given,
 * sets the subscription's run of failures (a reason disables it): one statement, so all of it or
 * none is recorded, in one round trip.
 */
export async function recordAttempt(db: Db, delivery: { readonly id: number; readonly subscription_id: number }, attempt: AttemptRecord, retryAt: Date | null, run: FailureRun | undefined): Promise<void> {
  const logged = sql`
    insert into webhook_attempts (delivery_id, at, status, latency_ms, error, excerpt, sender)
    values (${delivery.id}, ${attempt.at}, ${attempt.status}, ${Math.round(attempt.latencyMs)}, ${attempt.error}, ${attempt.excerpt}, ${attempt.sender})`;
  const moved =
    retryAt === null
      ? sql`update webhook_deliveries set attempts = attempts + 1, delivered_at = ${attempt.at} where id = ${delivery.id}`
      : sql`update webhook_deliveries set attempts = attempts + 1, next_attempt_at = ${retryAt} where id = ${delivery.id}`;
  if (!run) {
    await sql`with logged as (${logged}) ${moved}`.execute(db);
    return;
  }
  // A failure ends the sender's turn with this subscription: the lease goes with the record, so a
  // sender killed right after it leaves nothing held for the next one to wait out.
  await sql`
    with logged as (${logged}), moved as (${moved})
    update webhook_subscriptions
    set failures = ${run.failures}, failing_since = ${run.failing_since},
        disabled_at = case when ${run.disabled_reason}::text is null then disabled_at else ${attempt.at} end,
        disabled_reason = coalesce(${run.disabled_reason}::text, disabled_reason),
        lease_until = case when ${retryAt === null} then lease_until end,
        lease_owner = case when ${retryAt === null} then lease_owner end
    where id = ${delivery.subscription_id}`.execute(db);
}

/** A notice for one subscription only ("send a test event"): made fanned out, with its delivery. */
export async function insertTestDelivery(db: Db, subscriptionId: number, notice: unknown, now: Date): Promise<string> {
  const { id } = await db
    .insertInto('outbox_notices')
    .values({ created_at: now, type: 'test', environments: '[]', notice: JSON.stringify(notice), fanned_out_at: now })
    .returning('id')
    .executeTakeFirstOrThrow();
  const row = await sql<{ message_id: string }>`
    insert into webhook_deliveries (message_id, subscription_id, notice_id, created_at, next_attempt_at)
    values ('msg_' || replace(gen_random_uuid()::text, '-', ''), ${subscriptionId}, ${id}, ${now}, ${now})
    returning message_id`.execute(db);
  return row.rows[0]!.message_id;
}

/** The first attempt at a delivery, if any was made. */
export async function attemptOf(db: Db, messageId: string) {
  const a = await db
    .selectFrom('webhook_attempts as a')
    .innerJoin('webhook_deliveries as d', 'd.id', 'a.delivery_id')
    .select(['a.at', 'a.status', 'a.latency_ms', 'a.error', 'a.excerpt'])
    .where('d.message_id', '=', messageId)
    .orderBy('a.id')
    .limit(1)
    .executeTakeFirst();
  return a ? { at: a.at.toISOString(), status: a.status, latency_ms: a.latency_ms, error: a.error, excerpt: a.excerpt } : undefined;
}
