import { sql, type Kysely } from 'kysely';
import type { Clock } from '../clock.ts';
import type { Config } from '../config.ts';
import type { Database, MailDeliveryRow, SubscriberRow } from '../db/schema.ts';
import { tryFanOutLock } from '../db/queries/system.ts';
import { dueIn, pageNow, type Pass } from '../delivery/dispatcher.ts';
import { CUT, untilCut } from '../delivery/loop.ts';
import type { Notice, WebhookEvent } from '../delivery/notice.ts';
import { confirmUrlOf, linksOf } from '../services/subscribers.ts';
import { confirmationMail, isMailEvent, manageMail, updateMail, type MailSite, type OutgoingMail } from './message.ts';
import type { MailTransport } from './transport.ts';

/**
 * Sends subscribers their mail from the outbox the webhooks use (delivery/): each notice of an
 * incident or a maintenance becomes one queued mail per confirmed subscriber who follows one of
 * its components (a notice naming none goes to everyone), in the transaction that marks the
 * notice mailed; then the due mails are claimed in batches (`FOR UPDATE SKIP LOCKED`, a lease
 * in next_attempt_at, so instances share the work) and sent a few at a time. A failure is
 * retried with backoff for two days; a hard bounce marks the address and nothing more goes to
 * it. A pass never throws for the SMTP server's sake; a database error ends the pass, and every
 * mail sent before it is recorded.
 */

export interface MailDispatcherDeps {
  readonly db: Kysely<Database>;
  readonly clock: Clock;
  readonly config: Config;
  readonly transport: MailTransport;
  readonly site: MailSite;
  /** Mails sent at once (match the SMTP pool's connections). */
  readonly concurrency?: number;
  /** Mails claimed per batch. */
  readonly batch?: number;
}

/**
 * A claimed mail is another sender's again after this long (a sender that died mid-batch). Longer
 * than a batch can take: 50 mails, 5 at a time, each at most the SMTP deadline (60 s) is 10 min.
 */
const LEASE_MS = 15 * 60_000;
/** Retries: 30 s doubling to 1 h, ±20 %; given up after two days. */
const GIVE_UP_MS = 2 * 86_400_000;

/** A batch's subscribers and notices, and the subscribers found bounced while it is sent. */
interface BatchContext {
  readonly subscribers: ReadonlyMap<number, SubscriberRow>;
  readonly notices: ReadonlyMap<number, Notice>;
  readonly bounced: Set<number>;
}

function retryDelayMs(attempts: number): number {
  const base = Math.min(3_600_000, 30_000 * 2 ** Math.max(0, attempts - 1));
  return Math.round(base * (0.8 + Math.random() * 0.4));
}

export class MailDispatcher {
  readonly #deps: MailDispatcherDeps;

  constructor(deps: MailDispatcherDeps) {
    this.#deps = deps;
  }

  async pass(stopping: () => boolean = () => false, cut?: AbortSignal): Promise<Pass> {
    const fannedOut = await this.fanOut();
    let attempted = 0;
    let delivered = 0;
    for (;;) {
      if (stopping()) break;
      const batch = await this.#claim();
      if (batch.length === 0) break;
      const results = await this.#sendAll(batch, stopping, cut);
      attempted += results.length;
      delivered += results.filter(Boolean).length;
    }
    const dueInMs = stopping() ? null : dueIn(await this.#nextDue(), this.#deps.clock);
    return { fannedOut, attempted, delivered, dueInMs };
  }

  /** Queues the mails of notices not yet mailed; how many notices it took. */
  async fanOut(): Promise<number> {
    const { db, clock } = this.#deps;
    return db.transaction().execute(async (trx) => {
      // As the webhooks' fan-out: one instance at a time, and no notice skipped (see lockUnfannedNotices).
      if (!(await tryFanOutLock(trx, 'mail'))) return 0;
      const notices = await trx.selectFrom('outbox_notices').select(['id', 'type']).where('mailed_at', 'is', null).orderBy('id').limit(50).forUpdate().execute();
      if (notices.length === 0) return 0;
      const now = clock.now();
      const mailed = notices.filter((n) => isMailEvent(n.type as WebhookEvent)).map((n) => n.id);
      // Each notice's slugs are listed once (the CTE), not once per subscriber it is matched against.
      if (mailed.length > 0) {
        await sql`
          insert into mail_deliveries (subscriber_id, kind, notice_id, created_at, next_attempt_at)
          with n as materialized (
            select id, jsonb_array_length(environments) = 0 as everyone, array(select jsonb_array_elements_text(environments)) as slugs
            from outbox_notices where id in (${sql.join(mailed)}))
          select s.id, 'notice', n.id, ${now}, ${now}
          from n
          join subscribers s on s.email is not null and s.confirmed_at is not null and s.bounced_at is null
            and (s.components is null or n.everyone or s.components ?| n.slugs)
          on conflict (subscriber_id, notice_id) do nothing`.execute(trx);
      }
      // The page's status as of now, as the webhooks' fan-out adds it, unless it did first.
      const page = JSON.stringify(await pageNow(trx, this.#deps.config, now));
      await sql`
        update outbox_notices set mailed_at = ${now},
          notice = case when notice ? 'page' then notice else notice || jsonb_build_object('page', ${page}::jsonb) end
        where id in (${sql.join(notices.map((n) => n.id))})`.execute(trx);
      return notices.length;
    });
  }

  /** The earliest queued mail's next attempt (a claimed one's: its lease's end); now if a notice is still to be mailed. */
  async #nextDue(): Promise<Date | null> {
    const { rows } = await sql<{ due: Date | null; unmailed: boolean }>`
      select (select min(next_attempt_at) from mail_deliveries where delivered_at is null and failed_at is null) as due,
             exists (select 1 from outbox_notices where mailed_at is null) as unmailed`.execute(this.#deps.db);
    const row = rows[0]!;
    return row.unmailed ? new Date(0) : row.due && new Date(row.due);
  }

  async #claim(): Promise<MailDeliveryRow[]> {
    const { db, clock, batch = 50 } = this.#deps;
    const now = clock.now();
    const leased = new Date(now.getTime() + LEASE_MS);
    return db
      .updateTable('mail_deliveries')
      .set({ next_attempt_at: leased })
      .where('id', 'in', (eb) =>
        eb
          .selectFrom('mail_deliveries')
          .select('id')
          .where('delivered_at', 'is', null)
          .where('failed_at', 'is', null)
          .where('next_attempt_at', '<=', now)
          .orderBy('next_attempt_at')
          .orderBy('id')
          .limit(batch)
          .forUpdate()
          .skipLocked(),
      )
      .returningAll()
      .execute()
      // RETURNING keeps no order: the queue's is the ids'.
      .then((rows) => rows.sort((a, b) => a.id - b.id));
  }

  /**
   * Sends a claimed batch; the outcome of each mail tried. Once `stopping()`, no more mail is
   * started, and what was not sent (nor a cut send's) is handed back due, not left claimed for
   * LEASE_MS.
   */
  async #sendAll(batch: readonly MailDeliveryRow[], stopping: () => boolean, cut: AbortSignal | undefined): Promise<boolean[]> {
    const concurrency = this.#deps.concurrency ?? 5;
    const context = await this.#contextOf(batch);
    // One subscriber's mails go one after another, in the order they were queued (an incident's
    // "Investigating" before its "Resolved"); different subscribers' go side by side.
    const bySubscriber = new Map<number, MailDeliveryRow[]>();
    for (const d of batch) bySubscriber.set(d.subscriber_id, [...(bySubscriber.get(d.subscriber_id) ?? []), d]);
    const queues = [...bySubscriber.values()];
    const results: boolean[] = [];
    const done = new Set<number>();
    let next = 0;
    const worker = async () => {
      while (next < queues.length && !stopping()) {
        for (const delivery of queues[next++]!) {
          if (stopping()) break;
          const result = await this.#sendOne(delivery, context, cut);
          if (result === CUT) break;
          results.push(result);
          done.add(delivery.id);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, queues.length) }, worker));
    const left = batch.filter((d) => !done.has(d.id)).map((d) => d.id);
    if (left.length) await this.#deps.db.updateTable('mail_deliveries').set({ next_attempt_at: this.#deps.clock.now() }).where('id', 'in', left).where('delivered_at', 'is', null).where('failed_at', 'is', null).execute();
    return results;
  }

  /**
   * What a batch's mails are made of, read with one query each rather than two per mail: the
   * subscribers (read as the batch starts, so one who leaves while it is sent may still get its
   * mail, as one who left a moment later would) and the notices.
   */
  async #contextOf(batch: readonly MailDeliveryRow[]): Promise<BatchContext> {
    const { db } = this.#deps;
    const subscriberIds = [...new Set(batch.map((d) => d.subscriber_id))];
    const noticeIds = [...new Set(batch.flatMap((d) => (d.notice_id === null ? [] : [d.notice_id])))];
    const [subscribers, notices] = await Promise.all([
      db.selectFrom('subscribers').selectAll().where('id', 'in', subscriberIds).execute(),
      noticeIds.length ? db.selectFrom('outbox_notices').select(['id', 'notice']).where('id', 'in', noticeIds).execute() : [],
    ]);
    return { subscribers: new Map(subscribers.map((s) => [s.id, s])), notices: new Map(notices.map((n) => [n.id, n.notice as Notice])), bounced: new Set() };
  }

  /** One mail: composed, sent, and the outcome recorded. True when the server took it; CUT (nothing recorded) when the send was cut. */
  async #sendOne(d: MailDeliveryRow, context: BatchContext, cut: AbortSignal | undefined): Promise<boolean | typeof CUT> {
    const { db, clock, transport } = this.#deps;
    const subscriber = context.subscribers.get(d.subscriber_id);
    const bounced = (subscriber !== undefined && subscriber.bounced_at !== null) || context.bounced.has(d.subscriber_id);
    if (!subscriber || subscriber.email === null || bounced) {
      await db.updateTable('mail_deliveries').set({ failed_at: clock.now(), last_error: bounced ? 'the address bounced' : 'unsubscribed' }).where('id', '=', d.id).execute();
      return false;
    }
    const mail = await this.#compose(d, subscriber.email, subscriber.handle, subscriber.components, context.notices);
    if (mail === null) {
      await db.updateTable('mail_deliveries').set({ failed_at: clock.now(), last_error: 'nothing to send' }).where('id', '=', d.id).execute();
      return false;
    }
    const result = await untilCut(transport.send(mail), cut);
    if (result === CUT) return CUT;
    const now = clock.now();
    if (result.ok) {
      await db.updateTable('mail_deliveries').set({ delivered_at: now, attempts: d.attempts + 1, last_error: null }).where('id', '=', d.id).execute();
      return true;
    }
    const attempts = d.attempts + 1;
    const giveUp = result.permanent || now.getTime() - d.created_at.getTime() > GIVE_UP_MS;
    await db.transaction().execute(async (trx) => {
      await trx
        .updateTable('mail_deliveries')
        .set(giveUp ? { failed_at: now, attempts, last_error: result.error.slice(0, 500) } : { attempts, last_error: result.error.slice(0, 500), next_attempt_at: new Date(now.getTime() + retryDelayMs(attempts)) })
        .where('id', '=', d.id)
        .execute();
      if (result.permanent) {
        context.bounced.add(d.subscriber_id);
        await trx.updateTable('subscribers').set({ bounced_at: now, bounce_reason: result.error.slice(0, 500) }).where('id', '=', d.subscriber_id).execute();
        await trx
          .updateTable('mail_deliveries')
          .set({ failed_at: now, last_error: 'the address bounced' })
          .where('subscriber_id', '=', d.subscriber_id)
          .where('delivered_at', 'is', null)
          .where('failed_at', 'is', null)
          .execute();
      }
    });
    return false;
  }

  async #compose(d: MailDeliveryRow, email: string, handle: string, components: readonly string[] | null, notices: ReadonlyMap<number, Notice>): Promise<OutgoingMail | null> {
    const { db, config, clock, site } = this.#deps;
    const now = clock.now();
    if (d.kind === 'confirm') {
      const names = components === null ? null : components.map((slug) => config.environments.find((e) => e.slug === slug)?.name ?? slug);
      return confirmationMail(email, await confirmUrlOf({ db, config }, now, handle, d.created_at), names, site);
    }
    const links = await linksOf({ db, config }, now, handle);
    if (d.kind === 'welcome') return manageMail(email, links.manageUrl, site, d.created_at);
    if (d.notice_id === null) return null;
    const notice = notices.get(d.notice_id);
    if (!notice) return null;
    return updateMail(notice, { email, ...links }, site);
  }
}
