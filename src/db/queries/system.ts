import { sql, type Kysely } from 'kysely';
import type { Database } from '../schema.ts';

type Db = Kysely<Database>;

/**
 * Statements about the database itself rather than Herald's data: advisory locks, transaction ids,
 * change notifications, the readiness ping and the Workers' data version.
 * Every lock Herald takes is named here, so two areas can never pick the same number.
 */
const LOCKS = { scheduler: 7460303, signin: 7460304, setup: 7460305, fanOut: 7460306, mailFanOut: 7460307 } as const;

/** Only one scheduler pass at a time across instances: false when another holds it. */
export async function trySchedulerLock(db: Db): Promise<boolean> {
  const { rows } = await sql<{ ok: boolean }>`select pg_try_advisory_xact_lock(${sql.lit(LOCKS.scheduler)}) as ok`.execute(db);
  return rows[0]?.ok === true;
}

/**
 * One fan-out at a time across instances, per outbox reader (`webhooks`, `mail`): false when
 * another is at it. Deliveries are sent in id order, so two instances fanning out at once could
 * number a later notice's delivery before an earlier one's.
 */
export async function tryFanOutLock(db: Db, reader: 'webhooks' | 'mail'): Promise<boolean> {
  const lock = reader === 'webhooks' ? LOCKS.fanOut : LOCKS.mailFanOut;
  const { rows } = await sql<{ ok: boolean }>`select pg_try_advisory_xact_lock(${sql.lit(lock)}) as ok`.execute(db);
  return rows[0]?.ok === true;
}

/** Sign-in attempts from one address (its rate key) take turns. */
export async function lockSigninKey(db: Db, key: string): Promise<void> {
  await sql`select pg_advisory_xact_lock(${sql.lit(LOCKS.signin)}, hashtext(${key}))`.execute(db);
}

/** Uses of the first-run setup link take turns, so exactly one first token is made. */
export async function lockSetup(db: Db): Promise<void> {
  await sql`select pg_advisory_xact_lock(${sql.lit(LOCKS.setup)})`.execute(db);
}

/** The running transaction's id, to ask later what became of it (`txid_status`). */
export async function currentTransactionId(db: Db): Promise<string | undefined> {
  const { rows } = await sql<{ xid: string }>`select txid_current()::text as xid`.execute(db);
  return rows[0]?.xid;
}

/** NOTIFY on `channel`, delivered to listeners when (and only if) the transaction commits. */
export async function notifyOnCommit(db: Db, channel: string, payload: string): Promise<void> {
  await sql`select pg_notify(${channel}, ${payload})`.execute(db);
}

/** Whether the database answers at all (readiness). */
export async function ping(db: Db): Promise<void> {
  await sql`select 1`.execute(db);
}

/** A token that changes with every write (an audit row) and every mode change. */
export async function publicDataVersion(db: Db): Promise<string> {
  const { rows } = await sql<{ a: number; m: number }>`select
      (select coalesce(max(id), 0) from audit_log) as a,
      (select coalesce(max(id), 0) from mode_changes) as m`.execute(db);
  const row = rows[0];
  return row ? `${row.a}:${row.m}` : '0:0';
}
