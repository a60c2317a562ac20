import type { Kysely } from 'kysely';
import type { Clock } from '../clock.ts';
import type { Config } from '../config.ts';
import { loadCatalog, pageIdOf } from '../db/queries/environments.ts';
import { openIncidents } from '../db/queries/incidents.ts';
import { tryFanOutLock } from '../db/queries/system.ts';
import * as q from '../db/queries/webhooks.ts';
import type { Database, WebhookSubscriptionRow } from '../db/schema.ts';
import { liveComponents, withCatalog } from '../domain/components.ts';
import { impactOf, topLevelStatus } from '../domain/statuspage.ts';
import { isActive } from '../domain/timeline.ts';
import { worstStatus } from '../domain/vocabulary.ts';
import { incidentViews } from '../services/read-model.ts';
import { renderNotice } from './formats.ts';
import type { Notice } from './notice.ts';
import type { Attempt, Destination } from './address-policy.ts';
import { signatureHeaders } from './signing.ts';
import { CUT, untilCut } from './loop.ts';

/** Sends one request: the Node sender (DNS checked and pinned) or the Workers one (fetch). */
export type Sender = (dest: Destination) => Promise<Attempt>;

export interface DispatcherDeps {
  readonly db: Kysely<Database>;
  readonly clock: Clock;
  readonly config: Config;
  readonly send: Sender;
  /** This process's name in the attempt log and on leases. */
  readonly sender: string;
}

/**
 * After how many seconds a delivery that failed its n-th time (n from 1) is tried again, before
 * jitter: quick at first (a receiver restarting), then hours apart. Summed, the first ten span
 * about 24 hours; past that a subscription still failing is disabled (see DISABLE_AFTER).
 */
const RETRY_SECONDS = [5, 30, 120, 600, 1_800, 3_600, 7_200, 14_400, 28_800, 28_800] as const;

/** A subscription is disabled once its failures have lasted this long and number at least RETRY_SECONDS.length. */
const DISABLE_AFTER_MS = 24 * 3_600_000;

/** How long a sender holds a subscription; it stops taking new deliveries of it well before. */
const LEASE_MS = 60_000;
/** Subscriptions sent to at once (each in order, on its own). */
const PARALLEL = 16;
/** Deliveries sent per subscription per lease, so one busy subscription does not starve the rest. */
const PER_LEASE = 50;

function retryDelayMs(failedAttempts: number, random: () => number = Math.random): number {
  const base = RETRY_SECONDS[Math.min(failedAttempts, RETRY_SECONDS.length) - 1]! * 1_000;
  return Math.round(base * (0.8 + 0.4 * random()));
}

export interface Pass {
  readonly fannedOut: number;
  readonly attempted: number;
  readonly delivered: number;
  /** In how long something queued falls due (≤ 0: already); null when nothing is queued, or the pass was stopped. */
  readonly dueInMs: number | null;
}

/** `dueInMs` of a pass: from when the next thing falls due, by the dispatcher's clock. */
export function dueIn(due: Date | null, clock: Clock): number | null {
  return due === null ? null : due.getTime() - clock.now().getTime();
}

/**
 * Sends the outbox: fans new notices out into deliveries, then sends what is due, at least once,
 * in order per subscription, logging every attempt. Safe with many instances on one Postgres:
 * notices are fanned out by one instance at a time (an advisory try-lock), and a subscription is leased by one
 * sender at a time. A pass never throws for a receiver's sake; a database error ends the pass
 * (the loop retries it) with every acknowledged attempt already recorded.
 */
export class Dispatcher {
  readonly #deps: DispatcherDeps;

  constructor(deps: DispatcherDeps) {
    this.#deps = deps;
  }

  /**
   * One pass: fan out, then send until nothing leased is due, or until `stopping()` says the
   * process is shutting down (checked between deliveries: a backlog must not hold a shutdown).
   */
  async pass(stopping: () => boolean = () => false, cut?: AbortSignal): Promise<Pass> {
    const fannedOut = await this.#fanOut();
    let attempted = 0;
    let delivered = 0;
    while (!stopping()) {
      const now = this.#deps.clock.now();
      const leased = await q.leaseDue(this.#deps.db, now, new Date(now.getTime() + LEASE_MS), this.#deps.sender, PARALLEL);
      if (leased.length === 0) break;
      const results = await Promise.all(leased.map((s) => this.#drain(s, stopping, cut)));
      for (const r of results) {
        attempted += r.attempted;
        delivered += r.delivered;
      }
    }
    const dueInMs = stopping() ? null : dueIn(await q.nextDue(this.#deps.db), this.#deps.clock);
    return { fannedOut, attempted, delivered, dueInMs };
  }

  /** Makes the deliveries of notices not yet fanned out, oldest first, each notice in its own transaction. */
  async #fanOut(): Promise<number> {
    let done = 0;
    for (;;) {
      const n = await this.#deps.db.transaction().execute(async (trx) => {
        // Another instance is fanning out: it takes these notices too, in order.
        if (!(await tryFanOutLock(trx, 'webhooks'))) return 0;
        const notices = await q.lockUnfannedNotices(trx, 50);
        if (notices.length === 0) return 0;
        const now = this.#deps.clock.now();
        const page = await pageNow(trx, this.#deps.config, now);
        for (const notice of notices) await q.fanOut(trx, notice, page, now);
        return notices.length;
      });
      if (n === 0) return done;
      done += n;
    }
  }

  /** Sends a leased subscription's due deliveries in order; stops at the first failure (it blocks the rest until retried). */
  async #drain(subscription: WebhookSubscriptionRow, stopping: () => boolean, cut: AbortSignal | undefined): Promise<{ attempted: number; delivered: number }> {
    const { db, clock } = this.#deps;
    const leasedAt = clock.now().getTime();
    let attempted = 0;
    let delivered = 0;
    try {
      for (const delivery of await q.nextDeliveries(db, subscription.id, PER_LEASE)) {
        if (delivery.next_attempt_at.getTime() > clock.now().getTime() || clock.now().getTime() - leasedAt >= LEASE_MS / 2 || stopping()) break;
        const ok = await this.#attempt(subscription, delivery, cut);
        if (ok === CUT) break;
        attempted++;
        if (!ok) break;
        delivered++;
      }
    } finally {
      await q.releaseLease(db, subscription.id, this.#deps.sender);
    }
    return { attempted, delivered };
  }

  /** Sends one delivery and records the outcome; true when it was delivered. A cut send records nothing (CUT). */
  async #attempt(subscription: WebhookSubscriptionRow, delivery: q.Delivery, cut: AbortSignal | undefined): Promise<boolean | typeof CUT> {
    const { clock, config } = this.#deps;
    const notice = delivery.notice as Notice;
    const manageUrl = `${config.publicUrl}/console/webhooks/${subscription.id}`;
    const { contentType, body } = renderNotice(subscription.format, notice, { deliveryId: delivery.message_id, manageUrl });
    const at = clock.now();
    const secrets = [subscription.secret];
    if (subscription.previous_secret && subscription.previous_secret_until && subscription.previous_secret_until.getTime() > at.getTime()) secrets.push(subscription.previous_secret);
    const headers = { 'content-type': contentType, ...(await signatureHeaders({ id: delivery.message_id, timestamp: at, body, secrets })) };
    const attempt = await untilCut(this.#deps.send({ url: subscription.url, headers, body }), cut);
    // Stopping, and the receiver has not answered: it stays due, and the lease is handed back.
    if (attempt === CUT) return CUT;
    const failures = attempt.ok ? 0 : subscription.failures + 1;
    const failingSince = attempt.ok ? null : (subscription.failing_since ?? at);
    const retryAt = attempt.ok ? null : new Date(clock.now().getTime() + retryDelayMs(delivery.attempts + 1));
    const disable = !attempt.ok && failures >= RETRY_SECONDS.length && at.getTime() - failingSince!.getTime() >= DISABLE_AFTER_MS;
    const reason = disable ? `${failures} attempts in a row failed since ${failingSince!.toISOString()}; the last: ${attempt.error ?? 'no answer'}` : null;
    // A success after successes changes nothing of the subscription.
    const run = failures !== 0 || subscription.failures !== 0 ? { failures, failing_since: failingSince, disabled_reason: reason } : undefined;
    await q.recordAttempt(this.#deps.db, delivery, { at, status: attempt.status, latencyMs: attempt.latencyMs, error: attempt.error, excerpt: attempt.excerpt, sender: this.#deps.sender }, retryAt, run);
    // The lease keeps the row in hand; what it says of failures must follow what was recorded.
    Object.assign(subscription, { failures, failing_since: failingSince });
    return attempt.ok;
  }
}

/** The page as a notice names it, with its top-level status now (what Statuspage's webhooks carry). */
export async function pageNow(db: Kysely<Database>, config: Config, now: Date): Promise<Notice['page']> {
  const [catalog, id, rows] = await Promise.all([loadCatalog(db), pageIdOf(db), openIncidents(db)]);
  const live = withCatalog(config, catalog);
  const views = (await incidentViews(db, live, rows, now)).filter((v) => isActive(v.kind, v.state));
  const colours = liveComponents(catalog).map((c) => worstStatus(views.map((v) => v.statuses[c.slug] ?? 'green')));
  const impacts = views.filter((v) => v.kind === 'incident').map(impactOf);
  return { id, name: config.name, url: config.publicUrl, status: topLevelStatus(colours, impacts) };
}
