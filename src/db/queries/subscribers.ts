import { sql, type Kysely } from 'kysely';
import type { Database, MailDeliveryRow, SubscriberRow } from '../schema.ts';

type Db = Kysely<Database>;

export function findByHandle(db: Db, handle: string, options: { readonly lock?: boolean } = {}): Promise<SubscriberRow | undefined> {
  let q = db.selectFrom('subscribers').selectAll().where('handle', '=', handle);
  if (options.lock) q = q.forUpdate();
  return q.executeTakeFirst();
}

export function findById(db: Db, id: number, options: { readonly lock?: boolean } = {}): Promise<SubscriberRow | undefined> {
  let q = db.selectFrom('subscribers').selectAll().where('id', '=', id);
  if (options.lock) q = q.forUpdate();
  return q.executeTakeFirst();
}

/** The live subscription of an address (any case), locked. */
export function findByEmail(db: Db, emailKey: string): Promise<SubscriberRow | undefined> {
  return db.selectFrom('subscribers').selectAll().where('email_key', '=', emailKey).forUpdate().executeTakeFirst();
}

/** Serializes sign-ups of one address, so that two at once make one subscription. */
export async function lockAddress(db: Db, emailKey: string): Promise<void> {
  await sql`select pg_advisory_xact_lock(hashtext(${`subscriber:${emailKey}`}))`.execute(db);
}

export function insertSubscriber(db: Db, s: Omit<SubscriberRow, 'id' | 'components' | 'unsubscribed_at' | 'bounced_at' | 'bounce_reason'> & { components: string | null }): Promise<SubscriberRow> {
  return db.insertInto('subscribers').values(s).returningAll().executeTakeFirstOrThrow();
}

export function updateSubscriber(db: Db, id: number, values: Partial<Omit<SubscriberRow, 'id' | 'components'>> & { components?: string | null }): Promise<SubscriberRow> {
  return db.updateTable('subscribers').set(values).where('id', '=', id).returningAll().executeTakeFirstOrThrow();
}

/** Everyone with an address (confirmed or not), oldest first. */
export function listSubscribers(db: Db): Promise<SubscriberRow[]> {
  return db.selectFrom('subscribers').selectAll().where('email', 'is not', null).orderBy('id').execute();
}

export async function recordAttempt(db: Db, kind: 'address' | 'client', key: string, at: Date): Promise<void> {
  await db.insertInto('subscribe_attempts').values({ kind, key, at }).execute();
}

export async function attemptsSince(db: Db, kind: 'address' | 'client', key: string, since: Date): Promise<number> {
  const row = await db.selectFrom('subscribe_attempts').select((eb) => eb.fn.countAll<string>().as('n')).where('kind', '=', kind).where('key', '=', key).where('at', '>', since).executeTakeFirstOrThrow();
  return Number(row.n);
}

export async function pruneAttempts(db: Db, before: Date): Promise<void> {
  await db.deleteFrom('subscribe_attempts').where('at', '<', before).execute();
}

export async function queueMail(db: Db, d: Pick<MailDeliveryRow, 'subscriber_id' | 'kind' | 'notice_id' | 'created_at' | 'next_attempt_at'>): Promise<void> {
  await db.insertInto('mail_deliveries').values(d).execute();
}

/** Mails not sent yet to a subscriber who left: given up, so that nothing more goes out. */
export async function dropPending(db: Db, subscriberId: number, at: Date, why: string): Promise<void> {
  await db.updateTable('mail_deliveries').set({ failed_at: at, last_error: why }).where('subscriber_id', '=', subscriberId).where('delivered_at', 'is', null).where('failed_at', 'is', null).execute();
}
